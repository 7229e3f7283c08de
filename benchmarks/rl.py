"""Lesson 08's measurements: Reptile for RL against a random θ and joint training, on both task families.

    .venv/bin/python benchmarks/rl.py --tune       # choose k and η on validation tasks (a few minutes per family)
    .venv/bin/python benchmarks/rl.py              # the lesson's protocol on held-out test tasks
    .venv/bin/python benchmarks/rl.py --quick      # a rough check (seconds)

``--tune`` meta-trains Reptile for each setting in a small grid and scores it by the mean return
after one adaptation update on *validation* tasks (seed 5); it never looks at the test tasks.
The default run uses the settings the lesson uses (``LESSON`` below, the grid's winners) and
measures, on *test* tasks (seed 2024), the mean return after 0, 1, 2 and 3 adaptation updates from
Reptile's θ, a random θ and joint training, with 95 % intervals over tasks. Both write
``benchmarks/results/rl[-tune]-<machine>.json`` and ``.md``, with the machine and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from reptile_edu.measure import machine  # noqa: E402
from reptile_edu.rl import (  # noqa: E402
    ActorCritic,
    CartPoleFamily,
    PointNavigation,
    PPOSettings,
    adaptation_returns,
    joint_rl,
    reptile_rl,
)

VALIDATION_SEED, TEST_SEED = 5, 2024
FAMILIES = {"navigation": PointNavigation, "cartpole": CartPoleFamily}
#: What every starting point shares: n tasks × E episodes per outer step, and the adaptation.
COMMON = dict(meta_batch=10, episodes=10)
#: The lesson's settings (chosen with --tune on validation tasks): adaptation k, η; Reptile's ε; outer steps.
LESSON = {
    "navigation": dict(k=2, eta=0.001, batch_episodes=5, epsilon=0.5, steps=200),
    "cartpole": dict(k=4, eta=0.003, batch_episodes=5, epsilon=0.5, steps=60),
}
GRID = [dict(k=k, eta=eta, batch_episodes=5) for k in (2, 4) for eta in (0.001, 0.003)]


def settings(cfg: dict) -> PPOSettings:
    return PPOSettings(batch_episodes=cfg["batch_episodes"], optimizer="adam")


def fresh(family: object, seed: int = 1) -> ActorCritic:
    torch.manual_seed(seed)
    return ActorCritic.for_family(family)


def train(method: str, policy: ActorCritic, family: object, cfg: dict, steps: int) -> float:
    g = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    common = dict(steps=steps, k=cfg["k"], eta=cfg["eta"], settings=settings(cfg), generator=g, progress=False)
    if method == "reptile":
        reptile_rl(policy, family, epsilon=cfg.get("epsilon", 0.5), anneal=True, **common, **COMMON)
    elif method == "joint":
        joint_rl(policy, family, **common, **COMMON)
    return time.perf_counter() - start


def measure(policy: ActorCritic, family: object, cfg: dict, tasks: torch.Tensor) -> list[tuple[float, float]]:
    result = adaptation_returns(
        policy, family, tasks, updates=3, k=cfg["k"], eta=cfg["eta"], episodes=COMMON["episodes"],
        settings=settings(cfg), generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    return result.interval()


def slug() -> str:
    return re.sub(r"[^a-z0-9]+", "-", machine().split(",")[0].lower()).strip("-") + f"-{os.cpu_count()}c"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="choose k and η on validation tasks")
    parser.add_argument("--quick", action="store_true", help="a rough check in seconds")
    parser.add_argument("--families", default="navigation,cartpole")
    args = parser.parse_args()
    torch.set_num_threads(1)
    quick = args.quick
    report: dict[str, object] = {
        "machine": machine(), "date": dt.date.today().isoformat(), "torch": torch.__version__,
        "load_before": os.getloadavg(), "mode": "tune" if args.tune else "test", "quick": quick, "families": {},
    }  # fmt: skip
    started = time.perf_counter()
    for name in args.families.split(","):
        family = FAMILIES[name]()
        steps = 3 if quick else LESSON[name]["steps"]
        num_tasks = 4 if quick else (40 if args.tune else 50)
        seed = VALIDATION_SEED if args.tune else TEST_SEED
        tasks = family.sample_tasks(num_tasks, torch.Generator().manual_seed(seed))
        rows = []
        if args.tune:
            for cfg in GRID[:1] if quick else GRID:
                policy = fresh(family)
                seconds = train("reptile", policy, family, cfg, steps)
                rows.append({"setting": cfg, "train_s": seconds, "reptile": measure(policy, family, cfg, tasks)})
                print(name, cfg, rows[-1]["reptile"], flush=True)
            best = max(rows, key=lambda r: r["reptile"][1][0])
            report["families"][name] = {"steps": steps, "tasks": num_tasks, "rows": rows, "best": best["setting"]}
        else:
            cfg = LESSON[name]
            out = {}
            for method in ("reptile", "joint", "random"):
                policy = fresh(family)
                seconds = train(method, policy, family, cfg, steps)
                out[method] = {"train_s": seconds, "returns": measure(policy, family, cfg, tasks)}
                print(name, method, out[method], flush=True)
            report["families"][name] = {"steps": steps, "tasks": num_tasks, "setting": cfg, "results": out}
    report["seconds"] = time.perf_counter() - started
    report["load_after"] = os.getloadavg()
    stem = f"rl{'-tune' if args.tune else ''}-{slug()}{'-quick' if quick else ''}"
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (folder / f"{stem}.md").write_text(markdown(report), encoding="utf-8")
    print(f"wrote {folder / stem}.json and .md")


def markdown(report: dict) -> str:
    lines = [
        f"# Lesson 08 measurements ({report['mode']}{', quick' if report['quick'] else ''})",
        "",
        f"{report['machine']}; {report['date']}; load average before {report['load_before'][0]:.1f}, "
        f"after {report['load_after'][0]:.1f}; {report['seconds']:.0f} s in all.",
        "",
    ]
    for name, fam in report["families"].items():
        lines += [f"## {name}: {fam['steps']} outer steps, {fam['tasks']} tasks", ""]
        lines += [
            "| setting / start | train (s) | return after 0 / 1 / 2 / 3 adaptation updates (± 95 %) |",
            "| --- | --- | --- |",
        ]
        rows = fam["rows"] if "rows" in fam else [dict(setting=k, **v) for k, v in fam["results"].items()]
        for row in rows:
            values = row.get("reptile", row.get("returns"))
            text = " · ".join(f"{m:.1f} ± {h:.1f}" for m, h in values)
            lines.append(f"| {row['setting']} | {row['train_s']:.0f} | {text} |")
        if "best" in fam:
            lines += ["", f"Best on validation tasks (return after one update): {fam['best']}"]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
