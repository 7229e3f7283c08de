"""Keep the course notebooks in step and executed.

    python tools/notebooks.py sync      # English code cells → the catalogs → the tr and zh code cells
    python tools/notebooks.py execute   # run every notebook top to bottom (full budget) and save outputs
    python tools/notebooks.py execute notebooks/en/04_reptile.ipynb   # just one
    python tools/notebooks.py check     # the same program in every language, cells aligned, clean runs

``make sync``, ``make notebooks`` and ``make check-notebooks`` call these. English code cells are the
source; the text in them meant for people (comments, what ``print`` prints: see ``code_text.py``) is
translated through gettext catalogs, ``notebooks/locale/<lang>/LC_MESSAGES/notebooks.po``, made from the
template ``notebooks/locale/notebooks.pot``. ``sync`` writes the template, merges it into each catalog
(new texts untranslated, changed ones fuzzy), builds the tr and zh code cells from the English code and
the catalog, and fails, listing them, while a text is untranslated, fuzzy or loses a placeholder.
Markdown cells are translated by hand, one-to-one. ``execute`` strips metadata that changes from run to
run, so a re-run shows in git only where results changed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

sys.path.insert(0, str(Path(__file__).resolve().parent))
import code_text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LOCALE = NOTEBOOKS / "locale"
DOMAIN = "notebooks"
LANGS = ("en", "tr", "zh")
METADATA_KEY = "reptile_edu"  # metadata.reptile_edu.language: read by set_language() (reptile_edu.notebook_file)
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info", METADATA_KEY)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
NOTES = {
    "comment": "A code comment.",
    "string": "Printed text.",
    "f-string": "Printed text (an f-string): keep every {…} field exactly as it is, expression and format; "
    "you may move it.",
}


def code_cells(nb: nbformat.NotebookNode) -> list[str]:
    """The source of every code cell, in order."""
    return [c.source for c in nb.cells if c.cell_type == "code"]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.write(nb, path)


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop run-to-run noise: cell ids stay, execution timestamps and widget state go."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": "python"}
    for cell in nb.cells:
        if cell.cell_type == "code":
            # Widget views (progress bars, sliders) need the dropped widget state; their text stand-in
            # ("0%| 0/2000") would mislead a reader on GitHub, so they go too.
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    return nb


# ------------------------------------------------------------------------------------------- catalogs


def catalog_path(lang: str, locale: Path = LOCALE) -> Path:
    return locale / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def english_texts(notebooks: Path | None = None) -> dict[str, dict]:
    """Every text for people in the English code cells: msgid → its kind and where it occurs."""
    notebooks = notebooks or NOTEBOOKS
    found: dict[str, dict] = {}
    for path in sorted((notebooks / "en").glob("*.ipynb")):
        for index, cell in enumerate(read(path).cells):
            if cell.cell_type != "code":
                continue
            try:
                msgs = code_text.messages(cell.source)
            except code_text.CodeTextError as err:
                raise SystemExit(f"{path.relative_to(notebooks)} cell {index}: {err}") from None
            for m in msgs:
                if m.is_text:
                    entry = found.setdefault(m.text, {"kind": m.kind, "where": []})
                    entry["where"].append((f"{path.parent.name}/{path.name}", index))
    return found


def _header(catalog: Catalog, old: Catalog | None) -> Catalog:
    """Keep the dates of the catalog on disk, so that a sync with nothing new changes no file."""
    stamp = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    catalog.creation_date = old.creation_date if old is not None else stamp
    catalog.revision_date = old.revision_date if old is not None else stamp
    catalog.version, catalog.msgid_bugs_address = "notebooks", "the project's issue tracker"
    catalog.last_translator = catalog.language_team = "reptile-edu translators"
    return catalog


def _read_catalog(path: Path) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as f:
        return read_po(f, abort_invalid=True)


def _write_catalog(catalog: Catalog, path: Path) -> bool:
    """Write ``catalog`` to ``path`` (no wrapping, no obsolete entries); whether the file changed."""
    import io

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, ignore_obsolete=True, include_previous=True)
    data = buffer.getvalue()
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return True


def make_template(texts: dict[str, dict], locale: Path = LOCALE) -> Catalog:
    path = locale / f"{DOMAIN}.pot"
    template = _header(Catalog(domain=DOMAIN, project="reptile-edu", fuzzy=False), _read_catalog(path))
    template.header_comment = (
        "# Texts for people in the code cells of the reptile-edu notebooks (comments and printed text).\n"
        "# Made by `make sync` from notebooks/en: do not edit; translate notebooks/locale/<lang>/LC_MESSAGES/.\n"
        "# A location's number is the cell's index in the notebook."
    )
    for msgid, entry in texts.items():
        template.add(msgid, locations=entry["where"], auto_comments=[NOTES[entry["kind"]]])
    template.changed = _write_catalog(template, path)
    return template


def update_catalog(lang: str, template: Catalog, locale: Path = LOCALE) -> Catalog:
    """The catalog of ``lang`` merged with ``template`` (and written back): new texts empty, changed
    ones fuzzy with their previous translation, vanished ones dropped."""
    path = catalog_path(lang, locale)
    old = _read_catalog(path)
    catalog = old if old is not None else Catalog(locale=lang, domain=DOMAIN, project="reptile-edu", fuzzy=False)
    catalog.update(template, update_creation_date=False)
    catalog = _header(catalog, old)
    catalog.header_comment = (
        f"# {lang} translations of the texts in the reptile-edu notebooks' code cells.\n"
        "# Translate each msgstr; keep {…} fields of f-strings exactly; remove the 'fuzzy' flag once checked.\n"
        "# Terms: docs/glossary.md. `make sync` builds the notebooks' code cells from this file."
    )
    catalog.changed = _write_catalog(catalog, path)
    return catalog


def catalog_problems(lang: str, catalog: Catalog, texts: dict[str, dict]) -> tuple[dict[str, str], list[str]]:
    """The usable translations (msgid → msgstr) and, listed, the texts that have none."""
    usable, problems = {}, []
    for msgid, entry in texts.items():
        message = catalog.get(msgid)
        where = ", ".join(f"{name} cell {index}" for name, index in entry["where"][:3])
        why = None
        if message is None or not message.string:
            why = "untranslated"
        elif message.fuzzy:
            why = "fuzzy (check it, then remove the flag)"
        else:
            why = code_text.placeholder_problem(entry["kind"], msgid, message.string)
        if why:
            problems.append(f"{lang}: {why}: {msgid!r} ({where})")
        else:
            usable[msgid] = message.string
    return usable, problems


def sync(langs: tuple[str, ...] = ("tr", "zh"), notebooks: Path | None = None) -> tuple[list[str], list[str]]:
    """Template and catalogs from the English code cells, then the other languages' code cells.

    Returns what changed and what is missing. A notebook whose texts are not all translated keeps its
    code cells as they are (it is listed among the problems); a new English notebook is copied whole,
    for translators to translate its markdown.
    """
    notebooks = notebooks or NOTEBOOKS
    locale = notebooks / "locale"
    texts = english_texts(notebooks)
    template = make_template(texts, locale)
    changed, problems = ([f"locale/{DOMAIN}.pot: updated"] if template.changed else []), []
    for path in sorted((notebooks / "en").glob("*.ipynb")):
        en = read(path)
        if _set_language(en, "en"):
            write(en, path)
            changed.append(f"{path.relative_to(notebooks)}: its language recorded in its metadata")
    for lang in langs:
        catalog = update_catalog(lang, template, locale)
        if catalog.changed:
            changed.append(f"{catalog_path(lang, locale).relative_to(notebooks)}: updated")
        usable, missing = catalog_problems(lang, catalog, texts)
        problems += missing
        for en_path in sorted((notebooks / "en").glob("*.ipynb")):
            changed += _sync_one(en_path, lang, usable, notebooks)
    return changed, problems


def _set_language(nb: nbformat.NotebookNode, lang: str) -> bool:
    if nb.metadata.get(METADATA_KEY, {}).get("language") == lang:
        return False
    nb.metadata.setdefault(METADATA_KEY, {})["language"] = lang
    return True


def _sync_one(en_path: Path, lang: str, usable: dict[str, str], notebooks: Path) -> list[str]:
    en = read(en_path)
    path = notebooks / lang / en_path.name
    name = path.relative_to(notebooks)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        other, note = en, "new (copied from English; translate its markdown)"
    else:
        other, note = read(path), "code cells updated (re-run it with `make notebooks NB=...`)"
        kinds_en, kinds = [c.cell_type for c in en.cells], [c.cell_type for c in other.cells]
        if kinds != kinds_en:
            raise SystemExit(
                f"{name}: its cells do not line up with the English notebook ({len(kinds)} cells vs "
                f"{len(kinds_en)}). Add or remove markdown cells so that each English cell has its "
                "counterpart, then run sync again."
            )
    try:
        sources = [code_text.translate(c.source, usable) for c in en.cells if c.cell_type == "code"]
    except code_text.CodeTextError as err:
        raise SystemExit(f"{name}: {err}") from None
    needed = {m.text for c in en.cells if c.cell_type == "code" for m in code_text.messages(c.source) if m.is_text}
    if not needed <= set(usable) and other is not en:
        return [f"{name}: not updated until its texts are translated"]
    dirty = _set_language(other, lang) or other is en
    code = iter(sources)
    for mine in other.cells:
        if mine.cell_type == "code":
            source = next(code)
            if mine.source != source:
                mine.source = source
                mine.outputs, mine.execution_count = [], None
                dirty = True
    if dirty:
        write(other, path)
        return [f"{name}: {note}"]
    return []


def kernel_env(path: Path) -> dict[str, str]:
    """The environment JupyterLab gives a notebook's kernel: ours, plus the notebook's path in
    ``JPY_SESSION_NAME`` (how ``set_language()`` finds the language the notebook records)."""
    return {**os.environ, "JPY_SESSION_NAME": str(Path(path).resolve())}


def execute(paths: list[Path], timeout: int = 1800) -> None:
    """Run each notebook top to bottom in its own folder with the full budget; save outputs in place."""
    from nbclient import NotebookClient

    env_budget = os.environ.get("REPTILE_EDU_BUDGET", "full")
    for path in paths:
        nb = read(path)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        start = time.perf_counter()
        # Widget state is stored by nbclient and then dropped by clean(): a saved notebook shows
        # widgets only when a kernel runs it (store_widget_state=False trips an nbclient bug).
        client = NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute(env=kernel_env(path))
        write(clean(nb), path)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown}: ran in {time.perf_counter() - start:.0f} s (budget {env_budget})")


def problems() -> list[str]:
    """Everything `check` complains about: a different program, misaligned cells, unclean runs."""
    found = []
    for en_path in sorted((NOTEBOOKS / "en").glob("*.ipynb")):
        en = read(en_path)
        for lang in LANGS[1:]:
            path = NOTEBOOKS / lang / en_path.name
            if not path.exists():
                found.append(f"missing: {path.relative_to(ROOT)}")
                continue
            other = read(path)
            if [c.cell_type for c in other.cells] != [c.cell_type for c in en.cells]:
                found.append(f"cells do not line up with English: {path.relative_to(ROOT)}")
            elif [code_text.skeleton(s) for s in code_cells(other)] != [code_text.skeleton(s) for s in code_cells(en)]:
                found.append(f"code cells differ from English beyond their text: {path.relative_to(ROOT)}")
    for lang in LANGS:
        for path in sorted((NOTEBOOKS / lang).glob("*.ipynb")):
            nb = read(path)
            found += [f"{path.relative_to(ROOT)}: {p}" for p in run_problems(nb)]
            if nb.metadata.get(METADATA_KEY, {}).get("language") != lang:
                found.append(f"{path.relative_to(ROOT)}: metadata.{METADATA_KEY}.language is not {lang!r}")
    return found


def run_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Why a notebook does not look like one full, in-order, error-free run (empty if it does)."""
    found = []
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    if counts != list(range(1, len(counts) + 1)):
        found.append(f"not run top to bottom in order once (execution counts {counts})")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"cell {i} shows an error: {out.get('ename')}: {out.get('evalue')}")
            if out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text:
                found.append(f"cell {i} prints a traceback")
        if set(cell.metadata) & {"execution", "collapsed", "scrolled"}:
            found.append(f"cell {i} carries stray metadata {sorted(cell.metadata)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("sync", "execute", "check"))
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks to execute (default: all)")
    args = parser.parse_args(argv)
    if args.command == "sync":
        start = time.perf_counter()
        changed, missing = sync()
        print("\n".join(changed) or "notebooks and catalogs already up to date")
        if missing:
            print(f"\n{len(missing)} texts need a translator (notebooks/locale/<lang>/LC_MESSAGES/{DOMAIN}.po):")
            print("\n".join(missing))
            return 1
        print(f"sync: {time.perf_counter() - start:.1f} s")
    elif args.command == "execute":
        paths = args.paths or [p for lang in LANGS for p in sorted((NOTEBOOKS / lang).glob("*.ipynb"))]
        execute([p.resolve() for p in paths])
    else:
        found = problems()
        print("\n".join(found) or "notebooks OK")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
