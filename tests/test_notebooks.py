"""The committed notebooks: the same code in three languages, aligned prose, one clean in-order run."""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks as nbtools  # noqa: E402

EN = sorted((ROOT / "notebooks" / "en").glob("*.ipynb"))
ALL = [p for lang in nbtools.LANGS for p in sorted((ROOT / "notebooks" / lang).glob("*.ipynb"))]
SETUP_CALLS = ("set_language()", "pick_device()", "budget()", "seed_everything(")


def test_there_are_lessons():
    assert EN, "notebooks/en has no lessons"


@pytest.mark.parametrize("en", EN, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["tr", "zh"])
def test_cells_line_up_and_each_notebook_records_its_language(en, lang):
    # The code cells themselves: tests/test_translation.py (the same program, text from the catalogs).
    other = ROOT / "notebooks" / lang / en.name
    assert other.exists(), f"{other.relative_to(ROOT)} is missing"
    a, b = nbtools.read(en), nbtools.read(other)
    assert [c.cell_type for c in b.cells] == [c.cell_type for c in a.cells]
    assert a.metadata[nbtools.METADATA_KEY] == {"language": "en"}
    assert b.metadata[nbtools.METADATA_KEY] == {"language": lang}


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_notebook_was_run_top_to_bottom_without_errors(path):
    nb = nbtools.read(path)
    assert nbtools.run_problems(nb) == []
    assert path.stat().st_size < 1_500_000, "outputs too large: lower the figure size or DPI"
    assert set(nb.metadata) <= set(nbtools.KEEP_NOTEBOOK_METADATA)


@pytest.mark.parametrize("path", EN, ids=lambda p: p.stem)
def test_lesson_shape(path):
    nb = nbtools.read(path)
    first_code = nbtools.code_cells(nb)[0]
    assert all(call in first_code for call in SETUP_CALLS), "the first code cell must be the set-up cell"
    assert nb.cells[0].cell_type == "markdown" and re.match(r"# \d\d · ", nb.cells[0].source)
    sources = [c.source for c in nb.cells]
    assert any("check_" in s for s in nbtools.code_cells(nb)), "a lesson ends with a checked exercise"
    assert any(s.startswith("### Solution") for s in sources if s), "…and a worked solution"


# Lessons whose teaching sections (issue 15: summary, questions, a prediction, folded solutions) are still to come.
TEACHING_PENDING: set[str] = set()
CHECKED = re.compile(r"\bcheck_\w+\(")


def _shown(cell) -> str:
    """Everything a code cell's outputs show, as text."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [str(v) for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return "".join(parts)


def _hidden(cell) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


@pytest.mark.parametrize("path", EN, ids=lambda p: p.stem)
def test_lesson_teaches_and_folds_its_solutions(path):
    """A summary, 3–5 questions with folded answers, a prediction before a code cell, exercises whose stubs
    run and fail their checker, and solutions after them: explanations folded (<details>), code folded in
    JupyterLab (source_hidden), each passing its checker in the committed run."""
    if path.stem[:2] in TEACHING_PENDING:
        pytest.skip("teaching sections not written yet (issue 15)")
    cells = nbtools.read(path).cells
    heads = [i for i, c in enumerate(cells) if c.cell_type == "markdown"]
    starts = {
        name: [i for i in heads if cells[i].source.startswith(name)]
        for name in ("## Summary", "## Check your understanding", "## Exercise", "## Solutions")
    }
    assert all(starts.values()), {name: bool(found) for name, found in starts.items()}
    summary, questions, exercises, solutions = (starts[name][0] for name in starts)
    assert summary < questions < exercises < solutions
    assert 3 <= cells[questions].source.count("<details>") <= 5, "3–5 questions, each with a folded answer"
    predictions = [i for i in heads if "**Predict before you run.**" in cells[i].source]
    assert predictions and all(cells[i + 1].cell_type == "code" for i in predictions), "a prediction before a cell"
    stubs = [c for c in cells[exercises:solutions] if c.cell_type == "code" and CHECKED.search(c.source)]
    answers = [c for c in cells[solutions:] if c.cell_type == "code" and CHECKED.search(c.source)]
    assert stubs and len(answers) >= len(stubs)
    assert all("✗" in _shown(c) for c in stubs), "every exercise stub runs, and its checker says ✗"
    assert all(_hidden(c) and "✓" in _shown(c) for c in answers), "every solution is folded and passes"
    assert all("<details>" in c.source for c in cells[solutions + 1 :] if c.source.startswith("### ")), (
        "solution explanations are folded"
    )


@pytest.mark.parametrize("en", EN, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["tr", "zh"])
def test_translations_fold_the_same_cells(en, lang):
    a, b = nbtools.read(en).cells, nbtools.read(ROOT / "notebooks" / lang / en.name).cells
    assert [_hidden(c) for c in b] == [_hidden(c) for c in a]
    assert [c.source.count("<details>") for c in b] == [c.source.count("<details>") for c in a]


ENGLISH_WORDS = {"the", "and", "of", "to", "is", "with", "that", "this", "we", "for", "are", "it", "on", "from", "by"}
TURKISH_WORDS = {"ve", "bir", "bu", "için", "ile", "da", "de", "olarak", "her", "daha", "gibi", "ise", "çok"}


def prose(text: str) -> str:
    """Markdown without code, math, links' targets, HTML tags and names that stay in English."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\([^()]*\)", " ", text)  # "(few-shot learning)"-style first-use glosses
    return text


def paragraphs(path):
    for cell in nbtools.read(path).cells:
        if cell.cell_type == "markdown":
            for para in re.split(r"\n\s*\n", prose(cell.source)):
                words = re.findall(r"[^\W\d_]+", para.lower())
                if len(words) >= 8:
                    yield para.strip(), words


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks" / "tr").glob("*.ipynb")), ids=lambda p: p.stem)
def test_turkish_notebooks_are_written_in_turkish(path):
    for para, words in paragraphs(path):
        english = sum(w in ENGLISH_WORDS for w in words)
        turkish = sum(w in TURKISH_WORDS for w in words) + len(re.findall(r"[çğıöşüİ]", para))
        assert turkish > english, f"untranslated paragraph in {path.name}: {para[:120]!r}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks" / "zh").glob("*.ipynb")), ids=lambda p: p.stem)
def test_chinese_notebooks_are_written_in_chinese(path):
    for cell in nbtools.read(path).cells:
        if cell.cell_type != "markdown":
            continue
        for para in re.split(r"\n\s*\n", prose(cell.source)):
            latin = re.findall(r"[A-Za-z]+", para)
            cjk = re.findall(r"[\u4e00-\u9fff]", para)
            if len(latin) >= 8:
                assert len(cjk) >= len(latin), f"untranslated paragraph in {path.name}: {para[:120]!r}"


def test_the_language_checks_can_fail():
    english = "The model learns a good initialisation and adapts to the new task with a few steps of SGD."
    words = re.findall(r"[^\W\d_]+", english.lower())
    assert sum(w in ENGLISH_WORDS for w in words) > sum(w in TURKISH_WORDS for w in words)
    assert len(re.findall(r"[\u4e00-\u9fff]", english)) < len(re.findall(r"[A-Za-z]+", english))
