"""Few-shot character classification on the built-in alphabets: Reptile against two baselines.

    .venv/bin/python benchmarks/fewshot.py            # the measured run (about 15-20 minutes on 2 CPU cores)
    .venv/bin/python benchmarks/fewshot.py --quick    # a rough check of the whole pipeline (about 3 minutes)

writes ``benchmarks/results/fewshot-<cpu>-<cores>c-torch<version>-<date>.json`` and ``.md``
(``--quick`` adds ``-quick``). Everything is seeded; the numbers depend on the machine only
through how many Reptile steps fit in the time budget.

What is measured, all on meta-test classes (the held-out alphabets of ``builtin_alphabets``):

* **Reptile** (Nichol et al. 2018, their Omniglot recipe scaled to a CPU): the paper's conv net
  (``ConvNet``), meta-trained on 5-way tasks with 10 shots per class from the meta-training
  alphabets, k = 5 inner SGD steps of η = 0.1 on minibatches of 10, meta-batch of 5 tasks, ε
  annealed linearly from 1 to 0 over a fixed *wall-clock* budget (``--train-seconds``, 10 minutes
  at most). No rotation augmentation: in short tuning runs it did not help at this budget. For
  20-way episodes the same θ is used with its 5-row output layer widened to 20 rows, each
  starting at the mean of the 5 meta-learned rows (labels are permuted in every episode, so all
  rows play the same role).
* **Scratch**: the same conv net from a random initialisation, trained on each episode's support
  set only.
* **Joint training, then fine-tuning** (the course's definition, as on sine): the package's
  ``joint`` with the very call Reptile gets (same task source, 5-way episodes whose labels are
  permuted in every episode, Adam), for ``--joint-seconds``; then fine-tuned on each support set.
* **Pre-training on all classes, then fine-tuning** (the usual transfer-learning baseline): the
  same net trained with ``joint`` on minibatches of meta-training images with *global* labels
  (one 895-way classifier), for ``--pretrain-seconds``; then its output layer is replaced by a
  zero-initialised N-way layer and the whole net is fine-tuned on each support set.

Every method adapts with the same protocol: k = ``--eval-steps`` SGD steps on the support set,
with the inner learning rate η picked per method from a small grid on validation episodes drawn
from the meta-training classes (never the test classes). Accuracy is the mean over ``--episodes``
test episodes (one query per class, transductive batch norm as in the paper) with a 95 %
interval of ±1.96·s/√T; all methods see the same episodes. Reptile is also reported
non-transductively at 5-way 1-shot.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Passive OpenMP waiting: two threads on two cores shared with other processes otherwise
    # spin against each other. Must be set before torch starts OpenMP.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from reptile_edu import (
    AllClassBatches,
    CharacterSet,
    ConvNet,
    Episodes,
    EpisodeSampler,
    builtin_alphabets,
    evaluate,
    joint,
    nearest_neighbour_accuracy,
    reptile,
    seed_everything,
    with_new_head,
)
from reptile_edu.measure import load_average, machine_info

HERE = Path(__file__).resolve().parent
REPTILE_NAME = "Reptile"
SCRATCH = "Scratch"
JOINT_NAME = "Joint training + fine-tuning"
PRETRAIN_NAME = "All-class pre-training + fine-tuning"
NN_NAME = "Nearest neighbour (pixels)"
BASELINES = (SCRATCH, JOINT_NAME, PRETRAIN_NAME)
SETTINGS = (("5-way 1-shot", 5, 1), ("5-way 5-shot", 5, 5), ("20-way 1-shot", 20, 1))
ETA_GRID = (0.03, 0.1, 0.3)
REPTILE = {"ways": 5, "train_shots": 10, "k": 5, "eta": 0.1, "batch_size": 10, "meta_batch": 5, "epsilon": 1.0}
JOINT = {"lr": 1e-3, "meta_batch": 5}  # joint on the same 5-way episodes as Reptile
PRETRAIN = {"lr": 1e-3, "batch": 64}  # joint on all classes with global labels


@dataclass
class Budget:
    """How long each part may run and how much is measured."""

    name: str
    train_seconds: float
    joint_seconds: float
    pretrain_seconds: float
    episodes: int
    eval_steps: int
    validation_episodes: int


FULL = Budget(
    "full",
    train_seconds=600,
    joint_seconds=120,
    pretrain_seconds=180,
    episodes=500,
    eval_steps=5,
    validation_episodes=100,
)
QUICK = Budget(
    "quick",
    train_seconds=60,
    joint_seconds=20,
    pretrain_seconds=30,
    episodes=100,
    eval_steps=5,
    validation_episodes=50,
)


# ---------------------------------------------------------------------------
# The machine


def _machine() -> dict[str, object]:
    """``reptile_edu.measure.machine_info`` (CPU, cores, torch threads, versions, date), and ``stem``: the name
    of this run's result files."""
    info = machine_info()
    info.pop("load_average")  # recorded at the start and at the end of the run instead
    info["stem"] = f"fewshot-{info['slug']}-torch{torch.__version__.split('+')[0]}-{info['date'][:10]}"
    return info


