"""Measuring what a meta-learning step costs: wall time and memory.

``measure(fn)`` runs ``fn`` a few times and returns a ``Cost``: the median wall time of one
call, the peak bytes of tensors that autograd kept for the backward pass during one call
(on any device; this is the memory that grows with k for second-order MAML), and on CUDA
the peak of ``torch.cuda.max_memory_allocated`` above what was in use before the call.
``measure_many`` does the same for several functions, timed in interleaved rounds; ``rates``
times loops that take n steps (``run(n)``) the same way and gives units of work per second
(the benchmarks' tasks/s). ``machine_info`` names where it all ran, for every result file.

``SavedTensors`` is the context manager behind the second number. CPU memory as the
operating system sees it is a poor measure here (the allocator keeps freed memory), so we
count what autograd itself holds: every tensor saved for backward is registered through
``torch.autograd.graph.saved_tensors_hooks`` and counted until autograd lets it go.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import re
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import torch

from ._checks import check_int

MIB = 2**20
K = TypeVar("K")


class _Held:
    """What autograd stores instead of a saved tensor: the tensor, released back to the meter when freed."""

    __slots__ = ("tensor", "meter", "key")

    def __init__(self, tensor: torch.Tensor, meter: SavedTensors, key: object) -> None:
        self.tensor, self.meter, self.key = tensor, meter, key

    def __del__(self) -> None:
        self.meter._release(self.key)


class SavedTensors:
    """Count the bytes of tensors autograd keeps for backward while the ``with`` block runs.

    ``peak`` is the most bytes held at any one time, ``current`` what is still held (e.g. by a
    graph kept for a later ``backward``), ``count`` how many tensors were saved. Tensors that
    share memory (views of one storage) are counted once. The gradients computed are unchanged.

    >>> with SavedTensors() as saved:
    ...     loss = model(x).pow(2).mean(); loss.backward()
    >>> saved.peak  # bytes
    """

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self.count = 0
        self._live: dict[object, list[int]] = {}
        self._hooks: torch.autograd.graph.saved_tensors_hooks | None = None

    @staticmethod
    def _key_and_size(t: torch.Tensor) -> tuple[object, int]:
        try:
            storage = t.untyped_storage()
            return (t.device, storage.data_ptr()), storage.nbytes()
        except (RuntimeError, NotImplementedError):  # tensors without a plain storage (e.g. inside vmap)
            return ("id", id(t)), t.numel() * t.element_size()

    def _pack(self, t: torch.Tensor) -> _Held:
        key, size = self._key_and_size(t)
        entry = self._live.setdefault(key, [0, size])
        if entry[0] == 0:
            self.current += size
            self.peak = max(self.peak, self.current)
        entry[0] += 1
        self.count += 1
        # A detached alias: the same memory, no reference back into the graph (autograd
        # re-attaches the history when it unpacks, so double backward still works).
        return _Held(t.detach(), self, key)

    @staticmethod
    def _unpack(held: _Held) -> torch.Tensor:
        return held.tensor

    def _release(self, key: object) -> None:
        entry = self._live.get(key)
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] == 0:
            self.current -= entry[1]
            del self._live[key]

    @property
    def peak_mib(self) -> float:
        """``peak`` in MiB."""
        return self.peak / MIB

    def __enter__(self) -> SavedTensors:
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._hooks is not None
        self._hooks.__exit__(exc_type, exc, tb)
        self._hooks = None


@dataclass
class Cost:
    """What one call costs: median wall time (s), peak autograd-saved bytes, and the CUDA peak (or None)."""

    seconds: float
    saved_bytes: int
    device_bytes: int | None = None

    @property
    def ms(self) -> float:
        """``seconds`` in milliseconds."""
        return 1e3 * self.seconds

    @property
    def saved_mib(self) -> float:
        """``saved_bytes`` in MiB."""
        return self.saved_bytes / MIB

    @property
    def device_mib(self) -> float | None:
        """``device_bytes`` in MiB (None on CPU)."""
        return None if self.device_bytes is None else self.device_bytes / MIB


def _sync(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    fn: Callable[[], object],
    *,
    repeats: int = 5,
    warmup: int = 1,
    min_time: float = 0.02,
    device: torch.device | str | None = None,
) -> Cost:
    """Time ``fn()`` (median of ``repeats`` samples after ``warmup`` untimed calls) and measure its memory.

    A sample times enough back-to-back calls to last at least ``min_time`` seconds (the number is
    set from the last warm-up call) and divides by their number, so a fast function is not at the
    mercy of one interruption. Memory comes from one more call: the peak bytes autograd saved for
    backward (``SavedTensors``) and, when ``device`` is a CUDA device, ``torch.cuda.max_memory_allocated``
    during the call minus the memory allocated before it. CUDA work is synchronised before each
    clock reading.
    """
    return measure_many({0: fn}, repeats=repeats, warmup=warmup, min_time=min_time, device=device)[0]


def measure_many(
    fns: Mapping[K, Callable[[], object]],
    *,
    repeats: int = 5,
    warmup: int = 1,
    min_time: float = 0.02,
    device: torch.device | str | None = None,
) -> dict[K, Cost]:
    """``measure`` for several functions, timed in interleaved rounds: each round takes one sample of each.

    On a machine shared with other work, a busy moment then slows all of them alike instead of
    the few that happened to be running, so their medians stay comparable.
    """
    dev = torch.device(device) if device is not None else None
    wall, _, _ = _rounds({key: _calls(fn) for key, fn in fns.items()}, repeats, warmup, min_time, dev)
    return {key: Cost(statistics.median(wall[key]), *_memory(fn, dev)) for key, fn in fns.items()}


@dataclass
class Rate:
    """Units of work per second of one loop: the median, min and max over the samples (wall time), and the
    median per second of this process's CPU time (all its threads), which other processes disturb less."""

    median: float
    min: float
    max: float
    per_cpu_s: float
    repeats: int
    steps_per_repeat: int


