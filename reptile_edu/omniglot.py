"""Real Omniglot (Lake et al. 2015), for learners who have a copy: the same interface as the built-in set.

Two layouts are read, each from a folder or from its ``.zip`` file:

* **The official images**, ``images_background/`` (30 alphabets, the usual meta-training
  set) and ``images_evaluation/`` (20 other alphabets, for meta-testing), laid out as
  ``<Alphabet>/<characterNN>/<NNNN_DD>.png``: 105×105 binary PNGs, strokes black, 20 drawings
  of every character. ``load_omniglot`` turns them into a ``CharacterSet`` exactly like
  ``builtin_alphabets``: ink = 1, area-resized to 28×28, ``uint8`` ``[C, 20, 28, 28]``.
* **The one-shot benchmark** of Lake et al.: 20 runs of 20-way 1-shot classification,
  ``runNN/training/classNN.png`` (one drawing of each of 20 characters),
  ``runNN/test/itemNN.png`` (20 more drawings to classify) and ``runNN/class_labels.txt``
  with lines ``runNN/test/itemXX.png runNN/training/classYY.png``. ``load_lake_runs`` returns
  them as ``Episodes`` (T = 20 runs), so ``evaluate(model, runs, ...)`` or
  ``nearest_neighbour_accuracy(runs)`` gives the accuracy over the 20 runs.

Nothing is downloaded unless asked: ``download_omniglot`` (or ``load_omniglot(...,
download=True)``) fetches the two official archives and checks their MD5 checksums. A
missing path, a file in the wrong place, a corrupt zip or an unreadable image raises an
error that names the file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from ._checks import check_choice, check_positive
from .cache import atomic_write, file_digest
from .characters import IMAGE_SIZE, CharacterSet
from .episodes import Episodes
from .messages import message

#: Where the official archives live (Brenden Lake's repository).
OMNIGLOT_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python"
#: Checksums of the official archives, as ``"algorithm:hex digest"``.
OMNIGLOT_CHECKSUMS: dict[str, str] = {
    "images_background": "md5:68d2efa1b9178cc56df9314c21c6e718",
    "images_evaluation": "md5:6b91aef0f799c5bb55b94e3f2daec811",
}
#: ``split`` → archive: background = meta-train alphabets, evaluation = meta-test alphabets.
SPLIT_FOLDERS = {
    "background": "images_background",
    "evaluation": "images_evaluation",
    "train": "images_background",
    "test": "images_evaluation",
}
OMNIGLOT_SPLITS = (*SPLIT_FOLDERS, "all")

_CHARACTER = re.compile(r"^character\d+$")
_DRAWING = re.compile(r"^\d+_\d+\.png$")
_RUN = re.compile(r"^run\d+$")


class OmniglotError(ValueError):
    """An Omniglot file is in the wrong place, corrupt or unreadable; the message names the file."""


# ---------------------------------------------------------------------------
# Reading a folder or a zip the same way


class _Tree:
    """The files under a folder or inside a zip, by relative POSIX path (hidden and macOS files skipped)."""

    def __init__(self, path: Path, strip: str | None = None) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_dir():
            names = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
        else:
            try:
                self.zip = zipfile.ZipFile(path)
                bad = self.zip.testzip()  # reads every member: catches a damaged or truncated download
            except (zipfile.BadZipFile, OSError, EOFError) as err:
                self.close()
                raise OmniglotError(message("zip_unreadable", path=path, error=err)) from err
            if bad is not None:
                self.close()
                raise OmniglotError(message("zip_bad_crc", path=path, member=bad))
            names = [n for n in self.zip.namelist() if not n.endswith("/")]
        names = [n for n in names if not any(part.startswith((".", "__MACOSX")) for part in n.split("/"))]
        if strip and names and all(n.startswith(strip + "/") for n in names):
            self.prefix = strip + "/"
            names = [n[len(self.prefix) :] for n in names]
        else:
            self.prefix = ""
        self.names = sorted(names)

    def where(self, name: str) -> str:
        """A readable location of ``name`` for error messages."""
        if self.zip is not None:
            return f"{self.path}:{self.prefix}{name}"
        return str(self.path / (self.prefix + name))

    def read(self, name: str) -> bytes:
        try:
            if self.zip is not None:
                return self.zip.read(self.prefix + name)
            return (self.path / (self.prefix + name)).read_bytes()
        except (KeyError, FileNotFoundError) as err:
            raise OmniglotError(message("file_missing", path=self.where(name))) from err
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise OmniglotError(message("file_unreadable", path=self.where(name), error=err)) from err

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _load_image(tree: _Tree, name: str) -> np.ndarray:
    """One drawing as ``uint8`` 28×28, ink = 255: inverted (strokes are black) and area-resized."""
    from PIL import Image, UnidentifiedImageError

    data = tree.read(name)
    try:
        with Image.open(io.BytesIO(data)) as img:
            gray = img.convert("L")
            gray.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise OmniglotError(message("not_an_image", path=tree.where(name), error=err)) from err
    ink = Image.fromarray(255 - np.asarray(gray, dtype=np.uint8))
    small = ink.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


# ---------------------------------------------------------------------------
# The official images


def _find(root: Path, folder: str) -> Path | None:
    for candidate in (root / folder, root / f"{folder}.zip"):
        if candidate.exists():
            return candidate
    return None


def _read_split(source: Path, folder: str) -> tuple[np.ndarray, list[str], list[str]]:
    """(images ``[C, I, 28, 28]``, alphabet of each class, class names) of one archive or folder."""
    tree = _Tree(source, strip=folder)
    try:
        drawings: dict[tuple[str, str], list[str]] = {}
        for name in tree.names:
            parts = name.split("/")
            if len(parts) != 3 or not _CHARACTER.match(parts[1]) or not _DRAWING.match(parts[2]):
                raise OmniglotError(message("not_omniglot_layout", path=tree.where(name)))
            drawings.setdefault((parts[0], parts[1]), []).append(name)
        if not drawings:
            raise OmniglotError(message("no_drawings", path=source))
        counts = {key: len(v) for key, v in drawings.items()}
        usual = max(set(counts.values()), key=list(counts.values()).count)
        for (alphabet, character), n in counts.items():
            if n != usual:
                where = tree.where(f"{alphabet}/{character}")
                raise OmniglotError(message("drawing_count", path=where, n=n, usual=usual))
        keys = sorted(drawings)
        images = np.stack([np.stack([_load_image(tree, n) for n in drawings[key]]) for key in keys])
    finally:
        tree.close()
    return images, [a for a, _ in keys], [f"{a}/{c}" for a, c in keys]


def load_omniglot(
    root: str | os.PathLike[str],
    split: str = "background",
    *,
    download: bool = False,
    base_url: str = OMNIGLOT_URL,
    checksums: Mapping[str, str] = OMNIGLOT_CHECKSUMS,
) -> CharacterSet:
    """Real Omniglot from ``root`` as a ``CharacterSet`` (``uint8`` ``[C, 20, 28, 28]``, ink = 255).

    ``root`` holds ``images_background/`` and/or ``images_evaluation/`` (folders, or the
    official ``.zip`` files). ``split`` is ``"background"`` (alias ``"train"``: 964 characters of
    30 alphabets), ``"evaluation"`` (alias ``"test"``: 659 characters of 20 other alphabets) or
    ``"all"`` (both; ``.split("train")`` / ``.split("test")`` then separate them).
    ``download=True`` fetches missing archives first (see ``download_omniglot``).
    """
    check_choice("split", split, OMNIGLOT_SPLITS)
    root = Path(root).expanduser()
    folders = sorted(set(SPLIT_FOLDERS.values())) if split == "all" else [SPLIT_FOLDERS[split]]
    parts = []
    for folder in folders:
        source = _find(root, folder)
        if source is None and download:
            download_omniglot(root, [folder], base_url=base_url, checksums=checksums)
            source = _find(root, folder)
        if source is None:
            raise FileNotFoundError(message("omniglot_not_found", folder=root / folder))
        parts.append((folder, *_read_split(source, folder)))
    images = np.concatenate([p[1] for p in parts])
    # Omniglot's 50 alphabets have distinct names; the evaluation ones are the meta-test alphabets.
    alphabets = tuple(dict.fromkeys(a for p in parts for a in p[2]))
    alphabet_of = [alphabets.index(a) for p in parts for a in p[2]]
    class_names = [name for p in parts for name in p[3]]
    test = frozenset(a for p in parts if p[0] == "images_evaluation" for a in p[2])
    return CharacterSet(
        images=torch.from_numpy(images),
        alphabet_of=torch.tensor(alphabet_of, dtype=torch.long),
        alphabets=alphabets,
        class_names=tuple(class_names),
        test_alphabets=test,
        source=f"Omniglot {split} ({root})",
    )


# ---------------------------------------------------------------------------
# Lake et al.'s 20 one-shot runs


def load_lake_runs(root: str | os.PathLike[str]) -> Episodes:
    """Lake et al.'s one-shot benchmark as ``Episodes``: one task per run (usually 20 runs of 20-way 1-shot).

    ``root`` is the folder (or ``.zip``) holding ``run01/`` … ``run20/`` (directly or inside one
    folder such as ``all_runs/``). Task t's support set is run t's ``training/classNN.png``,
    labelled 0 … N−1 in file-name order; its queries are the ``test/itemNN.png`` files listed in
    ``class_labels.txt``, labelled with the class each line names. The accuracy over the runs
    is ``evaluate(model, runs, k=..., eta=...).accuracy[-1]`` or
    ``nearest_neighbour_accuracy(runs).mean()``.
    """
    root = Path(root).expanduser()
    if not root.exists():
        raise FileNotFoundError(message("runs_not_found", path=root))
    tree = _Tree(root)
    try:
        top = {n.split("/")[0] for n in tree.names}
        if not any(_RUN.match(t) for t in top) and len(top) == 1:
            tree.close()
            tree = _Tree(root, strip=next(iter(top)))
        runs = sorted({n.split("/")[0] for n in tree.names if _RUN.match(n.split("/")[0])})
        if not runs:
            raise OmniglotError(message("no_runs", path=root))
        support, query, labels = [], [], []
        for run in runs:
            s, q, y = _read_run(tree, run)
            if support and len(s) != len(support[0]):
                raise OmniglotError(
                    message("run_class_count", path=tree.where(run), n=len(s), first=runs[0], m=len(support[0]))
                )
            support.append(s)
            query.append(q)
            labels.append(y)
    finally:
        tree.close()
    n = len(support[0])
    xs = torch.from_numpy(np.stack(support)).unsqueeze(2).float() / 255
    xq = torch.from_numpy(np.stack(query)).unsqueeze(2).float() / 255
    ys = torch.arange(n).expand(len(runs), n).contiguous()
    return Episodes(xs, ys, xq, torch.tensor(np.stack(labels), dtype=torch.long), "ce")


def _read_run(tree: _Tree, run: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    label_file = f"{run}/class_labels.txt"
    if label_file not in tree.names:
        raise OmniglotError(message("labels_missing", path=tree.where(label_file)))
    classes = sorted(n for n in tree.names if n.startswith(f"{run}/training/") and n.endswith(".png"))
    if not classes:
        raise OmniglotError(message("no_class_images", path=tree.where(run + "/training")))
    index = {name: i for i, name in enumerate(classes)}
    items, labels = [], []
    text = tree.read(label_file).decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2 or not fields[0].startswith(f"{run}/test/") or not fields[1].startswith(f"{run}/training/"):
            expected = f"{run}/test/itemXX.png {run}/training/classYY.png"
            where, got = tree.where(label_file), line.strip()
            raise OmniglotError(message("labels_bad_line", path=where, number=number, expected=expected, line=got))
        if fields[1] not in index:
            raise OmniglotError(
                message("labels_no_target", path=tree.where(label_file), number=number, target=tree.where(fields[1]))
            )
        items.append(fields[0])
        labels.append(index[fields[1]])
    if not items:
        raise OmniglotError(message("labels_empty", path=tree.where(label_file)))
    support = np.stack([_load_image(tree, name) for name in classes])
    query = np.stack([_load_image(tree, name) for name in items])
    return support, query, labels


# ---------------------------------------------------------------------------
# Download (only on request)


def _checksum_ok(path: Path, expected: str) -> tuple[bool, str]:
    algorithm, _, want = expected.partition(":")
    got = file_digest(path, algorithm)
    return got == want.lower(), f"{algorithm}:{got}"


def _download(url: str, target: Path, checksum: str, timeout: float) -> None:
    """Fetch ``url`` into ``target`` only if its checksum matches; otherwise write nothing and raise."""

    def fetch(out: BinaryIO) -> None:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            shutil.copyfileobj(response, out)

    def verify(tmp: Path) -> None:
        ok, got = _checksum_ok(tmp, checksum)
        if not ok:
            raise OmniglotError(message("download_checksum", url=url, got=got, expected=checksum, target=target))

    try:
        atomic_write(target, fetch, verify=verify, suffix=".part")
    except (urllib.error.URLError, OSError) as err:
        raise OmniglotError(message("download_failed", url=url, error=err, target=target)) from err


def download_omniglot(
    root: str | os.PathLike[str],
    archives: list[str] | tuple[str, ...] = ("images_background", "images_evaluation"),
    *,
    base_url: str = OMNIGLOT_URL,
    checksums: Mapping[str, str] = OMNIGLOT_CHECKSUMS,
    timeout: float = 60.0,
) -> list[Path]:
    """Download the official Omniglot archives into ``root`` and verify their checksums.

    Fetches ``{base_url}/{name}.zip`` for each name in ``archives`` unless ``root/{name}.zip``
    already exists with the right checksum. ``checksums`` maps a name to
    ``"md5:…"`` or ``"sha256:…"``; a download that does not match is deleted and an
    ``OmniglotError`` names the URL and both checksums. Returns the paths of the zip files.
    Only runs when called: nothing in the course downloads by itself.
    """
    timeout = check_positive("timeout", timeout)
    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in archives:
        if name not in checksums:
            raise ValueError(
                f"archives: no checksum known for {name!r}; known: {', '.join(map(repr, checksums))}. "
                "Pass checksums={name: 'sha256:…'} to download something else."
            )
        target = root / f"{name}.zip"
        if target.exists() and _checksum_ok(target, checksums[name])[0]:
            paths.append(target)
            continue
        _download(f"{base_url.rstrip('/')}/{name}.zip", target, checksums[name], timeout)
        paths.append(target)
    return paths