# ---------------------------------------------------------------------------
# Training


def reptile_source(train: CharacterSet) -> EpisodeSampler:
    """The meta-training tasks: 5-way, 10 shots per class (the paper's "train shots"), one query."""
    return EpisodeSampler(train, ways=REPTILE["ways"], shots=REPTILE["train_shots"], queries=1)


def train_reptile(train: CharacterSet, seconds: float, seed: int, log) -> tuple[ConvNet, dict[str, object]]:
    """Reptile within a wall-clock budget: ε = ε₀·(1 − elapsed/budget), piecewise constant over chunks of steps."""
    g = seed_everything(seed)
    model = ConvNet(REPTILE["ways"])
    source = reptile_source(train)
    start = time.perf_counter()
    steps, chunk, last_chunk_time, losses = 0, 10, 0.0, []
    while True:
        elapsed = time.perf_counter() - start
        if elapsed + last_chunk_time > seconds:  # the next chunk would overrun the budget
            break
        epsilon = REPTILE["epsilon"] * max(1 - elapsed / seconds, 0.01)
        t0 = time.perf_counter()
        history = reptile(
            model,
            source,
            steps=chunk,
            k=REPTILE["k"],
            eta=REPTILE["eta"],
            epsilon=epsilon,
            meta_batch=REPTILE["meta_batch"],
            batch_size=REPTILE["batch_size"],
            generator=g,
            progress=False,
        )
        last_chunk_time = time.perf_counter() - t0
        steps += len(history)
        losses.extend(history.loss)
        if steps % 200 == 0:
            log(f"  Reptile: {steps} steps, {time.perf_counter() - start:.0f} s, ε = {epsilon:.3f}")
    seconds_used = time.perf_counter() - start
    info = {"steps": steps, "seconds": round(seconds_used, 1), "tasks": steps * REPTILE["meta_batch"], **REPTILE}
    info["adapted_support_loss_last_100"] = round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4)
    return model, info


def _timed_joint(model: ConvNet, source, seconds: float, lr: float, meta_batch: int, seed: int, log, what: str):
    g = seed_everything(seed)
    start = time.perf_counter()
    steps, last_chunk_time, losses = 0, 0.0, []
    while time.perf_counter() - start + last_chunk_time <= seconds:
        t0 = time.perf_counter()
        history = joint(model, source, steps=20, lr=lr, meta_batch=meta_batch, generator=g, progress=False)
        last_chunk_time = time.perf_counter() - t0
        steps += len(history)
        losses.extend(history.loss)
        if steps % 500 == 0:
            log(f"  {what}: {steps} steps, {time.perf_counter() - start:.0f} s, loss {history.loss[-1]:.3f}")
    return {
        "steps": steps,
        "seconds": round(time.perf_counter() - start, 1),
        "loss_last_100": round(sum(losses[-100:]) / max(1, len(losses[-100:])), 4),
    }