def rates(
    runs: Mapping[K, Callable[[int], object]],
    *,
    units: Mapping[K, float] | None = None,
    repeats: int = 5,
    warmup: int = 2,
    min_time: float = 1.0,
    device: torch.device | str | None = None,
) -> dict[K, Rate]:
    """Throughput of each ``run(n)``, a loop that takes n steps of ``units[key]`` units of work each (tasks, say).

    Timed as ``measure_many`` times functions: ``warmup`` untimed one-step calls (the last sizes the samples),
    then ``repeats`` interleaved rounds of one sample each, a sample being one call with enough steps to
    last about ``min_time`` seconds. One call of many steps, not many calls, so a loop's own start-up
    (argument checks, a progress bar) is paid once per sample, as in a long training run.
    """
    dev = torch.device(device) if device is not None else None
    wall, cpu, number = _rounds(runs, repeats, warmup, min_time, dev)
    out = {}
    for key in runs:
        u = 1.0 if units is None else float(units[key])
        per_s = [u / max(t, 1e-12) for t in wall[key]]
        out[key] = Rate(
            median=statistics.median(per_s),
            min=min(per_s),
            max=max(per_s),
            per_cpu_s=statistics.median(u / max(t, 1e-12) for t in cpu[key]),
            repeats=len(per_s),
            steps_per_repeat=number[key],
        )
    return out


def _calls(fn: Callable[[], object]) -> Callable[[int], None]:
    """``fn`` as a loop: ``n`` calls of it."""

    def run(n: int) -> None:
        for _ in range(n):
            fn()

    return run


