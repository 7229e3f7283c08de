"""Ctrl-C (or a kernel interrupt) never leaves θ half-written.

The training loops write θ inside ``held_interrupts()``; an interrupt that arrives meanwhile is
delivered as soon as the write is complete. The loops then stop and report ``"interrupted"``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def held_interrupts() -> Iterator[None]:
    """Hold back SIGINT while the block runs, then raise ``KeyboardInterrupt`` if one came.

    Only the main thread receives signals; elsewhere (a widget's training thread) the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
