"""MAML's sine regression (Finn et al. 2017, Fig. 3, k = 5 panel) with the package, trained for the
paper's 70 000 outer steps, with the held-out tasks measured along the way.

    .venv/bin/python benchmarks/maml_sine.py                      # K = 5 and K = 10 in meta-training
    .venv/bin/python benchmarks/maml_sine.py --train-shots 5      # one of them

Setting (the paper's, and lesson 03's): MLP 1-40-40-1 with ReLU, one inner SGD step with η = 0.01,
meta-batch 25, Adam with learning rate 0.001 on θ; the pre-trained baseline is joint training on the
same tasks with the same Adam. ``--train-shots`` is K at meta-training (K support and K query points
per task): the paper trains with K = 10 (its code's ``update_batch_size``); issue 19 measured K = 5.

At the checkpoints (5 000, 10 000, 20 000, 40 000, 70 000 steps) each θ is evaluated on the same 600
held-out tasks (as many as the paper's code tests on), each with 5 support points and 100 query
points: SGD with η = 0.01 for 0 … 10 steps, as in the paper's figure; and two harder protocols (η =
0.02, and 100 steps of η = 0.01) that show how far from its training protocol MAML's θ stays stable
(Antoniou et al. 2019). Every evaluation records the mean, median and 90 % quantile over tasks,
the worst task and the tasks that diverged (``reptile_edu.evaluation``). One torch thread;
evaluation time is not counted in the training time. Writes
``benchmarks/results/<machine>-maml-sine.json`` and ``.md`` (the load average is recorded: the
times depend on how busy the machine was).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import torch

from reptile_edu import MLP, DivergenceError, SineFamily, evaluate, joint, maml, seed_everything
from reptile_edu.measure import machine, machine_info

CHECKPOINTS = (5_000, 10_000, 20_000, 40_000, 70_000)
HELD_OUT = {"tasks": 600, "shots": 5, "queries": 100, "seed": 123}
PROTOCOLS = {"paper": {"k": 10, "eta": 0.01}, "eta_0.02": {"k": 10, "eta": 0.02}, "k_100": {"k": 100, "eta": 0.01}}
PAPER_FIG3 = {"MAML": {1: 0.67, 5: 0.38, 10: 0.35}, "Joint training": {1: 2.41, 5: 2.23, 10: 2.19}}  # read off, ≈


def held_out(tasks: int) -> object:
    family = SineFamily("maml", shots=HELD_OUT["shots"], queries=HELD_OUT["queries"])
    return family.episodes(tasks, torch.Generator().manual_seed(HELD_OUT["seed"]))


def measure(model: torch.nn.Module, episodes: object, k: int, eta: float) -> dict[str, object]:
    """The robust statistics of one evaluation (or the error, when most tasks became NaN)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # recorded below instead
            ev = evaluate(model, episodes, k=k, eta=eta)
    except DivergenceError as err:
        return {"error": str(err)}
    shown = [s for s in (0, 1, 5, 10, 20, 50, 100) if s <= k]
    task, worst = ev.worst_task
    return {
        "steps": shown,
        "mean": [round(ev.loss[s], 4) for s in shown],
        "median": [round(ev.median[s], 4) for s in shown],
        "q90": [round(ev.quantile(0.9)[s], 4) for s in shown],
        "worst_task": task,
        "worst_loss": worst if math.isfinite(worst) else str(worst),
        "diverged_tasks": ev.diverged_tasks,
    }


def run(
    method: str, shots: int, seed: int, checkpoints: list[int], tasks: int, save_dir: Path | None
) -> dict[str, object]:
    """Train ``method`` for the last checkpoint's outer steps; evaluate θ on ``tasks`` held-out tasks at each."""
    torch.set_num_threads(1)
    episodes = held_out(tasks)
    family = SineFamily("maml", shots=shots, queries=shots)
    g = seed_everything(seed)
    model = MLP.preset("maml")
    eval_seconds, points = 0.0, []

    def checkpoint(step: int, _loss: float) -> None:
        nonlocal eval_seconds
        if step not in checkpoints:
            return
        t0 = time.perf_counter()
        point = {"outer_steps": step, "load_average": [round(x, 2) for x in os.getloadavg()]}
        point.update({name: measure(model, episodes, **p) for name, p in PROTOCOLS.items()})
        eval_seconds += time.perf_counter() - t0
        point["train_wall_s"] = round(time.perf_counter() - start - eval_seconds, 1)
        point["train_cpu_s"] = round(time.process_time() - cpu_start, 1)  # evaluation included
        points.append(point)
        print(f"{method} K={shots} step {step}: {point['paper']} load {point['load_average']}", flush=True)
        if save_dir is not None:
            save_dir.mkdir(parents=True, exist_ok=True)
            torch.save(model.state_dict(), save_dir / f"{method.lower()}-K{shots}-{step}.pt")

    start, cpu_start = time.perf_counter(), time.process_time()
    common = {"steps": max(checkpoints), "meta_batch": 25, "generator": g, "progress": False, "callback": checkpoint}
    if method == "MAML":
        maml(model, family, k=1, eta=0.01, meta_lr=1e-3, **common)
    else:
        joint(model, family, lr=1e-3, **common)
    return {"method": method, "train_shots": shots, "seed": seed, "checkpoints": points}


