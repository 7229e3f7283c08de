"""The few-shot benchmark's real-Omniglot path, on a small Omniglot-layout fixture the test makes itself
(nothing is downloaded): background alphabets → meta-training (less the validation alphabets), evaluation
alphabets → meta-test, and Lake et al.'s one-shot runs measured for every method. Numbers are meaningless."""

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
import torch
from _fewshot import one_thread
from PIL import Image, ImageDraw

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"

BACKGROUND = [f"Background{i}" for i in range(7)]  # 4 of them become validation alphabets
EVALUATION = ["EvalA", "EvalB"]
CHARACTERS, DRAWINGS = 3, 12


@pytest.fixture(scope="module")
def fewshot():
    spec = importlib.util.spec_from_file_location("reptile_edu_benchmarks_fewshot", BENCH / "fewshot.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def png(character: int, drawing: int) -> bytes:
    """A 105×105 Omniglot-style PNG: black strokes on white; a cross whose arms depend on the character,
    moved a little by the drawing (so drawings of one character differ)."""
    img = Image.new("1", (105, 105), 1)
    draw = ImageDraw.Draw(img)
    dx, dy = drawing % 4 - 2, drawing // 4 - 1
    a = 15 + 7 * (character % 10)
    draw.line((a + dx, 20 + dy, 105 - a + dx, 85 + dy), fill=0, width=4)
    draw.line((20 + dx, a + dy, 85 + dx, 105 - a + dy), fill=0, width=4)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def make_omniglot(root: Path) -> Path:
    """images_background/ and images_evaluation/ in the official layout, and all_runs/ with two 5-way runs."""
    index = 0
    for split, alphabets in (("images_background", BACKGROUND), ("images_evaluation", EVALUATION)):
        for alphabet in alphabets:
            for c in range(1, CHARACTERS + 1):
                folder = root / split / alphabet / f"character{c:02d}"
                folder.mkdir(parents=True)
                for d in range(1, DRAWINGS + 1):
                    (folder / f"{index:04d}_{d:02d}.png").write_bytes(png(index, d))
                index += 1
    for r in (1, 2):
        run = root / "all_runs" / f"run{r:02d}"
        (run / "training").mkdir(parents=True)
        (run / "test").mkdir()
        lines = []
        for c in range(1, 6):
            (run / "training" / f"class{c:02d}.png").write_bytes(png(30 + c, 0))
            (run / "test" / f"item{c:02d}.png").write_bytes(png(30 + c, 5))
            lines.append(f"run{r:02d}/test/item{c:02d}.png run{r:02d}/training/class{c:02d}.png")
        (run / "class_labels.txt").write_text("\n".join(lines) + "\n")
    return root


@one_thread()
def test_omniglot_path_trains_on_background_tests_on_evaluation_and_measures_lake_runs(fewshot, tmp_path):
    root = make_omniglot(tmp_path / "omniglot")
    out = tmp_path / "results"
    fewshot.main(["--omniglot", str(root), "--tiny", "--out", str(out)])
    [json_file] = out.glob("fewshot-omniglot-*-tiny.json")
    results = json.loads(json_file.read_text(encoding="utf-8"))
    data = results["data"]
    assert data["name"] == "omniglot" and data["lake_runs"] == 2
    # Background alphabets → meta-training and validation (disjoint); evaluation alphabets → meta-test.
    assert set(data["train"]["alphabets"]) | set(data["validation"]["alphabets"]) == set(BACKGROUND)
    assert not set(data["train"]["alphabets"]) & set(data["validation"]["alphabets"])
    assert len(data["validation"]["alphabets"]) == fewshot.VALIDATION_ALPHABETS
    assert set(data["test"]["alphabets"]) == set(EVALUATION) and data["test"]["classes"] == 6
    # 20-way needs 20 classes: with 6 meta-test classes only the 5-way settings run, and the runs (5-way here).
    table = results["results"]
    assert set(table) == {"5-way 1-shot", "5-way 5-shot", "Lake one-shot runs"}
    assert results["skipped_settings"] == ["20-way 1-shot"]
    for row in table.values():
        assert set(row) == set(fewshot.COLUMNS)
        assert all(0 <= r["accuracy"] <= 1 for r in row.values())
    runs = table["Lake one-shot runs"]
    assert all(r["episodes"] == 2 for r in runs.values())
    # Lake's items are new drawings of the run's characters; here a pixel copy up to a small shift.
    assert runs[fewshot.NN]["accuracy"] > 0.2
    assert set(results["training"]) == {"Reptile 5-way", "pre-training", "Prototypical Networks"}
    assert json_file.with_suffix(".md").read_text(encoding="utf-8").startswith("# Few-shot characters")
    assert "Lake one-shot runs" in json_file.with_suffix(".md").read_text(encoding="utf-8")


def test_omniglot_path_errors_are_clear(fewshot, tmp_path):
    with pytest.raises(SystemExit):
        fewshot.main(["--omniglot", str(tmp_path / "missing"), "--tiny", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        fewshot.main(["--train-seconds", "601", "--tiny", "--out", str(tmp_path)])


def test_validation_alphabets_are_held_out_of_meta_training(fewshot):
    images = torch.zeros(10, 2, 28, 28, dtype=torch.uint8)
    chars = fewshot.CharacterSet(
        images=images,
        alphabet_of=torch.arange(10) // 2,
        alphabets=tuple("abcde"),
        class_names=tuple(str(i) for i in range(10)),
    )
    train, validation = fewshot.hold_out_alphabets(chars, 2, seed=0)
    assert len(validation.alphabets) == 2 and len(train.alphabets) == 3
    assert set(train.class_names).isdisjoint(validation.class_names)
    assert train.num_classes + validation.num_classes == 10
    again, _ = fewshot.hold_out_alphabets(chars, 2, seed=0)
    assert again.class_names == train.class_names  # seeded
