"""The drawing demo's networks: how long their first-use training takes, and how well they do.

    .venv/bin/python benchmarks/drawing.py            # the full settings (what a learner's first use trains)
    .venv/bin/python benchmarks/drawing.py --smoke    # the smoke settings (what CI trains), for comparison

Trains Reptile's θ and the all-class pre-training of ``reptile_edu.drawing_networks`` from scratch (one torch
thread; the cache is written, so the lessons and ``make demo`` then load these networks), and measures:

* the training time, wall clock and CPU, with the load average before and after (on a shared machine the wall
  clock grows with the load; CPU time much less);
* the three θ (Reptile's, a random one, pre-training's) on held-out 3-way and 5-way 1-shot episodes of the
  meta-test alphabets, with the demo's adaptation (k = 5 SGD steps, η = 0.1, three shifted copies of each
  support image), mean accuracy ± 95 % interval;
* the same on synthetic drawings made the way a hand draws on a pad (``drawing.hand_drawn``: placed, sized,
  rotated and slanted at random, wobbly): one drawing of each of 3 shapes (circle, cross, bar) or 5 shapes
  (+ zigzag, hook) as support, a new drawing of each as query, converted to 28×28 as the demo does.

Writes ``benchmarks/results/drawing-<machine>.json`` and ``.md`` (``-smoke`` for the smoke settings).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from reptile_edu import builtin_alphabets
from reptile_edu.drawing import hand_drawn, measure_style, reference_shapes, strokes_to_image
from reptile_edu.drawing_networks import DEMO_SETTINGS, NETWORKS, DemoNetworks, demo_networks
from reptile_edu.measure import machine_info

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = ("circle", "cross", "bar", "zigzag", "hook")


def interval(correct: torch.Tensor) -> tuple[float, float]:
    """Mean and 95 % half-width over episodes (``correct`` is ``[episodes]`` of per-episode accuracies)."""
    return float(correct.mean()), float(1.96 * correct.std() / len(correct) ** 0.5)


def classify_in_chunks(networks: DemoNetworks, support: torch.Tensor, query: torch.Tensor, chunk: int = 50):
    """``networks.classify`` on ``chunk`` episodes at a time (memory stays small)."""
    parts = [networks.classify(support[i : i + chunk], query[i : i + chunk]) for i in range(0, len(support), chunk)]
    return torch.cat(parts, 1)


def held_out(networks: DemoNetworks, chars, ways: int, tasks: int) -> dict[str, tuple[float, float]]:
    from reptile_edu.sampler import EpisodeSampler

    sampler = EpisodeSampler(chars.split("test"), ways=ways, shots=1, queries=1, shuffle=False)
    ep = sampler.episodes(tasks, torch.Generator().manual_seed(20_000 + ways))
    order = ep.y_support.argsort(1)
    support = (ep.x_support[torch.arange(tasks).unsqueeze(1), order, 0] * 255).round().to(torch.uint8)
    query = (ep.x_query[:, :, 0] * 255).round().to(torch.uint8)
    probs = classify_in_chunks(networks, support, query)
    correct = (probs.argmax(-1) == ep.y_query.unsqueeze(0)).float().mean(-1)  # [3, T]
    return {name: interval(correct[i]) for i, name in enumerate(NETWORKS)}


def drawn(networks: DemoNetworks, chars, ways: int, trials: int) -> dict[str, tuple[float, float]]:
    style = measure_style(chars)
    rng = np.random.default_rng(ways)
    shapes = [reference_shapes()[s] for s in SHAPES[:ways]]
    support = torch.stack(
        [torch.stack([strokes_to_image(hand_drawn(s, rng), style) for s in shapes]) for _ in range(trials)]
    )
    query = torch.stack(
        [torch.stack([strokes_to_image(hand_drawn(s, rng), style) for s in shapes]) for _ in range(trials)]
    )
    probs = classify_in_chunks(networks, support, query)  # [3, trials, ways (queries), ways]
    correct = (probs.argmax(-1) == torch.arange(ways)).float().mean(-1)
    return {name: interval(correct[i]) for i, name in enumerate(NETWORKS)}


def markdown(result: dict) -> str:
    rec, m = result["record"], result["machine"]
    lines = [
        f"# Drawing demo networks ({result['settings_name']} settings)",
        "",
        f"Machine: {m['description']}. Measured {m.get('date', '')}.",
        "",
        f"Training (first use): {rec['train_seconds']:.0f} s wall clock (Reptile {rec['reptile_seconds']:.0f} s, "
        f"pre-training {rec['pretrain_seconds']:.0f} s), {rec['train_cpu_seconds']:.0f} s CPU; load average "
        f"{' / '.join(f'{x:.1f}' for x in rec['load_average'][:3])} before, "
        f"{' / '.join(f'{x:.1f}' for x in rec['load_average'][3:])} after (1 / 5 / 15 min; 2 cores).",
        "",
        "Accuracy of the query's most likely class after k = 5 SGD steps with η = 0.1 (mean ± 95 % interval):",
        "",
        "| test | " + " | ".join(NETWORKS) + " |",
        "| --- | " + " | ".join("---" for _ in NETWORKS) + " |",
    ]
    for test, row in result["accuracy"].items():
        lines.append(f"| {test} | " + " | ".join(f"{row[n][0]:.3f} ± {row[n][1]:.3f}" for n in NETWORKS) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="the smoke settings instead of the full ones")
    parser.add_argument(
        "--cached", action="store_true", help="measure the cached networks (and their recorded training) instead"
    )
    parser.add_argument("--tasks", type=int, default=500, help="held-out episodes per test (default 500)")
    parser.add_argument("--trials", type=int, default=100, help="synthetic drawings per test (default 100)")
    parser.add_argument("--markdown", metavar="JSON", help="only rewrite the .md beside a result file")
    args = parser.parse_args(argv)
    if args.markdown:
        path = Path(args.markdown)
        path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))
        return
    torch.set_num_threads(1)
    name = "smoke" if args.smoke else "full"
    chars = builtin_alphabets()
    networks = demo_networks(chars, budget=name, device="cpu", rebuild=not args.cached)
    started = time.perf_counter()
    accuracy = {
        f"held-out 3-way 1-shot ({args.tasks} episodes)": held_out(networks, chars, 3, args.tasks),
        f"held-out 5-way 1-shot ({args.tasks} episodes)": held_out(networks, chars, 5, args.tasks),
        f"drawn circle / cross / bar ({args.trials} trials)": drawn(networks, chars, 3, args.trials),
        f"drawn 5 shapes ({args.trials} trials)": drawn(networks, chars, 5, args.trials),
    }
    result = {
        "settings_name": name,
        "settings": DEMO_SETTINGS[name].__dict__,
        "record": networks.record,
        "accuracy": accuracy,
        "evaluation_seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info("cpu"),
        "load_average_end": list(os.getloadavg()),
    }
    RESULTS.mkdir(exist_ok=True)
    stem = f"drawing-{result['machine']['slug']}" + ("-smoke" if args.smoke else "")
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(result))
    sys.stdout.write(markdown(result))


if __name__ == "__main__":
    main()