def markdown(result: dict[str, object]) -> str:
    lines = [
        "# MAML sine regression (k = 5 panel of the MAML paper's Fig. 3), measured with reptile_edu",
        "",
        f"- {result['machine']}; {result['date']}; `{result['command']}`",
        f"- held-out: {result['held_out']['tasks']} tasks, {HELD_OUT['shots']} support and {HELD_OUT['queries']} "
        f"query points each (seed {HELD_OUT['seed']}); the paper's values (read off its Fig. 3, approximately): MAML "
        "0.67 / 0.38 / 0.35, pre-trained 2.41 / 2.23 / 2.19 after 1 / 5 / 10 steps",
        "- a task *diverged*: its query loss became NaN or ∞, or above 100 × its loss before adaptation",
        "- training time: wall-clock seconds to reach the checkpoint, one torch thread, evaluations not counted; "
        "the load average (1, 5, 15 min) says how busy the machine was",
        "",
        "| method | K in training | outer steps | train (s) | load | protocol | mean after 0 / 1 / 5 / 10 (/ k) "
        "| median after 0 / 1 / 5 / 10 (/ k) | 90 % quantile after k | worst task (loss after k) | diverged |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for run_ in result["runs"]:
        for point in run_["checkpoints"]:
            for name, protocol in PROTOCOLS.items():
                stats = point[name]
                head = (
                    f"| {run_['method']} | {run_['train_shots']} | {point['outer_steps']:,} | {point['train_wall_s']} "
                    f"| {point['load_average'][0]} | k = {protocol['k']}, η = {protocol['eta']} |"
                )
                if "error" in stats:
                    lines.append(f"{head} {stats['error']} | | | | |")
                    continue
                at = dict(zip(stats["steps"], zip(stats["mean"], stats["median"], stats["q90"])))
                last = stats["steps"][-1]
                shown = [s for s in (0, 1, 5, 10) if s < last] + [last]
                mean = " / ".join(f"{at[s][0]:.3g}" for s in shown)
                median = " / ".join(f"{at[s][1]:.3g}" for s in shown)
                worst = f"{stats['worst_task']} ({float(stats['worst_loss']):.3g})"
                diverged = f"{len(stats['diverged_tasks'])} of {result['held_out']['tasks']}"
                lines.append(f"{head} {mean} | {median} | {at[last][2]:.3g} | {worst} | {diverged} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-shots", type=int, nargs="+", default=[5, 10], help="K at meta-training")
    parser.add_argument("--methods", nargs="+", default=["MAML", "Joint training"], choices=["MAML", "Joint training"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoints", type=int, nargs="+", default=list(CHECKPOINTS), help="outer steps")
    parser.add_argument("--held-out-tasks", type=int, default=HELD_OUT["tasks"])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    parser.add_argument("--save-dir", type=Path, default=None, help="also save θ at every checkpoint here")
    args = parser.parse_args(argv)
    runs = [
        run(m, shots, args.seed, args.checkpoints, args.held_out_tasks, args.save_dir)
        for shots in args.train_shots
        for m in args.methods
    ]
    result = {
        "runs": runs,
        "held_out": {**HELD_OUT, "tasks": args.held_out_tasks},
        "protocols": PROTOCOLS,
        "paper_fig3_k5": PAPER_FIG3,
        "machine": machine("cpu"),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": "python benchmarks/maml_sine.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{machine_info('cpu')['slug']}-maml-sine"  # named like the other result files
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(f"wrote {stem}.json and .md")
    return stem


if __name__ == "__main__":
    main()
