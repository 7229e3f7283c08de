"""Benchmarks of reptile-edu: speed and memory against a seed-style loop and against ``higher``.

    .venv/bin/python benchmarks/run.py            # the full run (about 5 minutes on 2 idle CPU cores)
    .venv/bin/python benchmarks/run.py --quick    # a rough check (about 30 s)

writes ``benchmarks/results/<machine>.json``, ``<machine>.md`` and ``<machine>-memory.png``
(``--quick`` adds ``-quick`` to the names, ``--threads N`` other than 1 adds ``-threadsN``).
Sections, all on this machine in one run:

1. Reptile throughput on sine (the Reptile sine demo: 1-64-64-1 tanh, 50 points per task, k = 5 SGD
   steps of η = 0.02 on minibatches of 10 of them):
   tasks adapted per second by ``reptile_edu.reptile`` at meta-batch n = 1, 10, 25, 100, by the
   same with its inner loop on autograd (``reptile_edu.inner.autograd_only()``; the package
   uses the hand-derived MLP gradient of ``MLP.sgd_steps``), by the seed-style loop
   (``seed_style.py``) and by a stripped-down prototype (``fast_reptile.py``: the same hand-derived
   backward without the package's per-step checks and its support loss after adaptation).
2. Time to quality: training time until the post-adaptation MSE on 100 fixed held-out tasks
   (10 shots, 32 SGD steps of η = 0.02, 100 query points) is at most 0.2. Evaluation time is
   not counted, for every contender alike.
3. MAML throughput (second order, MAML sine setting, meta-batch 25, k = 1 and 5): meta-steps per
   second of ``reptile_edu.maml`` against the same training written with ``higher``.
4. Memory: peak memory of one meta-step of MAML, FOMAML and Reptile for k = 1 … 32.
5. GPU (only when CUDA is available): tasks per second against meta-batch size, and the speed-up
   over this machine's CPU.

Every rate is the median of several interleaved repeats after a warm-up (``reptile_edu.measure.rates``,
the package's one timing harness), so that a burst of load from other processes hits all contenders
alike; the machine and the load average are recorded (``reptile_edu.measure.machine_info``), and every
time is also given in CPU time of this process, which other processes disturb less. ``report.py``
turns the results into the goals table and the Markdown report.

Options: ``--threads N`` (torch threads, default 1; the results include a check of 1 against 2:
these kernels are too small to gain from a second thread, and OpenMP's waiting threads make a
shared machine much slower); ``--clock cpu`` (time to quality capped and compared in CPU time,
for a busy shared machine; the default is wall time); ``--sections reptile,ttq,maml,memory,gpu``
(some sections only); ``--search`` (the (n, ε) search behind the time-to-quality settings, a few
minutes; writes ``<machine>-search.*``; with ``--sections search`` alone).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.metadata
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fast_reptile
import maml_baselines
import seed_style
from report import goals, markdown

import reptile_edu
from reptile_edu import (
    MLP,
    DivergenceError,
    SineFamily,
    evaluate,
    maml,
    maml_meta_gradient,
    reptile,
    reptile_step,
)
from reptile_edu.inner import autograd_only
from reptile_edu.measure import load_average, machine_info, rates

# ---------------------------------------------------------------------------
# Settings

REPTILE = {"k": 5, "eta": 0.02, "batch_size": 10}  # the Reptile sine demo's inner loop …
DEMO_SHOTS = 50  # … on 50 points per task


def _demo_family() -> SineFamily:
    return SineFamily("reptile", shots=DEMO_SHOTS)


MAML = {"eta": 0.01, "meta_lr": 1e-3, "meta_batch": 25}  # the MAML paper's sine setting
TARGET_MSE = 0.2


@dataclass
class Settings:
    """How long and how often each section runs (``full``, ``quick`` or ``tiny`` for the test)."""

    name: str
    chunk_s: float  # the length of one timed repeat
    repeats: int
    meta_batches: tuple[int, ...] = (1, 10, 25, 100)
    comparison_meta_batches: tuple[int, ...] = (1, 10, 25, 100)  # for the autograd path and the prototype
    # time to quality: candidates (n, ε) for the package and the prototype, and ε for the seed-style loop
    # (serial Reptile, n = 1), each run for every seed in ttq_seeds. Chosen with --search
    # (results/*-search.md): ε = 1 with n = 2 … 10 needs about 900-1 400 outer steps to the target,
    # serial Reptile at ε = 0.5 about 2 400, at ε = 0.7 or 0.3 more; ε = 1 at n = 1 never gets there.
    ttq_package: tuple[tuple[int, float], ...] = ((2, 1.0), (5, 1.0), (10, 1.0), (1, 0.5))
    ttq_seed_eps: tuple[float, ...] = (0.3, 0.5, 0.7)
    ttq_seeds: tuple[int, ...] = (0, 1, 2)
    ttq_cap_s: float = 30.0  # per run of the package or the prototype
    ttq_seed_cap_s: float = 60.0  # per run of the seed-style loop
    ttq_target: float = TARGET_MSE
    ttq_eval_tasks: int = 100
    ttq_first_eval_s: float = 0.25
    clock: str = "wall"  # what the time-to-quality caps and comparisons use: "wall" or "cpu" (process) time
    maml_ks: tuple[int, ...] = (1, 5)
    memory_ks: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    gpu_meta_batches: tuple[int, ...] = (1, 10, 100, 1000, 4000)
    gpu_episode_batches: tuple[int, ...] = (1, 10, 100)
    search_eps: dict[int, tuple[float, ...]] = field(default_factory=dict)
    search_max_tasks: int = 0


FULL = Settings("full", chunk_s=1.0, repeats=5)
QUICK = Settings(
    "quick",
    chunk_s=0.2,
    repeats=3,
    comparison_meta_batches=(25,),
    ttq_package=((5, 1.0),),
    ttq_seed_eps=(0.5,),
    ttq_seeds=(0,),
    ttq_cap_s=4.0,
    ttq_seed_cap_s=6.0,
    memory_ks=(1, 4, 16, 32),
    gpu_meta_batches=(1, 100, 1000),
    gpu_episode_batches=(1, 10),
)
TINY = Settings(
    "tiny",
    chunk_s=0.02,
    repeats=1,
    meta_batches=(1, 4),
    comparison_meta_batches=(4,),
    ttq_package=((4, 1.0), (2, 0.5)),
    ttq_seed_eps=(0.5,),
    ttq_seeds=(0,),
    ttq_cap_s=0.2,
    ttq_seed_cap_s=0.2,
    ttq_target=1e9,  # reached at the first evaluation: proves the machinery, not the quality
    ttq_eval_tasks=4,
    ttq_first_eval_s=0.02,
    maml_ks=(1,),
    memory_ks=(1, 2),
    gpu_meta_batches=(1, 2),
    gpu_episode_batches=(1, 2),
)
#: ``--search``: Reptile at several (n, ε), run with the prototype (the package's arithmetic, faster)
#: and compared in tasks and outer steps to the target; n = 1 is the seed-style loop's algorithm.
SEARCH_EPS = {1: (0.1, 0.2, 0.3, 0.5, 0.7, 1.0), 2: (0.5, 1.0), 5: (0.5, 1.0), 10: (0.5, 1.0), 25: (0.5, 1.0)}
SEARCH_CAP_S = 30.0


# ---------------------------------------------------------------------------
# Timing: reptile_edu.measure.rates (interleaved rounds, wall and CPU time)

#: A loop to time: ``run(steps)`` takes that many steps of ``units`` units of work each (tasks, meta-steps).
Run = tuple[Callable[[int], object], float]


def timed(runs: dict[str, Run], s: Settings, repeats: int | None = None, device: str | None = None) -> dict[str, dict]:
    """Units per second of each run, in interleaved rounds (``reptile_edu.measure.rates``): ``median``, ``min``,
    ``max`` per second of wall time, ``per_cpu_s`` per second of this process's CPU time."""
    got = rates(
        {key: run for key, (run, _) in runs.items()},
        units={key: units for key, (_, units) in runs.items()},
        repeats=repeats or s.repeats,
        min_time=s.chunk_s,
        device=device if device is not None and torch.device(device).type == "cuda" else None,
    )
    return {key: asdict(r) for key, r in got.items()}