def train_joint(train: CharacterSet, seconds: float, seed: int, log) -> tuple[ConvNet, dict[str, object]]:
    """The course's joint training: one θ fitted to Reptile's own 5-way episodes (labels permuted per episode)."""
    model = ConvNet(REPTILE["ways"])
    info = _timed_joint(model, reptile_source(train), seconds, JOINT["lr"], JOINT["meta_batch"], seed + 1, log, "joint")
    return model, {**info, **JOINT}


def train_pretrain(train: CharacterSet, seconds: float, seed: int, log) -> tuple[ConvNet, dict[str, object]]:
    """Pre-training on every meta-training class at once (global labels): ``joint`` on ``AllClassBatches``."""
    source = AllClassBatches(train, batch_size=PRETRAIN["batch"])
    model = ConvNet(source.num_classes)
    info = _timed_joint(model, source, seconds, PRETRAIN["lr"], 1, seed + 2, log, "pre-training")
    return model, {**info, "classes": source.num_classes, "images_seen": info["steps"] * PRETRAIN["batch"], **PRETRAIN}


def widened(model: ConvNet, ways: int) -> ConvNet:
    """A copy of ``model`` with an N-way output layer whose every row is the mean row of the old head
    (a plain copy when it already has N rows): a 5-way meta-learned θ used for 20-way episodes."""
    if model.ways == ways:
        return copy.deepcopy(model)
    new = with_new_head(model, ways)
    with torch.no_grad():
        new.head.weight.copy_(model.head.weight.mean(0, keepdim=True).expand(ways, -1))
        new.head.bias.fill_(float(model.head.bias.mean()))
    return new


# ---------------------------------------------------------------------------
# Evaluation


def pick_eta(make_model, validation: Episodes, steps: int) -> tuple[float, dict[str, float]]:
    """The inner learning rate with the best validation accuracy (ties: the smaller η)."""
    scores = {}
    for eta in ETA_GRID:
        scores[str(eta)] = evaluate(make_model(5), validation, k=steps, eta=eta, chunk_size=50).accuracy[-1]
    best = max(ETA_GRID, key=lambda e: (scores[str(e)], -e))
    return best, scores


def measure(model: ConvNet, episodes: Episodes, steps: int, eta: float, transductive: bool = True) -> dict[str, float]:
    start = time.perf_counter()
    result = evaluate(model, episodes, k=steps, eta=eta, transductive=transductive, chunk_size=50)
    mean, half = result.accuracy_interval()
    return {
        "accuracy": round(mean, 4),
        "ci95": round(half, 4),
        "episodes": episodes.num_tasks,
        "eta": eta,
        "k": steps,
        "transductive": transductive,
        "curve": [round(a, 4) for a in result.accuracy],
        "seconds": round(time.perf_counter() - start, 1),
    }


