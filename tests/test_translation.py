"""Code cells in three languages: what counts as text for people, catalogs, and `make sync`."""

import sys
from pathlib import Path

import nbformat
import pytest
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import code_text  # noqa: E402

import notebooks as nbtools  # noqa: E402

EN = sorted((ROOT / "notebooks" / "en").glob("*.ipynb"))

CELL = '''import torch  # the library
x = {"key": 1}
plt.plot(x, label="not text")  # ← your code here
print(f"after {s:>4} steps: MSE {loss[s]:.3f}", "·", row.get("machine"))
print("total:", pad("method", 12, ">"), " / ".join(f"{v:.2f} ms" for v in values), f"{v:.1f} s")
print(
    f"{n} outer steps, one task each: {t:.1f} s "
    f"({n / t:.0f} tasks per second)"
)
# [T, K, 1]
'''


def texts(source):
    return [(m.kind, m.text) for m in code_text.messages(source) if m.is_text]


def test_the_rule_finds_comments_and_printed_text_and_nothing_else():
    assert texts(CELL) == [
        ("comment", "the library"),
        ("comment", "← your code here"),
        ("f-string", "after {s:>4} steps: MSE {loss[s]:.3f}"),
        ("string", "total:"),
        ("string", "method"),
        ("f-string", "{v:.2f} ms"),
        ("f-string", "{n} outer steps, one task each: {t:.1f} s ({n / t:.0f} tasks per second)"),
    ]  # not: "key", "not text", "machine", "·", " / ", "{v:.1f} s" (no word of two letters), the shape comment


TR = {
    "the library": "kütüphane",
    "← your code here": "← kodunuz buraya",
    "after {s:>4} steps: MSE {loss[s]:.3f}": "{s:>4} adımdan sonra: MSE {loss[s]:.3f}",
    "total:": "toplam:",
    "method": "yöntem",
    "{v:.2f} ms": "{v:.2f} ms",
    "{n} outer steps, one task each: {t:.1f} s ({n / t:.0f} tasks per second)": (
        "her biri tek görevli {n} dış adım: {t:.1f} sn (saniyede {n / t:.0f} görev)"
    ),
}


def test_translating_changes_only_the_text_and_keeps_the_layout():
    out = code_text.translate(CELL, TR)
    assert 'print(f"{s:>4} adımdan sonra: MSE {loss[s]:.3f}", "·", row.get("machine"))' in out
    assert 'pad("yöntem", 12, ">")' in out and 'label="not text"' in out and "# [T, K, 1]" in out
    assert 'f"her biri tek görevli {n} dış adım: ' in out and '\n    f"' in out  # still two pieces
    assert code_text.skeleton(out) == code_text.skeleton(CELL)
    assert code_text.skeleton(CELL.replace('"key"', '"other"')) != code_text.skeleton(CELL)  # code is compared


def test_a_translation_too_long_for_the_line_is_wrapped_and_a_long_trailing_comment_moves_above():
    source = 'value = compute(1, 2)  # short\nprint("ok")\n'
    long = "çok uzun bir açıklama " * 6
    out = code_text.translate(source, {"short": long.strip(), "ok": "长" * 70})
    assert out.splitlines()[0].startswith("# çok uzun") and "value = compute(1, 2)" in out.splitlines()
    assert all(code_text.width(line) <= code_text.LINE_LENGTH for line in out.splitlines())
    assert code_text.skeleton(out) == code_text.skeleton(source)


@pytest.mark.parametrize(
    "translation, problem",
    [
        ("{s:>4} adım: MSE {loss[s]:.3f}", None),  # fields kept, moved: fine
        ("{s} adım: MSE {loss[s]:.3f}", "missing {s:>4}"),  # a format spec changed
        ("{s:>4} adım: MSE {kayip[s]:.3f}", "added {kayip[s]:.3f}"),  # a name translated
        ("{s:>4} adım", "missing {loss[s]:.3f}"),  # a field dropped
    ],
)
def test_a_translated_f_string_keeps_exactly_its_placeholders(translation, problem):
    got = code_text.placeholder_problem("f-string", "after {s:>4} steps: MSE {loss[s]:.3f}", translation)
    assert (got is None) if problem is None else (problem in got)


def test_every_committed_translation_keeps_its_placeholders():
    texts_en = nbtools.english_texts()
    for lang in ("tr", "zh"):
        with nbtools.catalog_path(lang).open("rb") as f:
            catalog = read_po(f)
        for msgid, entry in texts_en.items():
            message = catalog.get(msgid)
            assert message is not None and message.string, f"{lang}: untranslated {msgid!r}: run `make sync`"
            assert not message.fuzzy, f"{lang}: fuzzy {msgid!r}"
            assert code_text.placeholder_problem(entry["kind"], msgid, message.string) is None, (lang, msgid)


@pytest.mark.parametrize("en", EN, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["tr", "zh"])
def test_code_cells_are_the_same_program_and_exactly_what_sync_builds(en, lang):
    other = nbtools.read(ROOT / "notebooks" / lang / en.name)
    english = nbtools.code_cells(nbtools.read(en))
    mine = nbtools.code_cells(other)
    assert [code_text.skeleton(s) for s in mine] == [code_text.skeleton(s) for s in english]
    with nbtools.catalog_path(lang).open("rb") as f:
        usable, _ = nbtools.catalog_problems(lang, read_po(f), nbtools.english_texts())
    assert mine == [code_text.translate(s, usable) for s in english], "run `make sync`"


