"""Few-shot character classification: Reptile against the baselines, one protocol for every method.

    .venv/bin/python benchmarks/fewshot.py                 # the measured run on the built-in alphabets
    .venv/bin/python benchmarks/fewshot.py --quick         # the whole pipeline with short budgets (rough numbers)
    .venv/bin/python benchmarks/fewshot.py --omniglot DIR  # the same on real Omniglot (+ Lake's 20 one-shot runs)

writes ``benchmarks/results/fewshot-<data>-<cpu>-<cores>c-torch<version>-<date>.json`` and ``.md``
(``--quick`` adds ``-quick``). Everything is seeded; the numbers depend on the machine only through
how many training steps fit in the CPU budget. The full run takes about 80 minutes of CPU time.

**Data.** Three disjoint sets of classes, split by alphabet: *meta-training* classes (what every
method trains on), *validation* classes (``VALIDATION_ALPHABETS`` of the meta-training alphabets,
held out from training; used only to choose η) and *meta-test* classes (the held-out alphabets,
used once, for the numbers reported). Built-in alphabets: ``builtin_alphabets``' split. Real
Omniglot (``--omniglot DIR``, holding ``images_background`` and ``images_evaluation``, folders or
the official zips): the background alphabets (less the validation ones) for meta-training, the
evaluation alphabets for meta-testing; when ``DIR`` also holds Lake et al.'s one-shot runs
(``all_runs/`` or ``all_runs.zip``, or ``--lake-runs PATH``), they are measured too: 20 runs of
20-way 1-shot, each method as in the 20-way setting.

**The same budget.** Each trained model gets ``--train-seconds`` (600 s = 10 minutes) of CPU time
on one torch thread, measured with ``time.process_time`` so that other processes on the machine
do not shrink it: Reptile (one model meta-trained on 5-way tasks for the two 5-way settings, one on
20-way tasks for 20-way), all-class pre-training, Prototypical Networks.

**The methods.**

* *Reptile* (Nichol et al. 2018) with the paper's Omniglot inner loop (``PAPER_OMNIGLOT``: Adam
  with β1 = 0 and η = 0.001, k = 5 steps on minibatches of 10, 10 training shots per class),
  meta-batch 5, ε annealed linearly from 1 to 0 over the budget; 20-way: minibatches of 20 (and of
  10 in evaluation).
  Meta-trained at the N-way it is tested on.
* *Random start* (training from scratch): the same ``ConvNet`` from a fresh random initialisation,
  fine-tuned on each support set.
* *All-class pre-training + fine-tuning* (Chen et al. 2019's "Baseline"): ``pretrain`` on
  minibatches of 64 meta-training images with global labels (Adam, lr 0.001); for an episode the
  output layer is replaced by a zero N-way layer (``with_new_head``) and the whole network is
  fine-tuned on the support set.
* *Prototypical Networks* (Snell et al. 2017): ``embedding_net`` (the same ``ConvNet`` body),
  ``protonet`` on 20-way 1-shot episodes with 5 queries per class (Adam, lr 0.001); no
  fine-tuning: queries go to the nearest class mean.
* *Nearest neighbour on pixels*: no training; the difficulty yardstick.

**The same adaptation.** Every method that adapts (Reptile, random start, pre-training) adapts with
the paper's evaluation loop: 50 Adam steps (β1 = 0) on minibatches of 5 support images (10 for
20-way), with η chosen per method on validation episodes (5-way 1-shot for the 5-way settings,
20-way 1-shot for 20-way; a search over ``ETA_GRID`` from the paper's 0.001), never on test episodes.

**The same episodes.** Every method is measured on the same meta-test episodes, one query per
class, and reported as the mean accuracy with a 95 % interval ±1.96·s/√T over the T episodes.
Batch norm uses the statistics of the batch it is given: transductive (all queries of an episode
in one batch, the papers' default) for every method, and non-transductive (each query alone with
the support set) for Reptile and Prototypical Networks too.
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Passive OpenMP waiting: threads on cores shared with other processes otherwise spin against
    # each other. Must be set before torch starts OpenMP.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from reptile_edu import (
    PAPER_OMNIGLOT,
    AllClassBatches,
    CharacterSet,
    ConvNet,
    Episodes,
    EpisodeSampler,
    InnerRecipe,
    builtin_alphabets,
    embedding_net,
    evaluate,
    evaluate_protonet,
    load_lake_runs,
    load_omniglot,
    nearest_neighbour_accuracy,
    pretrain,
    protonet,
    reptile,
    seed_everything,
    with_new_head,
)
from reptile_edu.measure import load_average, machine_info

HERE = Path(__file__).resolve().parent

REPTILE = "Reptile"
REPTILE_NT = "Reptile (non-transductive)"
SCRATCH = "Random start"
PRETRAIN = "All-class pre-training + fine-tuning"
PROTONET = "Prototypical Networks"
PROTONET_NT = "Prototypical Networks (non-transductive)"
NN = "Nearest neighbour (pixels)"
COLUMNS = (REPTILE, REPTILE_NT, SCRATCH, PRETRAIN, PROTONET, PROTONET_NT, NN)
ADAPTED = (REPTILE, SCRATCH, PRETRAIN)  # the methods that fine-tune, with η chosen on validation

#: Adam learning rates for the 50 evaluation steps, searched on validation episodes from the paper's 0.001.
ETA_GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
#: How many meta-training alphabets are held out as validation alphabets (built-in: 20 train alphabets).
VALIDATION_ALPHABETS = 4
#: Reptile's meta-training settings besides the inner loop (the paper's Omniglot values).
REPTILE_SETTINGS = {"meta_batch": 5, "train_shots": 10, "epsilon": 1.0}
PRETRAIN_SETTINGS = {"batch_size": 64, "lr": 1e-3}
PROTONET_SETTINGS = {"ways": 20, "shots": 1, "queries": 5, "lr": 1e-3, "meta_batch": 1}


def recipe_for(ways: int) -> InnerRecipe:
    """The paper's inner loop; for 20-way tasks minibatches of 20 in training (each class once per step on
    average) and 10 in evaluation (half the support set)."""
    if ways >= 20:
        return PAPER_OMNIGLOT.with_train(batch_size=20).with_test(batch_size=10)
    return PAPER_OMNIGLOT


@dataclass(frozen=True)
class Setting:
    name: str
    ways: int
    shots: int


SETTINGS = (Setting("5-way 1-shot", 5, 1), Setting("5-way 5-shot", 5, 5), Setting("20-way 1-shot", 20, 1))


@dataclass(frozen=True)
class Budget:
    """How long each model trains and how much is measured."""

    name: str
    train_seconds: float  # CPU seconds per trained model
    episodes: tuple[int, ...]  # test episodes per setting (as SETTINGS)
    validation_episodes: tuple[int, int]  # for choosing η: 5-way 1-shot and 20-way 1-shot episodes
    eval_steps: int  # the evaluation loop's k (the paper's 50)
    chunk: int = 10  # training steps between two looks at the clock


FULL = Budget("full", train_seconds=600, episodes=(400, 200, 200), validation_episodes=(100, 40), eval_steps=50)
QUICK = Budget("quick", train_seconds=60, episodes=(100, 50, 50), validation_episodes=(30, 10), eval_steps=50)
TINY = Budget("tiny", train_seconds=1, episodes=(4, 4, 4), validation_episodes=(4, 4), eval_steps=2, chunk=1)


# ---------------------------------------------------------------------------
# The machine


def machine(threads: int, data: str) -> dict[str, object]:
    """``reptile_edu.measure.machine_info`` (CPU, cores, versions, date) with the torch threads of the run, and
    ``stem``: the name of this run's result files."""
    info = machine_info()
    info.pop("load_average")  # recorded at the start and at the end of the run instead
    info["threads"] = threads
    info["stem"] = f"fewshot-{data}-{info['slug']}-torch{torch.__version__.split('+')[0]}-{info['date'][:10]}"
    return info


