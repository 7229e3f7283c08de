"""Time to quality of lesson 04's playground defaults (the Reptile sine demo's own inner loop).

    .venv/bin/python benchmarks/playground_time.py

The Reptile demo gives every task 50 points and takes its k = 5 inner SGD steps (η = 0.02) on
minibatches of 10 of them; the playground and lesson 04 do the same with a meta-batch of n = 10
and ε = 1. This measures the training time (wall and CPU, one torch thread, evaluation not
counted) until the mean query MSE on 100 fixed held-out tasks, after 32 SGD steps (η = 0.02) on
10 shots, is at most 0.2: the protocol of section 2 of ``benchmarks/run.py``. Writes
``benchmarks/results/<machine>-playground.json`` and ``.md``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

from reptile_edu import MLP, SineFamily, evaluate, reptile, seed_everything
from reptile_edu.measure import machine_info

TARGET, CHUNK, CAP_S = 0.2, 50, 120.0
SETTING = {"k": 5, "eta": 0.02, "epsilon": 1.0, "meta_batch": 10, "shots": 50, "batch_size": 10}


def run(seed: int = 0) -> dict[str, object]:
    torch.set_num_threads(1)
    held_out = SineFamily("reptile", shots=10, queries=100).episodes(100, torch.Generator().manual_seed(999))
    g = seed_everything(seed)
    model = MLP.preset("reptile")
    family = SineFamily("reptile", shots=SETTING["shots"])
    kw = {k: v for k, v in SETTING.items() if k != "shots"}
    wall = cpu = 0.0
    steps, curve = 0, []
    while wall < CAP_S:
        w0, c0 = time.perf_counter(), time.process_time()
        reptile(model, family, steps=CHUNK, generator=g, progress=False, **kw)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        steps += CHUNK
        mse = evaluate(model, held_out, k=32, eta=0.02).final
        curve.append((steps, round(wall, 2), round(cpu, 2), round(mse, 4)))
        if mse <= TARGET:
            break
    info = machine_info("cpu")
    return {
        "setting": SETTING,
        "target_mse": TARGET,
        "reached": curve[-1][3] <= TARGET,
        "outer_steps": steps,
        "tasks": steps * SETTING["meta_batch"],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "curve": curve,
        **{key: info[key] for key in ("load_average", "torch", "python", "date")},
        "machine": info["description"],
        "slug": info["slug"],
    }


def main() -> None:
    result = run()
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    stem = out / f"{result['slug']}-playground"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2))
    verdict = "reached" if result["reached"] else f"not reached within {CAP_S:.0f} s"
    md = (
        "# Lesson 04 playground defaults: time to MSE ≤ 0.2\n\n"
        f"- {result['machine']}; load average at end {result['load_average']}; {result['date']}\n"
        f"- setting {SETTING}; held-out: 100 tasks, 10 shots, 32 SGD steps of η = 0.02\n\n"
        f"**{verdict}**: {result['outer_steps']} outer steps ({result['tasks']:,} tasks), "
        f"{result['wall_s']} s wall, {result['cpu_s']} s CPU (evaluation not counted).\n"
    )
    stem.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    sys.exit(main())
