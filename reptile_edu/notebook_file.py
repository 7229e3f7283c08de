"""Which notebook this kernel runs, and the language that notebook records in its metadata.

A lesson stores its language in its own metadata (``"reptile_edu": {"language": "zh"}``), so it keeps
its language wherever it is moved or copied. A kernel learns its notebook's path from its front end:

* JupyterLab (through Jupyter Server) starts the kernel with ``JPY_SESSION_NAME`` set to the
  notebook's path; ipykernel also puts it in the namespace as ``__session__``;
* VS Code sets ``__vsc_ipynb_file__`` in the namespace;
* the course's own runners (``make notebooks``, and ``make test`` through nbval) set ``JPY_SESSION_NAME``
  like JupyterLab does (``tools/notebooks.py``, ``conftest.py``).

A kernel started another way does not know its notebook: then ``notebook_language()`` is ``None``
and ``set_language()`` goes on to the folder's name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SESSION_ENV = "JPY_SESSION_NAME"
NAMESPACE_NAMES = ("__session__", "__vsc_ipynb_file__")
METADATA_KEY = "reptile_edu"


def notebook_path() -> Path | None:
    """The path of the notebook this kernel runs, if the front end said it and the file exists."""
    names = [os.environ.get(SESSION_ENV)]
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        shell = None
    if shell is not None:
        names += [shell.user_ns.get(name) for name in NAMESPACE_NAMES]
    for name in names:
        if not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        given = Path(name).expanduser()
        # Jupyter Server gives an absolute path; a relative one is tried from the kernel's folder,
        # which is the notebook's own folder, and by its file name there.
        for candidate in (given, Path.cwd() / given, Path.cwd() / given.name):
            if candidate.is_file():
                return candidate.resolve()
    return None


def recorded_language(path: str | os.PathLike[str]) -> str | None:
    """The language a notebook file records in ``metadata.reptile_edu.language``, or ``None``."""
    try:
        with open(path, encoding="utf-8") as f:
            metadata = json.load(f).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return None
    lang = metadata.get(METADATA_KEY, {}).get("language") if isinstance(metadata, dict) else None
    return lang if isinstance(lang, str) else None


def notebook_language() -> str | None:
    """The language recorded by the notebook this kernel runs, or ``None`` when unknown."""
    path = notebook_path()
    return recorded_language(path) if path is not None else None
