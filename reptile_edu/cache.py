"""Files on disk: where the package caches what it generates, a streaming digest, an atomic write.

``cache_dir()`` is where generated data lives (``reptile_edu.alphabets`` keeps the built-in
alphabets there). ``file_digest`` and ``atomic_write`` are shared by that cache and by
``reptile_edu.omniglot``'s download: a file is checked against its recorded digest, and a
file being written is never seen half-written (it appears under its name only when complete).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import site
import sysconfig
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .messages import message

#: Environment variable that, when set, is the cache directory.
CACHE_ENV = "REPTILE_EDU_CACHE"


def cache_dir() -> Path:
    """The directory where generated data is cached (created on first use).

    ``$REPTILE_EDU_CACHE`` if set, else ``$XDG_CACHE_HOME/reptile-edu``, else
    ``~/.cache/reptile-edu``. It must not lie inside the installed package or site-packages.
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
        path = (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "reptile-edu"
    path = path.resolve()
    forbidden = {Path(__file__).resolve().parent, Path(sysconfig.get_paths()["purelib"]).resolve()}
    with contextlib.suppress(Exception):
        forbidden.update(Path(p).resolve() for p in site.getsitepackages())
    for bad in forbidden:
        if path == bad or bad in path.parents:
            raise ValueError(message("cache_in_packages", path=path, packages=bad, env=CACHE_ENV))
    return path


def file_digest(path: str | os.PathLike[str], algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes (``"sha256"``, ``"md5"``, …), read in blocks of 4 MiB."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write(
    path: str | os.PathLike[str],
    write: Callable[[BinaryIO], object],
    *,
    verify: Callable[[Path], None] | None = None,
    suffix: str = ".tmp",
) -> None:
    """Write ``path`` whole or not at all: ``write(f)`` fills a temporary file beside it, ``verify(temporary
    path)`` may raise to reject it, and only then does it replace ``path``. On any error the temporary file
    is removed and the error raised; an existing ``path`` is left as it was."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        if verify is not None:
            verify(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            os.unlink(tmp)
        raise