# ---------------------------------------------------------------------------
# Data


@dataclass
class Data:
    name: str
    train: CharacterSet
    validation: CharacterSet
    test: CharacterSet
    lake_runs: Episodes | None = None


def hold_out_alphabets(chars: CharacterSet, count: int, seed: int) -> tuple[CharacterSet, CharacterSet]:
    """(the rest, ``count`` alphabets picked at random): validation classes, disjoint by alphabet."""
    order = torch.randperm(len(chars.alphabets), generator=torch.Generator().manual_seed(seed)).tolist()
    held = torch.zeros(len(chars.alphabets), dtype=torch.bool)
    held[order[:count]] = True
    is_held = held[chars.alphabet_of]
    return chars.subset(torch.nonzero(~is_held).flatten()), chars.subset(torch.nonzero(is_held).flatten())


def find_lake_runs(root: Path) -> Path | None:
    for candidate in (root / "all_runs", root / "all_runs.zip", root / "one-shot-classification" / "all_runs"):
        if candidate.exists():
            return candidate
    return None


def load_data(omniglot: Path | None, lake_runs: Path | None, seed: int) -> Data:
    if omniglot is None:
        chars, name = builtin_alphabets("all"), "builtin"
    else:
        chars, name = load_omniglot(omniglot, "all"), "omniglot"
    train, validation = hold_out_alphabets(chars.split("train"), VALIDATION_ALPHABETS, seed)
    runs_path = lake_runs or (find_lake_runs(omniglot) if omniglot is not None else None)
    runs = load_lake_runs(runs_path) if runs_path is not None else None
    return Data(name, train, validation, chars.split("test"), runs)


