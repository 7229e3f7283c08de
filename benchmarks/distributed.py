"""Distributed Reptile, measured: meta-steps per second on 1 and 2 CPU processes, and the GPU where there is one.

    python benchmarks/distributed.py            # CPU section (about 3 minutes) and, where CUDA exists, the GPU section
    python benchmarks/distributed.py --quick    # a rough check in about a minute
    python benchmarks/distributed.py --sections gpu   # the GPU section alone

**CPU section.** The meta-training command itself (``python -m reptile_edu.train``) runs as one process
and under ``torchrun`` as 2 processes (gloo), each process on one torch thread, for a few task families
and meta-batch sizes n.
Meta-steps per second come from the run's own metrics log (``log_every = 1``): outer steps done after a
warm-up, divided by the wall time they took, so start-up costs are left out; the log's CPU time of rank 0
gives the CPU milliseconds per step, which depend much less on other work on the machine. Runs are repeated in
interleaved rounds (1, 2, 1, 2, …) and the median is reported, with the load average before and after
each run: on a shared machine the numbers move with the load.

**GPU section** (skipped, and said so, without CUDA): Reptile tasks per second against meta-batch size
n up to 4000 on the GPU and on this machine's CPU (all its cores) in the same run, one process each,
timed with ``reptile_edu.measure``; goal: GPU ≥ 50× the CPU at n ≥ 1000. Then the NCCL path: the command
under ``torchrun`` with one process per GPU, n = 1000, against one process on one GPU, and the largest
difference in θ between the two.

Results go to ``benchmarks/results/distributed-<machine>.json`` and ``.md``, with the machine named
(``reptile_edu.measure.machine_info``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from reptile_edu import MLP, InnerLoop, SineFamily
from reptile_edu.distributed import Workers, outer_step, reptile_delta
from reptile_edu.measure import load_average, machine_info, measure_many

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_SPEEDUP = 50.0
GOAL_MIN_N = 1000

#: CPU section: (name, fields of the command, outer steps in a full run). Each run lasts a few seconds.
CPU_SETTINGS = (
    ("sine, n = 10", {"family": "sine", "meta_batch": 10}, 1200),
    ("sine, n = 100", {"family": "sine", "meta_batch": 100}, 200),
    ("sine, n = 1000", {"family": "sine", "meta_batch": 1000}, 24),
    ("characters 5-way 10-shot, n = 10", {"family": "characters", "meta_batch": 10}, 12),
)
#: (label, processes, torch threads per process, launched by torchrun)
LAUNCHES = (
    ("1 process", 1, 1, False),
    ("2 processes (gloo)", 2, 1, True),
)


# ---------------------------------------------------------------------------
# CPU: the command on 1 and 2 processes


def _command(processes: int, torchrun: bool) -> list[str]:
    if not torchrun:
        return [sys.executable, "-m", "reptile_edu.train"]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes)] + [
        "-m",
        "reptile_edu.train",
    ]


def run_command(fields: dict[str, object], steps: int, processes: int, threads: int, torchrun: bool) -> dict:
    """One run of the command; meta-steps per second after a warm-up of a fifth of the steps."""
    with tempfile.TemporaryDirectory(prefix="reptile-edu-bench-") as folder:
        args = [f"--{k.replace('_', '-')}={v}" for k, v in fields.items()]
        args += [f"--steps={steps}", "--log-every=1", "--eval-every=0", f"--checkpoint-every={10 * steps}"]
        args += ["--device=cpu", "--no-tensorboard", "--no-progress", f"--checkpoint-dir={folder}"]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        before = load_average()
        done = subprocess.run(_command(processes, torchrun) + args, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the command failed:\n{done.stdout}\n{done.stderr}")
        log = {r["step"]: r for r in map(json.loads, Path(folder, "metrics.jsonl").read_text().splitlines())}
    warm = max(1, steps // 5)
    rate = (steps - warm) / (log[steps]["time"] - log[warm]["time"])
    cpu_ms = 1e3 * (log[steps]["cpu"] - log[warm]["cpu"]) / (steps - warm)
    return {"steps_per_s": rate, "rank0_cpu_ms_per_step": cpu_ms, "load_before": before, "load_after": load_average()}


def cpu_section(quick: bool, rounds: int, log) -> dict[str, object]:  # noqa: ANN001 - log is print
    out: dict[str, object] = {}
    for name, fields, steps in CPU_SETTINGS:
        steps = max(5, steps // 4) if quick else steps
        runs: dict[str, list[dict]] = {label: [] for label, *_ in LAUNCHES}
        for _ in range(rounds):
            for label, processes, threads, torchrun in LAUNCHES:
                runs[label].append(run_command(fields, steps, processes, threads, torchrun))
                log(f"  {name:34} {label:22} {runs[label][-1]['steps_per_s']:8.2f} steps/s")
        row = {}
        for label, samples in runs.items():
            row[label] = {
                "median": statistics.median(s["steps_per_s"] for s in samples),
                "rank0_cpu_ms_per_step": statistics.median(s["rank0_cpu_ms_per_step"] for s in samples),
                "runs": samples,
            }
        base = row["1 process"]
        for r in row.values():
            r["vs_1_process"] = r["median"] / base["median"]
            r["cpu_estimate_vs_1_process"] = base["rank0_cpu_ms_per_step"] / r["rank0_cpu_ms_per_step"]
        out[name] = {"fields": fields, "steps": steps, "meta_batch": fields["meta_batch"], "launches": row}
    return out


# ---------------------------------------------------------------------------
# GPU: tasks per second against n, GPU and CPU in one run; the NCCL path


def tasks_per_second(device: torch.device, sizes: list[int], repeats: int, min_time: float = 0.2) -> dict[str, float]:
    """Reptile (sine, 1-64-64-1 tanh, k = 5) tasks per second at each meta-batch size n, one process."""
    out = {}
    for n in sizes:
        torch.manual_seed(0)
        model = MLP.preset("reptile").to(device)
        family, g, workers = SineFamily("reptile"), torch.Generator().manual_seed(0), Workers(device=device)
        inner = InnerLoop(5, 0.02)

        def step(model=model, family=family, g=g, workers=workers, n=n, inner=inner) -> None:
            result = reptile_delta(model, family.episodes(n, g, "cpu"), workers, inner)
            outer_step(model, None, result.mean_delta, 0.1)

        cost = measure_many({n: step}, repeats=repeats, warmup=2, min_time=min_time, device=device)[n]
        out[str(n)] = n / cost.seconds
    return out


def nccl_section(gpus: int, meta_batch: int, steps: int) -> dict[str, object]:
    """The command under torchrun with one process per GPU (NCCL) against one process on one GPU."""
    fields = {"family": "sine", "meta_batch": meta_batch}
    results: dict[str, object] = {}
    thetas = {}
    for label, processes, torchrun in (("1 process, 1 GPU", 1, False), (f"{gpus} processes (NCCL)", gpus, True)):
        with tempfile.TemporaryDirectory(prefix="reptile-edu-bench-") as folder:
            args = [f"--{k.replace('_', '-')}={v}" for k, v in fields.items()]
            args += [f"--steps={steps}", "--log-every=1", "--eval-every=0", "--device=cuda", "--no-progress"]
            args += ["--no-tensorboard", f"--checkpoint-dir={folder}"]
            done = subprocess.run(_command(processes, torchrun) + args, capture_output=True, text=True)
            if done.returncode != 0:
                return {"error": f"{label}: {done.stdout[-2000:]}\n{done.stderr[-2000:]}"}
            log = [json.loads(line) for line in Path(folder, "metrics.jsonl").read_text().splitlines()]
            times = {r["step"]: r["time"] for r in log}
            warm = max(1, steps // 5)
            rate = (steps - warm) / (times[steps] - times[warm])
            thetas[label] = torch.load(Path(folder, "checkpoint.pt"), weights_only=True)["model"]
            results[label] = {"steps_per_s": rate, "tasks_per_s": rate * meta_batch, "backend_line": done.stdout[:300]}
    a, b = thetas.values()
    results["max_abs_theta_difference"] = max(float((a[k] - b[k]).abs().max()) for k in a)
    return results


def gpu_section(device: str, quick: bool, log, sizes: list[int] | None = None) -> dict[str, object]:  # noqa: ANN001
    """Tasks per second against n on ``device`` and on the CPU, and the NCCL runs; ``device="cpu"`` checks the code."""
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        return {"skipped": "no CUDA device on this machine (torch.cuda.is_available() is False): GPU parts unmeasured"}
    sizes = sizes or ([10, 1000] if quick else [1, 10, 100, 1000, 4000])
    repeats, min_time = (3, 0.05) if quick else (5, 0.2)
    log(f"  tasks per second on {device} and on the CPU ({torch.get_num_threads()} threads), n = {sizes}")
    on_device = tasks_per_second(dev, sizes, repeats, min_time)
    on_cpu = tasks_per_second(torch.device("cpu"), sizes, repeats, min_time)
    table = {n: {"device": on_device[n], "cpu": on_cpu[n], "speedup": on_device[n] / on_cpu[n]} for n in on_device}
    for n, row in table.items():
        log(f"    n = {n:>5}: {row['device']:12,.0f} vs {row['cpu']:10,.0f} tasks/s: {row['speedup']:.1f}×")
    big = [row["speedup"] for n, row in table.items() if int(n) >= GOAL_MIN_N]
    out: dict[str, object] = {
        "device": device,
        "name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (code-path check, not a GPU)",
        "cpu_threads": torch.get_num_threads(),
        "setting": "Reptile on sine tasks, MLP 1-64-64-1 tanh, k = 5 SGD steps of η = 0.02, 10 support points",
        "tasks_per_s": table,
        "goal": f"GPU ≥ {GOAL_SPEEDUP:g}× the CPU's tasks per second at n ≥ {GOAL_MIN_N}",
        "goal_met": bool(big) and min(big) >= GOAL_SPEEDUP,
    }
    if dev.type == "cuda":
        gpus = torch.cuda.device_count()
        log(f"  NCCL: the command on {gpus} process(es) under torchrun against 1 process")
        out["nccl"] = nccl_section(gpus, meta_batch=1000, steps=20 if quick else 100)
    return out


# ---------------------------------------------------------------------------
# The report


def markdown(results: dict[str, object]) -> str:
    m = results["machine"]
    lines = [
        f"# Distributed Reptile: {m['description']}",
        "",
        f"{m['date']}, torch {m['torch']}, Python {m['python']}, reptile-edu {m['reptile_edu']}. "
        f"Load average (1, 5, 15 min) at the start: {m['load_average_start']}, at the end: {m['load_average_end']}.",
        f"Made by `python benchmarks/distributed.py{' --quick' if results['quick'] else ''}`.",
        "",
    ]
    cpu = results.get("cpu")
    if cpu:
        labels = [label for label, *_ in LAUNCHES]
        lines += [
            "## Meta-steps per second, CPU (the command, one torch thread per process)",
            "",
            "| setting | " + " | ".join(f"{lb}: steps/s (×)" for lb in labels) + " | "
            + " | ".join(f"{lb}: CPU ms per step, rank 0" for lb in labels) + " | CPU estimate (×) |",
            "| --- | " + " | ".join("---:" for _ in range(2 * len(labels) + 1)) + " |",
        ]  # fmt: skip
        for name, row in cpu.items():  # type: ignore[union-attr]
            launches = [row["launches"][lb] for lb in labels]
            cells = [f"{r['median']:.2f} ({r['vs_1_process']:.2f}×)" for r in launches]
            cells += [f"{r['rank0_cpu_ms_per_step']:.1f}" for r in launches]
            cells.append(f"{launches[-1]['cpu_estimate_vs_1_process']:.2f}×")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        loads = [s["load_before"][0] for row in cpu.values() for r in row["launches"].values() for s in r["runs"]]
        lines += [
            "",
            f"Medians of {results['rounds']} interleaved rounds; (×) against 1 process. The 1-minute load average "
            f"before the runs ranged from {min(loads)} to {max(loads)} on {os.cpu_count()} cores. On a machine "
            "busier than its cores, the kernel gives each process a share of them, so 2 processes get about twice "
            "the CPU of 1 and their wall-clock speed-up can exceed 2×: that measures the load, not the algorithm. "
            "*CPU estimate* depends much less on the load: the CPU time one process spends per step divided by "
            "what rank 0 of 2 spends. It leaves out the time a process waits for the other in the all-reduce, so "
            "it is an upper bound of the speed-up on an idle machine.",
            "",
        ]
    gpu = results.get("gpu")
    lines += ["## GPU", ""]
    if not gpu or "skipped" in gpu:
        lines += [f"Skipped: {gpu['skipped'] if gpu else 'not run'}.", ""]
    else:
        lines += [
            f"{gpu['name']} against the CPU ({gpu['cpu_threads']} threads); {gpu['setting']}.",
            "",
            "| n | GPU tasks/s | CPU tasks/s | GPU / CPU |",
            "| ---: | ---: | ---: | ---: |",
        ]
        for n, row in gpu["tasks_per_s"].items():
            lines.append(f"| {n} | {row['device']:,.0f} | {row['cpu']:,.0f} | {row['speedup']:.1f}× |")
        lines += ["", f"Goal: {gpu['goal']}: **{'met' if gpu['goal_met'] else 'missed'}**.", ""]
        if "nccl" in gpu:
            lines += [
                "NCCL (the command under torchrun, n = 1000):",
                "",
                "```",
                json.dumps(gpu["nccl"], indent=1),
                "```",
            ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds: a rough check")
    parser.add_argument("--sections", default="cpu,gpu", help="cpu, gpu or both (default)")
    parser.add_argument(
        "--rounds", type=int, default=None, help="interleaved rounds of the CPU runs (default 3; quick 1)"
    )
    parser.add_argument("--gpu-device", default="cuda", help="cuda, or cpu to check the GPU section's code path")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the results")
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    rounds = args.rounds or (1 if args.quick else 3)
    machine = machine_info()
    machine["load_average_start"] = machine.pop("load_average")
    description = machine["description"]
    results: dict[str, object] = {
        "machine": machine,
        "quick": args.quick,
        "rounds": rounds,
    }
    print(f"machine: {description}; load average {load_average()}")
    if "cpu" in sections:
        print("CPU: meta-steps per second of the command on 1 and 2 processes")
        results["cpu"] = cpu_section(args.quick, rounds, print)
    if "gpu" in sections:
        print("GPU:")
        results["gpu"] = gpu_section(args.gpu_device, args.quick, print)
        if "skipped" in results["gpu"]:
            print(f"  skipped: {results['gpu']['skipped']}")
    results["machine"]["load_average_end"] = load_average()  # type: ignore[index]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"distributed-{machine['slug']}" + ("-quick" if args.quick else "")
    if sections != {"cpu", "gpu"}:
        stem += "-" + "-".join(sorted(sections))
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(markdown(results), encoding="utf-8")
    print(f"wrote {out / stem}.json and .md")
    return results


if __name__ == "__main__":
    main()