def run(budget: Budget, seed: int, threads: int, log=print) -> dict[str, object]:
    torch.set_num_threads(threads)
    results: dict[str, object] = {"machine": _machine(), "budget": budget.__dict__, "seed": seed}
    results["load_average_start"] = load_average()
    t0 = time.perf_counter()
    train, test = builtin_alphabets("train"), builtin_alphabets("test")
    results["data"] = {
        "train": {"alphabets": len(train.alphabets), "classes": train.num_classes},
        "test": {"alphabets": len(test.alphabets), "classes": test.num_classes},
        "instances": train.num_instances,
        "load_seconds": round(time.perf_counter() - t0, 2),
    }
    log(f"data: {train} / {test}")

    log(f"Reptile: training for {budget.train_seconds:.0f} s")
    reptile_model, results["reptile_training"] = train_reptile(train, budget.train_seconds, seed, log)
    log(f"  done: {results['reptile_training']}")
    log(f"joint training for {budget.joint_seconds:.0f} s")
    joint_model, results["joint_training"] = train_joint(train, budget.joint_seconds, seed, log)
    log(f"  done: {results['joint_training']}")
    log(f"pre-training on all classes for {budget.pretrain_seconds:.0f} s")
    pretrained, results["pretraining"] = train_pretrain(train, budget.pretrain_seconds, seed, log)
    log(f"  done: {results['pretraining']}")

    def scratch(ways: int) -> ConvNet:
        torch.manual_seed(seed + 3)
        return ConvNet(ways)

    makers = {
        REPTILE_NAME: lambda ways: widened(reptile_model, ways),
        SCRATCH: scratch,
        JOINT_NAME: lambda ways: widened(joint_model, ways),
        PRETRAIN_NAME: lambda ways: with_new_head(pretrained, ways),
    }
    validation = EpisodeSampler(train, ways=5, shots=1, queries=1).episodes(
        budget.validation_episodes, torch.Generator().manual_seed(seed + 10)
    )
    etas = {}
    for name, make in makers.items():
        etas[name], scores = pick_eta(make, validation, budget.eval_steps)
        log(f"η for {name}: {etas[name]} (validation accuracy {scores})")
        results.setdefault("eta_search", {})[name] = scores

    table: dict[str, dict[str, object]] = {}
    for i, (setting, ways, shots) in enumerate(SETTINGS):
        episodes = EpisodeSampler(test, ways=ways, shots=shots, queries=1).episodes(
            budget.episodes, torch.Generator().manual_seed(seed + 100 + i)
        )
        row = {name: measure(make(ways), episodes, budget.eval_steps, etas[name]) for name, make in makers.items()}
        nn = nearest_neighbour_accuracy(episodes)
        row[NN_NAME] = {
            "accuracy": round(float(nn.mean()), 4),
            "ci95": round(1.96 * float(nn.std()) / math.sqrt(len(nn)), 4),
            "episodes": len(nn),
        }
        if setting == "5-way 1-shot":
            row["Reptile (non-transductive)"] = measure(
                makers[REPTILE_NAME](ways), episodes, budget.eval_steps, etas[REPTILE_NAME], transductive=False
            )
        table[setting] = row
        log(f"{setting}: " + ", ".join(f"{n} {r['accuracy']:.3f} ± {r['ci95']:.3f}" for n, r in row.items()))
    results["results"] = table
    first = table["5-way 1-shot"]
    margins = {b: round(100 * (first[REPTILE_NAME]["accuracy"] - first[b]["accuracy"]), 1) for b in BASELINES}
    results["goal"] = {
        "text": "Reptile beats both baselines (scratch; joint pre-training then fine-tuning) by at least 10 points "
        "at 5-way 1-shot",
        "margin_points": margins,
        "met_scratch_and_course_joint": margins[SCRATCH] >= 10 and margins[JOINT_NAME] >= 10,
        "met_against_all_class_pretraining": margins[PRETRAIN_NAME] >= 10,
    }
    results["load_average_end"] = load_average()
    results["total_seconds"] = round(time.perf_counter() - t0, 1)
    return results


# ---------------------------------------------------------------------------
# Output


COLUMNS = (REPTILE_NAME, SCRATCH, JOINT_NAME, PRETRAIN_NAME, NN_NAME)


