"""Keep the course notebooks in step and executed.

    python tools/notebooks.py sync      # copy code cells from notebooks/en into tr and zh (prose untouched)
    python tools/notebooks.py execute   # run every notebook top to bottom (full budget) and save outputs
    python tools/notebooks.py execute notebooks/en/04_reptile.ipynb   # just one
    python tools/notebooks.py check     # code identical across languages, cells aligned, clean runs

``make sync``, ``make notebooks`` and ``make check-notebooks`` call these. ``execute`` strips
metadata that changes from run to run, so a re-run shows in git only where results changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LANGS = ("en", "tr", "zh")
KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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


def sync(langs: tuple[str, ...] = ("tr", "zh")) -> list[str]:
    """Copy English code cells into the other languages, cell by cell; return what changed.

    The cell structure (the sequence of cell types) must match; a new English notebook is
    copied whole, for translators to translate its markdown.
    """
    changed = []
    for en_path in sorted((NOTEBOOKS / "en").glob("*.ipynb")):
        en = read(en_path)
        for lang in langs:
            path = NOTEBOOKS / lang / en_path.name
            if not path.exists():
                write(en, path)
                changed.append(f"{path.relative_to(ROOT)}: new (copied from English; translate its markdown)")
                continue
            other = read(path)
            kinds_en = [c.cell_type for c in en.cells]
            kinds = [c.cell_type for c in other.cells]
            if kinds != kinds_en:
                raise SystemExit(
                    f"{path.relative_to(ROOT)}: its cells do not line up with the English notebook "
                    f"({len(kinds)} cells vs {len(kinds_en)}). Add or remove markdown cells so that "
                    "each English cell has its counterpart, then run sync again."
                )
            dirty = False
            for mine, theirs in zip(other.cells, en.cells):
                if mine.cell_type == "code" and mine.source != theirs.source:
                    mine.source = theirs.source
                    mine.outputs, mine.execution_count = [], None
                    dirty = True
            if dirty:
                write(other, path)
                changed.append(f"{path.relative_to(ROOT)}: code cells updated (re-run it with `execute`)")
    return changed


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
        client.execute()
        write(clean(nb), path)
        print(f"{path.relative_to(ROOT)}: ran in {time.perf_counter() - start:.0f} s (budget {env_budget})")


def problems() -> list[str]:
    """Everything `check` complains about: differing code, misaligned cells, unclean runs."""
    found = []
    for en_path in sorted((NOTEBOOKS / "en").glob("*.ipynb")):
        en = read(en_path)
        for lang in LANGS[1:]:
            path = NOTEBOOKS / lang / en_path.name
            if not path.exists():
                found.append(f"missing: {path.relative_to(ROOT)}")
                continue
            other = read(path)
            if code_cells(other) != code_cells(en):
                found.append(f"code cells differ from English: {path.relative_to(ROOT)} (run `make sync`)")
            if [c.cell_type for c in other.cells] != [c.cell_type for c in en.cells]:
                found.append(f"cells do not line up with English: {path.relative_to(ROOT)}")
    for lang in LANGS:
        for path in sorted((NOTEBOOKS / lang).glob("*.ipynb")):
            found += [f"{path.relative_to(ROOT)}: {p}" for p in run_problems(read(path))]
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
        print("\n".join(sync()) or "all notebooks already share the English code")
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
