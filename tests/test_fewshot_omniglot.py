"""Real-Omniglot loaders on small fabricated files in the exact official layouts; the optional download
is tested against a local HTTP server on 127.0.0.1 only, never the internet."""

import functools
import hashlib
import http.server
import io
import shutil
import threading
import zipfile

import pytest
import torch
from PIL import Image, ImageDraw

from reptile_edu import (
    EpisodeSampler,
    OmniglotError,
    download_omniglot,
    load_lake_runs,
    load_omniglot,
    nearest_neighbour_accuracy,
)


def drawing(box):
    """A 105×105 binary PNG like Omniglot's: white paper, one black rectangle of strokes at ``box``."""
    img = Image.new("1", (105, 105), 1)
    ImageDraw.Draw(img).rectangle(box, fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def box_of(index):
    """A distinct stroke position for each character index (and so a distinct 28×28 image)."""
    x = 4 + 13 * (index % 7)
    y = 4 + 13 * (index // 7)
    return (x, y, x + 25, y + 25)


LAYOUT = {
    "images_background": {"Alpha": 2, "Beta": 2},
    "images_evaluation": {"Gamma": 3},
}
DRAWINGS = 3


def make_official(root, zipped=()):
    """images_background/<Alphabet>/<characterNN>/<NNNN_DD>.png (and evaluation), optionally as zips."""
    index = 0
    for split, alphabets in LAYOUT.items():
        for alphabet, characters in alphabets.items():
            for c in range(1, characters + 1):
                folder = root / split / alphabet / f"character{c:02d}"
                folder.mkdir(parents=True)
                for d in range(1, DRAWINGS + 1):
                    (folder / f"{1000 + index:04d}_{d:02d}.png").write_bytes(drawing(box_of(index)))
                index += 1
        if split in zipped:
            zip_folder(root / split, root / f"{split}.zip")
    return root


def zip_folder(folder, target):
    """Zip ``folder`` with its own name as the top folder, like the official archives; remove the folder."""
    with zipfile.ZipFile(target, "w") as z:
        for path in sorted(folder.rglob("*")):
            z.write(path, path.relative_to(folder.parent).as_posix())
    shutil.rmtree(folder)


def test_official_folders_load_as_a_character_set(tmp_path):
    root = make_official(tmp_path)
    chars = load_omniglot(root, "background")
    assert chars.images.shape == (4, DRAWINGS, 28, 28) and chars.images.dtype == torch.uint8
    assert chars.alphabets == ("Alpha", "Beta")
    assert chars.class_names == ("Alpha/character01", "Alpha/character02", "Beta/character01", "Beta/character02")
    assert chars.alphabet_of.tolist() == [0, 0, 1, 1] and chars.test_alphabets == frozenset()
    # Black strokes become ink = 255, area-resized 105 → 28: the rectangle (4..29)² lands in pixels ≈ 1..7.
    first = chars.images[0, 0]
    assert first[2:7, 2:7].min() == 255 and first[10:, :].max() == 0 and first[:, 10:].max() == 0
    evaluation = load_omniglot(root, "test")
    assert evaluation.alphabets == ("Gamma",) and evaluation.test_alphabets == {"Gamma"}
    both = load_omniglot(root, "all")
    assert both.num_classes == 7
    assert both.split("train").class_names == chars.class_names
    assert both.split("test").alphabets == ("Gamma",)


def test_zip_files_give_the_same_set_as_folders(tmp_path):
    folders = load_omniglot(make_official(tmp_path / "a"), "all")
    zips = load_omniglot(make_official(tmp_path / "b", zipped=("images_background", "images_evaluation")), "all")
    assert not (tmp_path / "b" / "images_background").exists()
    assert torch.equal(folders.images, zips.images)
    assert folders.class_names == zips.class_names and folders.test_alphabets == zips.test_alphabets


def test_real_omniglot_gives_episodes_like_the_built_in_set(tmp_path):
    chars = load_omniglot(make_official(tmp_path), "background")
    ep = EpisodeSampler(chars, ways=3, shots=1, queries=2).episodes(4, torch.Generator().manual_seed(0))
    assert ep.x_support.shape == (4, 3, 1, 28, 28) and ep.x_query.shape == (4, 6, 1, 28, 28)
    # The drawings of a character are identical here, so nearest neighbour is always right.
    assert nearest_neighbour_accuracy(ep).tolist() == [1.0] * 4


def test_missing_path_names_what_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"neither .*images_background/ nor .*images_background\.zip exists"):
        load_omniglot(tmp_path, "background")
    with pytest.raises(FileNotFoundError, match=r"does not exist"):
        load_lake_runs(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("bad_path", "content", "pattern"),
    [
        ("Alpha/0001_01.png", "png", r"Alpha/0001_01\.png: not in the Omniglot layout"),
        ("Alpha/character01/notes.txt", b"hi", r"Alpha/character01/notes\.txt: not in the Omniglot layout"),
        ("Alpha/letterA/0001_01.png", "png", r"Alpha/letterA/0001_01\.png: not in the Omniglot layout"),
        ("Alpha/character01/0001_09.png", b"not a png", r"Alpha/character01/0001_09\.png: not a readable image"),
    ],
)
def test_wrong_layout_or_corrupt_image_names_the_file(tmp_path, bad_path, content, pattern):
    root = make_official(tmp_path)
    target = root / "images_background" / bad_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(drawing(box_of(0)) if content == "png" else content)
    if bad_path.endswith("0001_09.png"):  # keep every character at the same number of drawings
        (root / "images_background/Alpha/character01/1000_01.png").unlink()
    with pytest.raises(OmniglotError, match=pattern):
        load_omniglot(root, "background")


def test_uneven_drawings_name_the_character(tmp_path):
    root = make_official(tmp_path)
    (root / "images_background/Beta/character02/1003_02.png").unlink()
    with pytest.raises(OmniglotError, match=r"Beta/character02: 2 drawings, but the other characters have 3"):
        load_omniglot(root, "background")


def test_corrupt_zip_names_the_zip(tmp_path):
    (tmp_path / "images_background.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(OmniglotError, match=r"images_background\.zip: not a readable zip file"):
        load_omniglot(tmp_path)
    # A zip whose member is damaged (bad CRC) is caught too.
    root = make_official(tmp_path / "r", zipped=("images_background",))
    raw = bytearray((root / "images_background.zip").read_bytes())
    start = raw.find(b"IHDR")  # inside the first PNG's stored bytes
    raw[start + 20] ^= 0xFF
    (root / "images_background.zip").write_bytes(bytes(raw))
    with pytest.raises(OmniglotError, match=r"images_background\.zip"):
        load_omniglot(root)


# ---------------------------------------------------------------------------
# Lake et al.'s one-shot runs


def make_runs(root, runs=2, classes=3, mapping=(2, 0, 1)):
    for r in range(1, runs + 1):
        run = root / f"run{r:02d}"
        (run / "training").mkdir(parents=True)
        (run / "test").mkdir()
        lines = []
        for c in range(1, classes + 1):
            (run / "training" / f"class{c:02d}.png").write_bytes(drawing(box_of(c + 10 * r)))
        for i in range(1, classes + 1):
            c = mapping[i - 1] + 1
            (run / "test" / f"item{i:02d}.png").write_bytes(drawing(box_of(c + 10 * r)))
            lines.append(f"run{r:02d}/test/item{i:02d}.png run{r:02d}/training/class{c:02d}.png")
        (run / "class_labels.txt").write_text("\n".join(lines) + "\n")
    return root


def test_lake_runs_become_one_task_per_run(tmp_path):
    root = make_runs(tmp_path / "all_runs")
    runs = load_lake_runs(root)
    assert runs.num_tasks == 2 and runs.loss == "ce"
    assert runs.x_support.shape == (2, 3, 1, 28, 28) and runs.x_query.shape == (2, 3, 1, 28, 28)
    assert runs.y_support.tolist() == [[0, 1, 2]] * 2
    assert runs.y_query.tolist() == [[2, 0, 1]] * 2
    # Items are exact copies of their class's drawing here: nearest neighbour gets every run right.
    assert nearest_neighbour_accuracy(runs).tolist() == [1.0, 1.0]
    assert torch.equal(runs.x_query[0, 0], runs.x_support[0, 2])
    # The same runs inside a folder, or zipped with that folder on top, read the same.
    assert torch.equal(load_lake_runs(tmp_path).x_query, runs.x_query)
    zip_folder(root, tmp_path / "all_runs.zip")
    zipped = load_lake_runs(tmp_path / "all_runs.zip")
    assert torch.equal(zipped.x_support, runs.x_support) and torch.equal(zipped.y_query, runs.y_query)


def test_lake_run_errors_name_the_file_and_line(tmp_path):
    root = make_runs(tmp_path / "r1")
    (root / "run02" / "class_labels.txt").unlink()
    with pytest.raises(OmniglotError, match=r"run02/class_labels\.txt: missing"):
        load_lake_runs(root)
    root = make_runs(tmp_path / "r2")
    (root / "run01" / "class_labels.txt").write_text("run01/test/item01.png\n")
    with pytest.raises(OmniglotError, match=r"run01/class_labels\.txt, line 1: expected"):
        load_lake_runs(root)
    root = make_runs(tmp_path / "r3")
    (root / "run01" / "class_labels.txt").write_text("run01/test/item01.png run01/training/class09.png\n")
    with pytest.raises(OmniglotError, match=r"line 1: .*run01/training/class09\.png does not exist"):
        load_lake_runs(root)
    root = make_runs(tmp_path / "r4")
    (root / "run01" / "test" / "item02.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(OmniglotError, match=r"run01/test/item02\.png: not a readable image"):
        load_lake_runs(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(OmniglotError, match=r"no runNN/ folders found"):
        load_lake_runs(tmp_path / "empty")


# ---------------------------------------------------------------------------
# Download, from a local server only


@pytest.fixture
def local_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/served``; yields (base_url, served folder, request log)."""
    served = tmp_path / "served"
    served.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/omniglot", served, requests
    finally:
        server.shutdown()
        server.server_close()


def _serve_archive(tmp_path, served):
    make_official(tmp_path / "src", zipped=("images_background",))
    (served / "omniglot").mkdir()
    shutil.copy(tmp_path / "src" / "images_background.zip", served / "omniglot" / "images_background.zip")
    data = (served / "omniglot" / "images_background.zip").read_bytes()
    return {"images_background": "sha256:" + hashlib.sha256(data).hexdigest()}


def test_download_checks_the_checksum_and_is_not_repeated(tmp_path, local_server):
    base_url, served, requests = local_server
    checksums = _serve_archive(tmp_path, served)
    root = tmp_path / "data"
    (path,) = download_omniglot(root, ["images_background"], base_url=base_url, checksums=checksums)
    assert path == root / "images_background.zip" and path.exists()
    assert requests == ["/omniglot/images_background.zip"]
    assert list(root.iterdir()) == [path]  # no partial files left behind
    download_omniglot(root, ["images_background"], base_url=base_url, checksums=checksums)
    assert len(requests) == 1, "an archive with the right checksum is not downloaded again"
    assert load_omniglot(root, "background").num_classes == 4


def test_load_with_download_fetches_what_is_missing(tmp_path, local_server):
    base_url, served, requests = local_server
    checksums = _serve_archive(tmp_path, served)
    chars = load_omniglot(tmp_path / "fresh", "background", download=True, base_url=base_url, checksums=checksums)
    assert chars.num_classes == 4 and len(requests) == 1


def test_a_wrong_checksum_or_a_missing_file_is_an_error_and_leaves_nothing(tmp_path, local_server):
    base_url, served, _ = local_server
    _serve_archive(tmp_path, served)
    root = tmp_path / "data"
    wrong = {"images_background": "sha256:" + "0" * 64}
    with pytest.raises(OmniglotError, match=r"images_background\.zip: the download's checksum sha256:[0-9a-f]{64} "):
        download_omniglot(root, ["images_background"], base_url=base_url, checksums=wrong)
    assert list(root.iterdir()) == []
    with pytest.raises(OmniglotError, match=r"images_evaluation\.zip: download failed .*404"):
        download_omniglot(root, ["images_evaluation"], base_url=base_url, checksums={"images_evaluation": "md5:00"})
    assert list(root.iterdir()) == []
    with pytest.raises(ValueError, match=r"no checksum known for 'images_extra'"):
        download_omniglot(root, ["images_extra"], base_url=base_url)