# ---------------------------------------------------------------------------
# 1. Reptile throughput


def _reptile_run(n: int, device: str = "cpu", seed: int = 0, autograd: bool = False) -> Run:
    torch.manual_seed(seed)
    model = MLP.preset("reptile").to(device)
    family, g = _demo_family(), torch.Generator().manual_seed(seed)

    def run(steps: int) -> None:
        with autograd_only() if autograd else contextlib.nullcontext():
            reptile(model, family, steps=steps, **REPTILE, epsilon=0.1, meta_batch=n, generator=g, progress=False)

    return run, n


def _prototype_run(n: int, seed: int = 0) -> Run:
    torch.manual_seed(seed)
    model = MLP.preset("reptile")
    family, g = _demo_family(), torch.Generator().manual_seed(seed)

    def run(steps: int) -> None:
        fast_reptile.fast_reptile(model, family, steps=steps, **REPTILE, epsilon=0.1, meta_batch=n, generator=g)

    return run, n


def _seed_run(seed: int = 0) -> Run:
    torch.manual_seed(seed)
    model = seed_style.SineNet()
    calls = iter(range(seed, 10**9))

    def run(steps: int) -> None:
        seed_style.train(model, steps, **REPTILE, epsilon=0.1, seed=next(calls))

    return run, 1


