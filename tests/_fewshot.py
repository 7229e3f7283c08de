"""Shared by the few-shot tests: the built-in alphabets, generated once per test session into a temporary cache."""

from __future__ import annotations

import atexit
import contextlib
import functools
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from reptile_edu import CharacterSet, builtin_alphabets


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread for a while: the heavier few-shot tests then take the same few seconds
    on a 2-core machine that other processes share (two spinning OpenMP threads crawl there)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@functools.cache
def cache_root() -> Path:
    """A fresh cache directory for this test session (removed at exit), never the user's own cache."""
    path = Path(tempfile.mkdtemp(prefix="reptile-edu-test-cache-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def _generate() -> tuple[CharacterSet, float]:
    with one_thread():
        start = time.process_time()
        chars = builtin_alphabets("all", cache=cache_root())
        return chars, time.process_time() - start


def alphabets(split: str = "all") -> CharacterSet:
    """The built-in set (generated on the first call of the session, then from memory)."""
    return _generate()[0].split(split)


def generation_cpu_seconds() -> float:
    """CPU time the first generation took in this process (independent of other load on the machine)."""
    return _generate()[1]