def _notebook(path, *sources, lang=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · Test")] + [nbformat.v4.new_code_cell(s) for s in sources]
    if lang:
        nb.metadata["reptile_edu"] = {"language": lang}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_sync_fails_listing_untranslated_and_fuzzy_texts_then_builds_the_cells(tmp_path, capsys, monkeypatch):
    code = 'x = 2  # a number\nprint(f"x is {x:.1f}")\n'
    _notebook(tmp_path / "en" / "99_test.ipynb", code)
    changed, missing = nbtools.sync(("tr",), notebooks=tmp_path)
    assert "tr/99_test.ipynb: new (copied from English; translate its markdown)" in changed
    assert sorted(missing) == [
        "tr: untranslated: 'a number' (en/99_test.ipynb cell 1)",
        "tr: untranslated: 'x is {x:.1f}' (en/99_test.ipynb cell 1)",
    ]
    assert (tmp_path / "locale" / "notebooks.pot").exists()

    po = nbtools.catalog_path("tr", tmp_path / "locale")
    with po.open("rb") as f:
        catalog = read_po(f)
    catalog.get("a number").string = "bir sayı"
    catalog.get("x is {x:.1f}").string = "x: {x:.2f}"  # a changed format spec is refused
    with po.open("wb") as f:
        write_po(f, catalog)
    changed, missing = nbtools.sync(("tr",), notebooks=tmp_path)
    assert missing == [
        "tr: placeholders differ; missing {x:.1f}; added {x:.2f}: 'x is {x:.1f}' (en/99_test.ipynb cell 1)"
    ]

    catalog.get("x is {x:.1f}").string = "x değeri {x:.1f}"
    with po.open("wb") as f:
        write_po(f, catalog)
    changed, missing = nbtools.sync(("tr",), notebooks=tmp_path)
    assert missing == []
    tr = nbtools.read(tmp_path / "tr" / "99_test.ipynb")
    assert tr.cells[1].source == 'x = 2  # bir sayı\nprint(f"x değeri {x:.1f}")\n'
    assert tr.metadata["reptile_edu"] == {"language": "tr"}
    assert nbtools.sync(("tr",), notebooks=tmp_path) == ([], [])  # nothing left to do

    _notebook(tmp_path / "en" / "99_test.ipynb", code.replace("x is", "x equals"), lang="en")
    changed, missing = nbtools.sync(("tr",), notebooks=tmp_path)  # changed English text → fuzzy
    assert missing == ["tr: fuzzy (check it, then remove the flag): 'x equals {x:.1f}' (en/99_test.ipynb cell 1)"]
    assert nbtools.read(tmp_path / "tr" / "99_test.ipynb").cells[1].source == tr.cells[1].source  # left alone

    monkeypatch.setattr(nbtools, "NOTEBOOKS", tmp_path)
    assert nbtools.main(["sync"]) == 1
    assert "3 texts need a translator" in capsys.readouterr().out  # tr: fuzzy; zh: both new


def test_pad_aligns_by_display_width():
    from reptile_edu import i18n

    assert i18n.display_width("联合训练") == 8 and i18n.display_width("θ̃ ok") == 4  # the tilde takes no column
    assert i18n.pad("联合训练", 10) == "联合训练  " and i18n.pad("MAML", 10, ">") == "      MAML"
    assert i18n.pad("ab", 5, "^") == " ab  " and i18n.pad("too long", 3) == "too long"
    rows = [f"{i18n.pad(name, 12, '>')}|" for name in ("联合训练", "ortak eğitim", "MAML")]
    assert len({i18n.display_width(row) for row in rows}) == 1  # one column for the bars
    with pytest.raises(ValueError, match="align must be one of"):
        i18n.pad("x", 3, "right")


def test_method_names_are_the_ones_the_plots_show():
    from reptile_edu import i18n, plots

    try:
        names = {"en": ("joint training", "random start"), "tr": ("ortak eğitim", "rastgele başlangıç"),
                 "zh": ("联合训练", "随机初始化")}
        for lang, (joint, start) in names.items():
            i18n.set_language(lang)
            assert (i18n.method_name("Joint training"), i18n.method_name("Random start")) == (joint, start)
            assert i18n.method_name("Reptile") == "Reptile"
            assert plots.method_label("Random start") == i18n.method_name("Random start", i18n.plot_language())
    finally:
        i18n.set_language("en")


def test_every_few_shot_method_of_the_benchmark_has_a_name_in_each_language():
    """Lesson 06 prints benchmarks/fewshot.py's table with method_name(): no column may stay in English."""
    import importlib.util

    from reptile_edu import i18n

    spec = importlib.util.spec_from_file_location("fewshot_bench", ROOT / "benchmarks" / "fewshot.py")
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up
    try:
        spec.loader.exec_module(bench)
    finally:
        del sys.modules[spec.name]
    for name in bench.COLUMNS:
        english = i18n.method_name(name, "en")
        for lang in ("tr", "zh"):
            translated = i18n.method_name(name, lang)
            assert translated == english if name == "Reptile" else translated not in (english, name), (name, lang)
    assert i18n.method_name("Prototypical Networks (non-transductive)", "zh") == "原型网络（非直推式）"

def test_a_percent_sign_in_text_is_not_a_placeholder_but_a_conversion_is():
    assert code_text.placeholder_problem("string", "(± 95 % interval)", "(± %95 aralık)") is None
    assert code_text.placeholder_problem("string", "%d tasks done", "%s görev bitti") is not None
    assert code_text.placeholder_problem("string", "{} tasks", "{:.1f} görev") is not None