def reptile_throughput(s: Settings) -> dict[str, object]:
    runs = {"seed_style": _seed_run()}
    runs |= {f"package_n{n}": _reptile_run(n) for n in s.meta_batches}
    runs |= {f"autograd_n{n}": _reptile_run(n, autograd=True) for n in s.comparison_meta_batches}
    runs |= {f"prototype_n{n}": _prototype_run(n) for n in s.comparison_meta_batches}
    by_key = timed(runs, s)
    seed = by_key["seed_style"]["median"]
    for r in by_key.values():
        r["speedup_vs_seed"] = r["median"] / seed
    return {
        "setting": "SineFamily('reptile', shots=50), MLP.preset('reptile') 1-64-64-1 tanh, k=5 SGD steps of "
        "η=0.02 on minibatches of 10 of the 50 points (the Reptile demo's inner loop), ε=0.1; tasks adapted "
        "per second, task sampling included",
        "unit": "tasks/s",
        "rates": by_key,
    }


def threads_check(s: Settings, threads: int) -> dict[str, dict[str, float]]:
    """Package Reptile at n = 25 with 1 and 2 threads, interleaved: is intra-op threading worth it here?"""
    runs: dict[str, Run] = {}
    for t in sorted({1, 2, threads}):
        inner, units = _reptile_run(25)

        def run(steps: int, inner=inner, t=t) -> None:
            torch.set_num_threads(t)
            try:
                inner(steps)
            finally:
                torch.set_num_threads(threads)

        runs[f"package_n25_threads{t}"] = (run, units)
    by_key = timed(runs, s)
    return {key: {"tasks_per_s": r["median"], "tasks_per_cpu_s": r["per_cpu_s"]} for key, r in by_key.items()}


# ---------------------------------------------------------------------------
# 2. Time to quality