def markdown(results: dict[str, object]) -> str:
    m = results["machine"]
    r = results["reptile_training"]
    j = results["joint_training"]
    p = results["pretraining"]
    b = results["budget"]
    d = results["data"]
    lines = [
        f"# Few-shot characters: Reptile vs baselines ({m['stem']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['torch_threads']} torch threads), torch {m['torch']}, "
        f"Python {m['python']}, {m['date']}. Load average (1, 5, 15 min) at start / end: "
        f"{results['load_average_start']} / {results['load_average_end']}. Seed {results['seed']}; "
        f"budget `{b['name']}`.",
        "",
        f"Data: built-in alphabets, meta-train {d['train']['classes']} classes ({d['train']['alphabets']} alphabets), "
        f"meta-test {d['test']['classes']} classes ({d['test']['alphabets']} other alphabets), {d['instances']} "
        "instances per class, 28×28.",
        "",
        f"- Reptile: {r['steps']} outer steps in {r['seconds']} s ({r['tasks']} tasks of 5-way "
        f"{r['train_shots']}-shot, "
        f"k = {r['k']} SGD steps of η = {r['eta']} on minibatches of {r['batch_size']}, meta-batch "
        f"{r['meta_batch']}, ε annealed 1 → 0 over the time budget).",
        f"- Joint training (the course's `joint` on the same 5-way episodes, labels permuted per episode): "
        f"{j['steps']} Adam steps (lr {j['lr']}, {j['meta_batch']} episodes per step) in {j['seconds']} s.",
        f"- All-class pre-training (`joint` on minibatches of {p['batch']} images with global labels, one "
        f"{p['classes']}-way classifier): {p['steps']} Adam steps (lr {p['lr']}) in {p['seconds']} s.",
        "",
        f"Meta-test accuracy in % (mean ± 95 % interval over {b['episodes']} episodes, 1 query per class, "
        f"k = {b['eval_steps']} SGD steps on the support set, η chosen per method on meta-train validation "
        "episodes, transductive batch norm):",
        "",
        "| setting | " + " | ".join(COLUMNS) + " |",
        "| --- |" + " --- |" * len(COLUMNS),
    ]
    for setting, row in results["results"].items():
        cells = [f"{100 * row[c]['accuracy']:.1f} ± {100 * row[c]['ci95']:.1f}" for c in COLUMNS]
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    nt = results["results"]["5-way 1-shot"]["Reptile (non-transductive)"]
    etas = {name: results["results"]["5-way 1-shot"][name]["eta"] for name in COLUMNS[:4]}
    goal = results["goal"]
    margins = goal["margin_points"]
    lines += [
        "",
        f"Reptile at 5-way 1-shot, non-transductive (each query classified alone with the support set): "
        f"{100 * nt['accuracy']:.1f} ± {100 * nt['ci95']:.1f}.",
        f"Inner learning rates: {', '.join(f'{k}: η = {v}' for k, v in etas.items())}. "
        "20-way uses Reptile's 5-way θ with the output layer widened (every row starts at the mean meta-learned "
        "row); the same for joint training.",
        "",
        f"Goal — {goal['text']}:",
        f"- against scratch ({margins[SCRATCH]:+.1f} points) and the course's joint training "
        f"({margins[JOINT_NAME]:+.1f} points): **{'met' if goal['met_scratch_and_course_joint'] else 'missed'}**;",
        f"- against all-class pre-training ({margins[PRETRAIN_NAME]:+.1f} points): "
        f"**{'met' if goal['met_against_all_class_pretraining'] else 'missed'}**.",
        "",
        f"Total run time {results['total_seconds'] / 60:.1f} min. Re-run: `.venv/bin/python benchmarks/fewshot.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short budgets and 100 episodes: a rough check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--train-seconds", type=float, help="Reptile's training budget (at most 600)")
    parser.add_argument("--joint-seconds", type=float, help="joint training budget (course definition)")
    parser.add_argument("--pretrain-seconds", type=float, help="all-class pre-training budget")
    parser.add_argument("--episodes", type=int, help="test episodes per setting (at least 500 for the full run)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    overrides = {
        "train_seconds": args.train_seconds,
        "joint_seconds": args.joint_seconds,
        "pretrain_seconds": args.pretrain_seconds,
        "episodes": args.episodes,
    }
    budget = Budget(**{**budget.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    if budget.train_seconds > 600:
        parser.error("--train-seconds: Reptile must train within 10 minutes (600 s).")

    def log(msg: str) -> None:
        print(msg, flush=True)

    results = run(budget, args.seed, args.threads, log)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = results["machine"]["stem"] + ("" if budget.name == "full" else f"-{budget.name}")
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown(results), encoding="utf-8")
    log(f"wrote {args.out / stem}.json and .md")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