def _rounds(
    runs: Mapping[K, Callable[[int], object]], repeats: int, warmup: int, min_time: float, dev: torch.device | None
) -> tuple[dict[K, list[float]], dict[K, list[float]], dict[K, int]]:
    """The timing harness: wall and CPU seconds per step of each sample of each ``run(n)``, and the steps per sample.

    ``warmup`` rounds of one step each (the last one sizes the samples to ``min_time``), then ``repeats``
    rounds that take one sample of every run in turn. CUDA work is synchronised before each clock reading.
    """
    repeats = check_int("repeats", repeats)
    warmup = check_int("warmup", warmup, low=0)
    if not min_time >= 0:
        raise ValueError(f"min_time must be ≥ 0 seconds; got {min_time!r}.")
    number = dict.fromkeys(runs, 1)
    wall: dict[K, list[float]] = {key: [] for key in runs}
    cpu: dict[K, list[float]] = {key: [] for key in runs}
    for r in range(warmup + repeats):
        for key, run in runs.items():
            steps = number[key] if r >= warmup else 1
            _sync(dev)
            start, start_cpu = time.perf_counter(), time.process_time()
            run(steps)
            _sync(dev)
            elapsed, elapsed_cpu = time.perf_counter() - start, time.process_time() - start_cpu
            if r >= warmup:
                wall[key].append(elapsed / steps)
                cpu[key].append(elapsed_cpu / steps)
            elif r == warmup - 1 and min_time > 0:
                number[key] = max(1, math.ceil(min_time / max(elapsed, 1e-9)))
    return wall, cpu, number


def _memory(fn: Callable[[], object], dev: torch.device | None) -> tuple[int, int | None]:
    """Peak autograd-saved bytes of one call of ``fn``, and on CUDA its peak allocation above the start."""
    cuda = dev is not None and dev.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
        before = torch.cuda.memory_allocated(dev)
    with SavedTensors() as saved:
        out = fn()
        _sync(dev)
    device_bytes = torch.cuda.max_memory_allocated(dev) - before if cuda else None
    del out
    return saved.peak, device_bytes


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            found = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)
    except OSError:
        found = None
    return found or platform.processor() or platform.machine() or "unknown CPU"


def machine(device: torch.device | str | None = None, lang: str | None = None) -> str:
    """A one-line description of where timings were taken: CPU model and cores (and the GPU on CUDA), in
    ``lang`` (default: the language of ``set_language()``)."""
    from .i18n import tr

    cores, threads = os.cpu_count(), torch.get_num_threads()
    text = tr("machine", lang, cpu=_cpu_model(), cores=cores, torch=torch.__version__, threads=threads)
    dev = torch.device(device) if device is not None else None
    if dev is not None and dev.type == "cuda":
        text = tr("machine_cuda", lang, gpu=torch.cuda.get_device_name(dev), host=text)
    return text


def load_average() -> list[float] | None:
    """The 1-, 5- and 15-minute load averages of the machine, rounded (``None`` where the system has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info(device: torch.device | str | None = None) -> dict[str, object]:
    """Everything a result file records about where it was measured: CPU, cores, GPU, versions, torch threads,
    OpenMP's wait policy, the date and the load average now; ``description`` is ``machine(device)`` in English, and
    ``slug`` (e.g. ``intel-xeon-processor-2c``) names result files after the CPU, or after the GPU when
    ``device`` is a CUDA device."""
    from . import __version__

    dev = torch.device(device) if device is not None else None
    cpu, cores = _cpu_model(), os.cpu_count() or 1
    gpu = (
        torch.cuda.get_device_name(dev if dev is not None and dev.type == "cuda" else 0)
        if torch.cuda.is_available()
        else None
    )
    named = gpu if gpu is not None and dev is not None and dev.type == "cuda" else cpu
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"\((r|tm)\)|cpu|@.*", "", named.lower())).strip("-") + f"-{cores}c"
    return {
        "description": machine(device, lang="en"),
        "slug": slug,
        "cpu": cpu,
        "cores": cores,
        "gpu": gpu,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "reptile_edu": __version__,
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "torch_threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: active)"),
        "load_average": load_average(),
    }