class Stopwatch:
    """Training time with evaluation pauses; decides when to evaluate and when to stop.

    Evaluations happen after ``first`` s of training, then every ``first`` s or 5 % of the time so
    far, whichever is longer, and at the cap. The reported time is that of the first evaluation
    at or under the target, so it can overstate the true crossing by up to one interval.
    """

    def __init__(
        self, evaluate_fn: Callable[[], float], target: float, cap_s: float, first: float, clock: str = "wall"
    ) -> None:
        self.evaluate_fn, self.target, self.cap_s, self.first, self.clock = evaluate_fn, target, cap_s, first, clock
        self.train_s = self.train_cpu_s = 0.0
        self.next_eval = first
        self.curve: list[tuple[float, float, int, float]] = []
        self.result = "cap"
        self.start()

    def start(self) -> None:
        self.mark, self.mark_cpu = time.perf_counter(), time.process_time()

    def tick(self, tasks: int) -> bool:
        """Called after every outer step; False means stop."""
        self.train_s += time.perf_counter() - self.mark
        self.train_cpu_s += time.process_time() - self.mark_cpu
        elapsed = self.train_s if self.clock == "wall" else self.train_cpu_s
        if elapsed >= self.next_eval or elapsed >= self.cap_s:
            try:
                mse = self.evaluate_fn()
            except DivergenceError:
                mse = math.nan
            self.curve.append((round(self.train_s, 3), round(self.train_cpu_s, 3), tasks, round(mse, 4)))
            if not math.isfinite(mse):
                self.result = "diverged"
                return False
            if mse <= self.target:
                self.result = "reached"
                return False
            if elapsed >= self.cap_s:
                return False
            self.next_eval = max(elapsed + self.first, elapsed * 1.05)
        self.start()
        return True

    def report(self, **settings: object) -> dict[str, object]:
        last = self.curve[-1] if self.curve else (self.train_s, self.train_cpu_s, 0, math.nan)
        return {
            "settings": settings,
            "result": self.result,
            "time_s": last[0],
            "cpu_time_s": last[1],
            "tasks": last[2],
            "mse": last[3],
            "cap_s": round(self.cap_s, 2),
            "clock": self.clock,
            "evaluations": len(self.curve),
            "curve_time_cputime_tasks_mse": self.curve,
        }


def _held_out(s: Settings, seed: int) -> reptile_edu.Episodes:
    return SineFamily("reptile", shots=10, queries=100).episodes(s.ttq_eval_tasks, torch.Generator().manual_seed(seed))


def _mse_after_adaptation(model: torch.nn.Module, held: reptile_edu.Episodes) -> float:
    return evaluate(model, held, k=32, eta=0.02).final


def ttq_package(n: int, eps: float, held, s: Settings, cap_s: float, seed: int, prototype: bool = False):
    torch.manual_seed(seed)
    model = MLP.preset("reptile")
    family, g = _demo_family(), torch.Generator().manual_seed(seed)
    watch = Stopwatch(lambda: _mse_after_adaptation(model, held), s.ttq_target, cap_s, s.ttq_first_eval_s, s.clock)
    watch.start()
    try:
        if prototype:
            fast_reptile.fast_reptile(
                model, family, steps=10**9, **REPTILE, epsilon=eps, meta_batch=n, generator=g,
                callback=lambda step, _loss: watch.tick(step * n),
            )  # fmt: skip
        else:
            reptile(
                model, family, steps=10**9, **REPTILE, epsilon=eps, meta_batch=n, generator=g, progress=False,
                callback=lambda step, _loss: watch.tick(step * n),
            )  # fmt: skip
    except (DivergenceError, FloatingPointError):
        watch.result = "diverged"
    return watch.report(meta_batch=n, epsilon=eps, **REPTILE)


def ttq_seed(eps: float, held, s: Settings, cap_s: float, seed: int):
    torch.manual_seed(seed)
    model = seed_style.SineNet()
    mirror = MLP.preset("reptile")  # the same weights in the package's MLP, to evaluate both the same way

    def mse() -> float:
        with torch.no_grad():
            for dst, src in zip(mirror.parameters(), model.parameters()):
                dst.copy_(src)
        return _mse_after_adaptation(mirror, held)

    family, g = _demo_family(), torch.Generator().manual_seed(seed)

    def sample() -> tuple[torch.Tensor, torch.Tensor]:  # the package's task stream at n = 1, same seed
        ep = family.episodes(1, g)
        return ep.x_support[0], ep.y_support[0]

    watch = Stopwatch(mse, s.ttq_target, cap_s, s.ttq_first_eval_s, s.clock)
    watch.start()
    seed_style.train(model, 10**9, **REPTILE, epsilon=eps, callback=lambda step, _loss: watch.tick(step), sample=sample)
    return watch.report(meta_batch=1, epsilon=eps, **REPTILE)