def describe(chars: CharacterSet) -> dict[str, object]:
    return {"alphabets": list(chars.alphabets), "classes": chars.num_classes, "instances": chars.num_instances}


# ---------------------------------------------------------------------------
# Training within a CPU budget


def within_budget(seconds: float, chunk: Callable[[float], int]) -> dict[str, float]:
    """Call ``chunk(fraction of the budget used)`` (it runs a few steps, returns how many) until the next call
    would overrun ``seconds`` of this process's CPU time. Returns the steps and the CPU and wall seconds used."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    steps, last = 0, 0.0
    while True:
        used = time.process_time() - cpu0
        if steps and used + last > seconds:
            break
        steps += chunk(min(used / seconds, 1.0))
        last = time.process_time() - cpu0 - used
    return {
        "steps": steps,
        "cpu_seconds": round(time.process_time() - cpu0, 1),
        "wall_seconds": round(time.perf_counter() - wall0, 1),
        "load_average_end": load_average(),
    }


def train_reptile(train: CharacterSet, ways: int, budget: Budget, seed: int, log) -> tuple[ConvNet, dict]:
    """Reptile with the paper's recipe; ε = ε₀·(1 − budget used), piecewise constant over chunks of steps."""
    g = seed_everything(seed)
    model = ConvNet(ways)
    settings = REPTILE_SETTINGS
    source = EpisodeSampler(train, ways=ways, shots=settings["train_shots"], queries=1)
    recipe = recipe_for(ways)

    def chunk(used: float) -> int:
        epsilon = settings["epsilon"] * max(1 - used, 1e-3)
        kwargs = {"meta_batch": settings["meta_batch"], "generator": g, "progress": False}
        return len(reptile(model, source, steps=budget.chunk, epsilon=epsilon, **kwargs, **recipe.training()))

    info = within_budget(budget.train_seconds, chunk)
    log(f"  Reptile {ways}-way: {info}")
    return model, {**info, **settings, "ways": ways, "inner_loop": recipe.training()}


def train_pretraining(train: CharacterSet, budget: Budget, seed: int, log) -> tuple[ConvNet, dict]:
    g = seed_everything(seed + 1)
    batches = AllClassBatches(train, batch_size=PRETRAIN_SETTINGS["batch_size"])
    model = ConvNet(batches.num_classes)

    def chunk(used: float) -> int:
        return len(
            pretrain(model, batches, steps=budget.chunk, lr=PRETRAIN_SETTINGS["lr"], generator=g, progress=False)
        )

    info = within_budget(budget.train_seconds, chunk)
    log(f"  pre-training: {info}")
    return model, {**info, **PRETRAIN_SETTINGS, "classes": batches.num_classes}


def train_protonet(train: CharacterSet, budget: Budget, seed: int, log) -> tuple[ConvNet, dict]:
    g = seed_everything(seed + 2)
    s = PROTONET_SETTINGS
    ways = min(s["ways"], train.num_classes)
    source = EpisodeSampler(train, ways=ways, shots=s["shots"], queries=s["queries"])
    model = embedding_net()

    def chunk(used: float) -> int:
        return len(
            protonet(
                model, source, steps=budget.chunk, lr=s["lr"], meta_batch=s["meta_batch"], generator=g, progress=False
            )
        )

    info = within_budget(budget.train_seconds, chunk)
    log(f"  Prototypical Networks: {info}")
    return model, {**info, **s, "ways": ways}