def _median_of_seeds(per_seed: list[dict], tkey: str) -> dict[str, object]:
    """The run with the median time over seeds (a run that did not reach the target counts as ∞)."""
    order = sorted(per_seed, key=lambda r: (r["result"] != "reached", r[tkey]))
    med = order[len(order) // 2]
    summary = {k: med[k] for k in ("settings", "result", "time_s", "cpu_time_s", "tasks", "cap_s", "clock")}
    summary["per_seed"] = [
        {k: r[k] for k in ("seed", "result", "time_s", "cpu_time_s", "tasks", "mse")} for r in per_seed
    ]
    summary["runs"] = per_seed
    return summary


def time_to_quality(s: Settings, seed: int = 0, log: Callable[[str], None] = print) -> dict[str, object]:
    """Each candidate setting, over ``s.ttq_seeds`` seeds; its time is the median over seeds."""
    held = _held_out(s, seed + 1000)
    tkey = "time_s" if s.clock == "wall" else "cpu_time_s"
    seeds = [seed + i for i in s.ttq_seeds]

    def best_of(runs: list[dict]) -> dict | None:
        reached = [r for r in runs if r["result"] == "reached"]
        return min(reached, key=lambda r: r[tkey]) if reached else None

    def over_seeds(run: Callable[[int], dict]) -> dict:
        per_seed = []
        for sd in seeds:
            per_seed.append(run(sd))
            per_seed[-1]["seed"] = sd
        return _median_of_seeds(per_seed, tkey)

    runs: dict[str, list[dict]] = {"package": [], "prototype": [], "seed_style": []}
    for who in ("package", "prototype"):
        for n, eps in s.ttq_package:
            r = over_seeds(
                lambda sd, n=n, eps=eps, who=who: ttq_package(n, eps, held, s, s.ttq_cap_s, sd, who != "package")
            )
            runs[who].append(r)
            log(f"  {who} n={n} ε={eps}: {r['result']}, median {r[tkey]:.1f} s")
    for eps in s.ttq_seed_eps:
        r = over_seeds(lambda sd, eps=eps: ttq_seed(eps, held, s, s.ttq_seed_cap_s, sd))
        runs["seed_style"].append(r)
        log(f"  seed-style ε={eps}: {r['result']}, median {r[tkey]:.1f} s")
    best = {who: best_of(found) for who, found in runs.items()}
    out: dict[str, object] = {
        "setting": "Reptile sine demo (training: 50 points per task, k=5 SGD steps of η=0.02 on minibatches "
        f"of 10); held-out: {s.ttq_eval_tasks} fixed tasks, 10 shots, 100 queries, 32 SGD steps of η=0.02; "
        f"target MSE ≤ {s.ttq_target}; evaluation time not counted; median over seeds {seeds}; caps and "
        f"comparisons in {'wall' if s.clock == 'wall' else 'CPU (process)'} time",
        "clock": s.clock,
        "seeds": seeds,
        "package_runs": runs["package"],
        "prototype_runs": runs["prototype"],
        "seed_style_runs": runs["seed_style"],
        "package_best": best["package"],
        "prototype_best": best["prototype"],
        "seed_style_best": best["seed_style"],
    }
    best_seed = best["seed_style"]
    for who, prefix in (("package", ""), ("prototype", "prototype_")):
        mine = best[who]
        if not mine:
            continue
        if best_seed:
            out[prefix + "speedup_vs_seed"] = best_seed["time_s"] / mine["time_s"]
            out[prefix + "speedup_vs_seed_cpu_time"] = best_seed["cpu_time_s"] / mine["cpu_time_s"]
        else:  # the seed-style loop never got there: a lower bound
            slowest = runs["seed_style"]
            out[prefix + "speedup_vs_seed_at_least"] = max(r["time_s"] for r in slowest) / mine["time_s"]
            out[prefix + "speedup_vs_seed_cpu_time_at_least"] = (
                max(r["cpu_time_s"] for r in slowest) / mine["cpu_time_s"]
            )
    return out


def ttq_search(s: Settings, seed: int = 0, log: Callable[[str], None] = print) -> list[dict]:
    """Tasks needed to reach the target for several (n, ε), with the exact prototype (fast, same arithmetic)."""
    held = _held_out(s, seed + 1000)
    out = []
    for n, eps_list in SEARCH_EPS.items():
        for eps in eps_list:
            r = ttq_package(n, eps, held, s, SEARCH_CAP_S if s.name == "full" else s.ttq_cap_s, seed, prototype=True)
            r["outer_steps"] = r["tasks"] // n
            out.append(r)
            log(f"  search n={n} ε={eps}: {r['result']}, {r['tasks']} tasks, {r['time_s']:.1f} s")
    return out


# ---------------------------------------------------------------------------
# 3. MAML throughput


def _higher_status() -> tuple[bool, str]:
    try:
        import higher

        net = maml_baselines.sine_net()
        maml_baselines.higher_meta_gradient(
            net, SineFamily("maml").episodes(2, torch.Generator().manual_seed(0)), k=1, eta=0.01
        )
        assert higher.innerloop_ctx
        return True, f"higher {importlib.metadata.version('higher')} works with torch {torch.__version__}"
    except Exception as err:
        return False, f"{type(err).__name__}: {err}"


def maml_throughput(s: Settings, seed: int = 0) -> dict[str, object]:
    ok, status = _higher_status()
    baseline = "higher" if ok else "per_task_loop"
    family = SineFamily("maml")
    out: dict[str, object] = {
        "setting": "SineFamily('maml'), MLP 1-40-40-1 ReLU, second-order MAML, meta-batch 25, inner SGD "
        "η=0.01, Adam meta_lr=1e-3; meta-steps per second, task sampling included",
        "baseline": baseline,
        "baseline_status": status,
        "unit": "meta-steps/s",
        "by_k": {},
    }
    # the two compute the same meta-gradient: check it once
    torch.manual_seed(seed)
    net = maml_baselines.sine_net()
    mlp = MLP.preset("maml")
    with torch.no_grad():  # the same θ in both (the parameters come in the same order)
        for dst, src in zip(mlp.parameters(), net.parameters()):
            dst.copy_(src)
    ep = family.episodes(MAML["meta_batch"], torch.Generator().manual_seed(seed))
    (maml_baselines.higher_meta_gradient if ok else maml_baselines.loop_meta_gradient)(net, ep, k=2, eta=MAML["eta"])
    ref, _ = maml_meta_gradient(mlp, ep, k=2, eta=MAML["eta"])
    out["max_abs_gradient_difference"] = max(
        (p.grad - ref[name]).abs().max().item() for p, (name, _) in zip(net.parameters(), mlp.named_parameters())
    )
    for k in s.maml_ks:
        torch.manual_seed(seed)
        model = MLP.preset("maml")
        g1 = torch.Generator().manual_seed(seed)

        def run_package(steps: int, model=model, g1=g1, k=k) -> None:
            maml(model, family, steps=steps, k=k, **MAML, generator=g1, progress=False)

        torch.manual_seed(seed)
        net = maml_baselines.sine_net()
        opt = torch.optim.Adam(net.parameters(), lr=MAML["meta_lr"])
        g2 = torch.Generator().manual_seed(seed)

        def run_baseline(steps: int, net=net, opt=opt, g2=g2, k=k) -> None:
            maml_baselines.train(
                net, family, opt, steps, k=k, eta=MAML["eta"], meta_batch=MAML["meta_batch"], generator=g2,
                use_higher=ok,
            )  # fmt: skip

        by_key: dict[str, object] = timed({"package": (run_package, 1), baseline: (run_baseline, 1)}, s)
        by_key["speedup"] = by_key["package"]["median"] / by_key[baseline]["median"]
        out["by_k"][str(k)] = by_key
    return out


# ---------------------------------------------------------------------------
# 4. Memory


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (the profiler's C++ start/stop lines) for a moment."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            sys.stderr.flush()
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def peak_bytes(fn: Callable[[], object], device: str = "cpu") -> int:
    """Peak bytes allocated by torch while ``fn`` runs, above what was allocated when it started.

    CUDA: ``torch.cuda.max_memory_allocated``. CPU: every allocation and free of torch's CPU
    allocator as recorded by ``torch.profiler`` (``profile_memory=True``), summed in time order;
    the peak of that running sum. This counts tensors (activations kept for backward, per-task
    parameters, gradients), not Python objects or the allocator's cached pages.
    """
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    from torch.profiler import ProfilerActivity, profile

    with warnings.catch_warnings(), _quiet_stderr():
        warnings.simplefilter("ignore")
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]")
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak


def memory(s: Settings, device: str = "cpu", seed: int = 0) -> dict[str, object]:
    family = SineFamily("maml")
    ep = family.episodes(MAML["meta_batch"], torch.Generator().manual_seed(seed), device)
    torch.manual_seed(seed)
    model = MLP.preset("maml").to(device)
    steps = {
        "MAML": lambda k: maml_meta_gradient(model, ep, k=k, eta=MAML["eta"]),
        "FOMAML": lambda k: maml_meta_gradient(model, ep, k=k, eta=MAML["eta"], first_order=True),
        "Reptile": lambda k: reptile_step(model, ep, k=k, eta=MAML["eta"], epsilon=0.1),
    }
    mib: dict[str, dict[str, float]] = {}
    for name, step in steps.items():
        step(1)  # warm-up
        mib[name] = {str(k): peak_bytes(lambda step=step, k=k: step(k), device) / 2**20 for k in s.memory_ks}
    method = "torch.cuda.max_memory_allocated" if torch.device(device).type == "cuda" else "torch.profiler"
    return {
        "setting": "one meta-step (meta-gradient, or Reptile's adaptation and update) of MLP 1-40-40-1 ReLU "
        "on 25 MAML sine tasks, η=0.01",
        "device": device,
        "method": method,
        "unit": "MiB above the memory in use before the step",
        "peak_mib": mib,
    }


def plot_memory(results: dict[str, object], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"MAML": ("o", "-"), "FOMAML": ("s", "--"), "Reptile": ("^", ":")}  # FOMAML and Reptile overlap
    fig, ax = plt.subplots(figsize=(6, 4))
    for entry in results:
        for name, by_k in entry["peak_mib"].items():
            ks = [int(k) for k in by_k]
            label = f"{name} ({entry['device']}, {entry['method']})"
            marker, line = styles.get(name, ("o", "-"))
            ax.plot(ks, list(by_k.values()), marker=marker, linestyle=line, label=label)
    ax.set_ylim(bottom=0)
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("inner steps k")
    ax.set_ylabel("peak memory of one meta-step (MiB)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------
# 5. GPU


def _episode_source(device: str):
    """5-way 5-shot character episodes and the conv net, when the package has them; else a reason."""
    try:
        from reptile_edu.models import ConvNet
        from reptile_edu.sampler import EpisodeSampler
    except ImportError as err:
        return None, None, f"skipped: {err}"
    if torch.device(device).type == "cuda":
        from reptile_edu.alphabets import builtin_alphabets

        images = builtin_alphabets("train")
    else:  # the CPU code path (tests): random images of the right shape, no data generation
        images = torch.randint(0, 256, (20, 20, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return EpisodeSampler(images, ways=5, shots=5, queries=5), ConvNet, None


def gpu(s: Settings, device: str = "cuda", seed: int = 0) -> dict[str, object]:
    """Tasks per second against meta-batch size on ``device`` and on the CPU; ``device='cpu'`` tests the code."""
    sine: dict[str, dict[str, float]] = {}
    for n in s.gpu_meta_batches:
        runs = {"device": _reptile_run(n, device, seed), "cpu": _reptile_run(n, "cpu", seed)}
        by_key = timed(runs, s, max(1, s.repeats - 2), device)
        sine[str(n)] = {"device": by_key["device"]["median"], "cpu": by_key["cpu"]["median"]}
        sine[str(n)]["speedup"] = sine[str(n)]["device"] / sine[str(n)]["cpu"]
    out: dict[str, object] = {
        "device": device,
        "name": torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else "cpu (code-path check)",
        "sine_reptile_tasks_per_s": sine,
    }
    sampler, conv_net, reason = _episode_source(device)
    if sampler is None:
        out["episodes"] = reason
        return out
    episodes: dict[str, dict[str, float]] = {}
    for n in s.gpu_episode_batches:
        runs = {}
        for key, dev in (("device", device), ("cpu", "cpu")):
            torch.manual_seed(seed)
            model = conv_net(5).to(dev)
            g = torch.Generator().manual_seed(seed)

            def run(steps: int, model=model, g=g, n=n) -> None:
                reptile(
                    model, sampler, steps=steps, k=5, eta=0.01, epsilon=1.0, meta_batch=n, generator=g, progress=False
                )

            runs[key] = (run, n)
        by_key = timed(runs, s, max(1, s.repeats - 2), device)
        episodes[str(n)] = {"device": by_key["device"]["median"], "cpu": by_key["cpu"]["median"]}
        episodes[str(n)]["speedup"] = episodes[str(n)]["device"] / episodes[str(n)]["cpu"]
    out["episodes"] = {
        "setting": "Reptile, ConvNet(5) on 5-way 5-shot 28×28 character episodes, k=5 SGD steps of η=0.01",
        "tasks_per_s": episodes,
    }
    return out


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, object]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="a rough check in about 30 s")
    p.add_argument("--tiny", action="store_true", help="seconds; for the test suite, numbers mean nothing")
    p.add_argument(
        "--search",
        action="store_true",
        help="also search (n, ε) for time to quality (+ ~10 min; the files get -search);\n"
        "--search --sections search runs the search alone",
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="folder for the results (default %(default)s)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads (default %(default)s: the kernels are too small to gain from more; see the threads check)",
    )
    p.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time to quality: cap and compare in wall time (default) or in this process's CPU time, "
        "which other processes on a shared machine disturb less",
    )
    p.add_argument("--sections", default="reptile,ttq,maml,memory,gpu", help="comma-separated (default: all)")
    p.add_argument("--gpu-device", default=None, help=argparse.SUPPRESS)  # 'cpu' exercises the GPU code path
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    s = dataclasses.replace(TINY if args.tiny else QUICK if args.quick else FULL, clock=args.clock)
    sections = set(args.sections.split(","))
    log = (lambda _msg: None) if args.tiny else (lambda msg: print(msg, flush=True))
    threads_before = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    reptile_edu.seed_everything(args.seed)
    start = time.perf_counter()
    machine = machine_info("cuda" if torch.cuda.is_available() else None)
    machine["load_average_start"] = machine.pop("load_average")
    results: dict[str, object] = {
        "machine": machine,
        "mode": s.name,
        "command": "python benchmarks/run.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "settings": {k: v for k, v in asdict(s).items() if k != "search_eps"},
    }
    try:
        if "reptile" in sections:
            log("1. Reptile throughput …")
            results["reptile_throughput"] = reptile_throughput(s)
            results["threads_check"] = threads_check(s, args.threads)
        if "ttq" in sections:
            log("2. Time to quality …")
            results["time_to_quality"] = time_to_quality(s, args.seed, log)
        if args.search:
            log("2b. Search for time to quality …")
            results["time_to_quality_search"] = ttq_search(s, args.seed, log)
        if "maml" in sections:
            log("3. MAML throughput …")
            results["maml_throughput"] = maml_throughput(s, args.seed)
        if "memory" in sections:
            log("4. Memory …")
            results["memory"] = [memory(s, "cpu", args.seed)]
            if torch.cuda.is_available():
                results["memory"].append(memory(s, "cuda", args.seed))
        if "gpu" in sections:
            device = args.gpu_device or ("cuda" if torch.cuda.is_available() else None)
            if device is None:
                results["gpu"] = "skipped: torch.cuda.is_available() is False"
            else:
                log(f"5. GPU ({device}) …")
                results["gpu"] = gpu(s, device, args.seed)
    finally:
        torch.set_num_threads(threads_before)
    results["machine"]["load_average_end"] = load_average()
    results["wall_s"] = time.perf_counter() - start
    results["goals"] = goals(results)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = results["machine"]["slug"] + ("" if s.name == "full" else f"-{s.name}")
    stem += ("" if args.threads == 1 else f"-threads{args.threads}") + ("-search" if args.search else "")
    if results.get("memory"):
        png = args.out / f"{stem}-memory.png"
        plot_memory(results["memory"], png, f"{results['machine']['slug']}: one meta-step, 25 sine tasks")
        results["memory_plot"] = png.name
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown(results), encoding="utf-8")
    log(f"wrote {args.out / stem}.json, .md" + (", -memory.png" if results.get("memory_plot") else ""))
    return results


if __name__ == "__main__":
    main()