# ---------------------------------------------------------------------------
# Measuring


def interval(per_episode: torch.Tensor) -> dict[str, float]:
    acc = per_episode.double()
    half = 1.96 * float(acc.std()) / math.sqrt(len(acc)) if len(acc) > 1 else math.nan
    return {"accuracy": round(float(acc.mean()), 4), "ci95": round(half, 4), "episodes": len(acc)}


def fine_tune(model: ConvNet, episodes: Episodes, recipe: InnerRecipe, transductive: bool = True) -> dict:
    cpu0 = time.process_time()
    result = evaluate(model, episodes, **recipe.evaluation(), transductive=transductive, chunk_size=50)
    return {
        **interval(result.accuracy_per_task),
        "eta": recipe.test.eta,
        "k": recipe.test.k,
        "transductive": transductive,
        "curve": [round(a, 4) for a in result.accuracy[:: max(1, recipe.test.k // 10)]],
        "cpu_seconds": round(time.process_time() - cpu0, 1),
    }


def choose_eta(make: Callable[[int], ConvNet], validation: Episodes, ways: int, budget: Budget) -> tuple[float, dict]:
    """η from ``ETA_GRID`` by validation accuracy: start at the paper's 0.001 and walk the log grid toward the
    better neighbour while accuracy improves (a line search: 3 to 5 evaluations instead of the whole grid)."""
    base = recipe_for(ways).with_test(k=budget.eval_steps)
    scores: dict[float, float] = {}

    def score(i: int) -> float:
        eta = ETA_GRID[i]
        if eta not in scores:
            result = evaluate(make(ways), validation, **base.with_test(eta=eta).evaluation(), chunk_size=50)
            scores[eta] = float(result.accuracy_per_task.mean())
        return scores[eta]

    best = ETA_GRID.index(1e-3)
    for step in (1, -1):
        while 0 <= best + step < len(ETA_GRID) and score(best + step) > score(best):
            best += step
    return ETA_GRID[best], {str(e): round(a, 4) for e, a in sorted(scores.items())}


def run(budget: Budget, data: Data, seed: int, threads: int, log=print) -> dict[str, object]:
    torch.set_num_threads(threads)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    results: dict[str, object] = {
        "machine": machine(threads, data.name),
        "budget": asdict(budget),
        "seed": seed,
        "load_average_start": load_average(),
        "data": {
            "name": data.name,
            "train": describe(data.train),
            "validation": describe(data.validation),
            "test": describe(data.test),
            "lake_runs": None if data.lake_runs is None else data.lake_runs.num_tasks,
        },
        "protocol": {
            "eta_grid": ETA_GRID,
            "evaluation_steps": budget.eval_steps,
            "evaluation_optimizer": "adam (beta1 = 0)",
            "evaluation_batch": {str(w): recipe_for(w).test.batch_size for w in (5, 20)},
        },
    }
    log(f"data: train {data.train}, validation {data.validation}, test {data.test}")
    # An N-way setting needs N meta-test and N validation classes (a small Omniglot subset may lack them).
    settings = [s for s in SETTINGS if s.ways <= min(data.test.num_classes, data.validation.num_classes)]
    results["skipped_settings"] = [s.name for s in SETTINGS if s not in settings]
    ways_needed = sorted(
        {s.ways for s in settings} | ({data.lake_runs.y_support.shape[1]} if data.lake_runs else set())
    )

    log(f"training every model for {budget.train_seconds:.0f} s of CPU time")
    training: dict[str, dict] = {}
    reptiles = {}
    for ways in ways_needed:
        reptiles[ways], training[f"Reptile {ways}-way"] = train_reptile(data.train, ways, budget, seed, log)
    pretrained, training["pre-training"] = train_pretraining(data.train, budget, seed, log)
    embedding, training["Prototypical Networks"] = train_protonet(data.train, budget, seed, log)
    results["training"] = training

    def scratch(ways: int) -> ConvNet:
        torch.manual_seed(seed + 3)
        return ConvNet(ways)

    makers: dict[str, Callable[[int], ConvNet]] = {
        REPTILE: lambda ways: reptiles[ways],
        SCRATCH: scratch,
        PRETRAIN: lambda ways: with_new_head(pretrained, ways),
    }

    log("choosing η on validation episodes")
    etas: dict[int, dict[str, float]] = {}
    for ways in ways_needed:
        validation = EpisodeSampler(data.validation, ways=ways, shots=1, queries=1).episodes(
            budget.validation_episodes[ways >= 20], torch.Generator().manual_seed(seed + 10 + ways)
        )
        etas[ways] = {}
        for name, make in makers.items():
            etas[ways][name], scores = choose_eta(make, validation, ways, budget)
            results.setdefault("eta_search", {}).setdefault(f"{ways}-way", {})[name] = scores
            log(f"  {ways}-way, {name}: η = {etas[ways][name]} (validation accuracy {scores})")

    table: dict[str, dict[str, dict]] = {}
    for i, setting in enumerate(settings):
        episodes = EpisodeSampler(data.test, ways=setting.ways, shots=setting.shots, queries=1).episodes(
            budget.episodes[i], torch.Generator().manual_seed(seed + 100 + i)
        )
        table[setting.name] = measure_all(episodes, setting.ways, makers, etas, embedding, budget)
        log(
            f"{setting.name}: "
            + ", ".join(f"{n} {r['accuracy']:.3f} ± {r['ci95']:.3f}" for n, r in table[setting.name].items())
        )
    if data.lake_runs is not None:
        ways = data.lake_runs.y_support.shape[1]
        table["Lake one-shot runs"] = measure_all(data.lake_runs, ways, makers, etas, embedding, budget)
        log("Lake runs: " + ", ".join(f"{n} {r['accuracy']:.3f}" for n, r in table["Lake one-shot runs"].items()))
    results["results"] = table
    results["targets"] = targets(table, training, budget)
    results["load_average_end"] = load_average()
    results["total_cpu_seconds"] = round(time.process_time() - cpu0, 1)
    results["total_wall_seconds"] = round(time.perf_counter() - wall0, 1)
    return results


def measure_all(
    episodes: Episodes,
    ways: int,
    makers: dict[str, Callable[[int], ConvNet]],
    etas: dict[int, dict[str, float]],
    embedding: ConvNet,
    budget: Budget,
) -> dict[str, dict]:
    """Every method on the same episodes."""
    row = {}
    for name, make in makers.items():
        recipe = recipe_for(ways).with_test(k=budget.eval_steps, eta=etas[ways][name])
        row[name] = fine_tune(make(ways), episodes, recipe)
        if name == REPTILE:
            row[REPTILE_NT] = fine_tune(make(ways), episodes, recipe, transductive=False)
    for name, transductive in ((PROTONET, True), (PROTONET_NT, False)):
        with torch.no_grad():
            result = evaluate_protonet(embedding, episodes, transductive=transductive, chunk_size=50)
        row[name] = {**interval(result.accuracy_per_task), "transductive": transductive}
    row[NN] = interval(nearest_neighbour_accuracy(episodes))
    return {name: row[name] for name in COLUMNS}


def targets(table: dict, training: dict, budget: Budget) -> dict[str, object]:
    """The issue's targets, met or missed as measured (they apply to the full budget, 600 s)."""
    out: dict[str, object] = {"budget_cpu_seconds": budget.train_seconds}
    if "5-way 1-shot" in table:
        row = table["5-way 1-shot"]
        margin = round(100 * (row[REPTILE]["accuracy"] - row[PRETRAIN]["accuracy"]), 1)
        out["reptile_vs_pretraining_5w1s"] = {
            "text": "Reptile ≥ 10 points above all-class pre-training + fine-tuning at 5-way 1-shot",
            "margin_points": margin,
            "met": margin >= 10,
        }
    if "20-way 1-shot" in table:
        acc = table["20-way 1-shot"][REPTILE]["accuracy"]
        out["reptile_20w1s"] = {"text": "20-way 1-shot Reptile ≥ 0.60", "accuracy": acc, "met": acc >= 0.60}
    return out


# ---------------------------------------------------------------------------
# Output


def markdown(results: dict[str, object]) -> str:
    m, b, d, t = results["machine"], results["budget"], results["data"], results["training"]
    pct = lambda r: f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}"  # noqa: E731
    lines = [
        f"# Few-shot characters: Reptile and the baselines, one protocol ({m['stem']})",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['threads']} torch thread(s), torch {m['torch']}, "
        f"Python {m['python']}, {m['date']}. Load average (1, 5, 15 min) at start / end: "
        f"{results['load_average_start']} / {results['load_average_end']}. Seed {results['seed']}; budget "
        f"`{b['name']}`: every model trains for {b['train_seconds']:.0f} s of CPU time.",
        "",
        f"Data ({d['name']}): meta-training {d['train']['classes']} classes "
        f"({len(d['train']['alphabets'])} alphabets), validation {d['validation']['classes']} classes "
        f"({len(d['validation']['alphabets'])} other alphabets, only to choose η), meta-test "
        f"{d['test']['classes']} classes ({len(d['test']['alphabets'])} held-out alphabets); "
        f"{d['test']['instances']} drawings per class, 28×28.",
        "",
        "Training (CPU seconds / wall seconds / steps):",
        "",
    ]
    for name, info in t.items():
        lines.append(f"- {name}: {info['cpu_seconds']} / {info['wall_seconds']} / {info['steps']} steps")
    lines += [
        "",
        f"Meta-test accuracy in % (mean ± 95 % interval over the episodes; every adapting method: "
        f"{b['eval_steps']} Adam steps, β1 = 0, on minibatches of the support set, η chosen per method on "
        "validation episodes; one query per class):",
        "",
        "| setting | episodes | " + " | ".join(COLUMNS) + " |",
        "| --- | --- |" + " --- |" * len(COLUMNS),
    ]
    for setting, row in results["results"].items():
        lines.append(f"| {setting} | {row[NN]['episodes']} | " + " | ".join(pct(row[c]) for c in COLUMNS) + " |")
    lines += ["", "η chosen on validation episodes (Adam, the evaluation loop):", ""]
    for ways, chosen in results["eta_search"].items():
        best = {name: max(scores, key=scores.get) for name, scores in chosen.items()}
        lines.append(f"- {ways}: " + ", ".join(f"{name} η = {eta}" for name, eta in best.items()))
    lines += [
        "",
        f"Targets (as measured; set for 600 s of CPU time per model, this run had {b['train_seconds']:.0f} s):",
        "",
    ]
    for target in results["targets"].values():
        if isinstance(target, dict):
            value = target.get("margin_points", target.get("accuracy"))
            lines.append(f"- {target['text']}: {value} → **{'met' if target['met'] else 'missed'}**")
    lines += [
        "",
        f"Total: {results['total_cpu_seconds'] / 60:.1f} min of CPU, {results['total_wall_seconds'] / 60:.1f} min "
        "wall-clock. Re-run: `.venv/bin/python benchmarks/fewshot.py`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="60 s per model and fewer episodes: a rough check")
    size.add_argument("--tiny", action="store_true", help="seconds in all: only checks that everything runs")
    parser.add_argument("--omniglot", type=Path, help="folder with images_background/ and images_evaluation/")
    parser.add_argument("--lake-runs", type=Path, help="Lake et al.'s one-shot runs (default: DIR/all_runs)")
    parser.add_argument("--train-seconds", type=float, help="CPU seconds per trained model (at most 600)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the budget is CPU time)")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    budget = TINY if args.tiny else QUICK if args.quick else FULL
    if args.train_seconds is not None:
        if not 0 < args.train_seconds <= 600:
            parser.error("--train-seconds must be > 0 and at most 600 (the 10-minute budget).")
        budget = replace(budget, train_seconds=args.train_seconds)
    if args.omniglot is not None and not args.omniglot.exists():
        parser.error(f"--omniglot: {args.omniglot} does not exist.")

    def log(msg: str) -> None:
        print(msg, flush=True)

    threads = torch.get_num_threads()
    try:
        results = run(budget, load_data(args.omniglot, args.lake_runs, args.seed), args.seed, args.threads, log)
    finally:
        torch.set_num_threads(threads)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = results["machine"]["stem"] + ("" if budget.name == "full" else f"-{budget.name}")
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown(results), encoding="utf-8")
    log(f"wrote {args.out / stem}.json and .md")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
