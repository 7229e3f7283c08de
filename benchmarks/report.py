"""The benchmarks' report: which goals are met, and the results as Markdown (``benchmarks/run.py`` writes both)."""

from __future__ import annotations


def goals(results: dict[str, object]) -> list[dict[str, object]]:
    """Each goal of the issue: the value reached (wall time; CPU time in brackets) and whether it is met."""
    out = []
    rt = results.get("reptile_throughput")
    if rt and "package_n25" in rt["rates"]:
        r, seed = rt["rates"]["package_n25"], rt["rates"]["seed_style"]
        x, x_cpu = r["speedup_vs_seed"], r["per_cpu_s"] / seed["per_cpu_s"]
        out.append(
            {"goal": "Reptile throughput at n=25 ≥ 20× seed-style", "value": f"{x:.1f}× ({x_cpu:.1f}×)", "met": x >= 20}
        )
    tq = results.get("time_to_quality")
    if tq:
        tkey = "time_s" if tq["clock"] == "wall" else "cpu_time_s"
        best = tq["package_best"]
        if best:
            value, met = f"{best['time_s']:.1f} s ({best['cpu_time_s']:.1f} s)", best[tkey] <= 10
        else:
            runs = tq["package_runs"]
            value = f"> {max(r['time_s'] for r in runs):.0f} s (> {max(r['cpu_time_s'] for r in runs):.0f} s)"
            met = False
        out.append({"goal": "time to MSE ≤ 0.2 ≤ 10 s (package)", "value": value, "met": met})
        goal = "time to quality ≥ 10× faster than seed-style"
        clock = "" if tq["clock"] == "wall" else "_cpu_time"
        if "speedup_vs_seed" in tq:
            x, x_cpu = tq["speedup_vs_seed"], tq["speedup_vs_seed_cpu_time"]
            out.append({"goal": goal, "value": f"{x:.1f}× ({x_cpu:.1f}×)", "met": tq["speedup_vs_seed" + clock] >= 10})
        elif "speedup_vs_seed_at_least" in tq:
            x, x_cpu = tq["speedup_vs_seed_at_least"], tq["speedup_vs_seed_cpu_time_at_least"]
            met = True if tq["speedup_vs_seed" + clock + "_at_least"] >= 10 else None
            out.append({"goal": goal, "value": f"> {x:.1f}× (> {x_cpu:.1f}×)", "met": met})
        else:
            out.append({"goal": goal, "value": "n/a: the package did not reach the target", "met": False})
    mt = results.get("maml_throughput")
    if mt:
        for k, r in mt["by_k"].items():
            x, x_cpu = r["speedup"], r["package"]["per_cpu_s"] / r[mt["baseline"]]["per_cpu_s"]
            out.append(
                {"goal": f"MAML k={k} ≥ 10× {mt['baseline']}", "value": f"{x:.1f}× ({x_cpu:.1f}×)", "met": x >= 10}
            )
    for mem in results.get("memory", []):
        peak = mem["peak_mib"]
        ks = list(peak["MAML"])
        grow = peak["MAML"][ks[-1]] / max(peak["MAML"][ks[0]], 1e-9)
        flat = peak["Reptile"][ks[-1]] / max(peak["Reptile"][ks[0]], 1e-9)
        out.append(
            {
                "goal": f"memory ({mem['device']}): MAML grows with k, Reptile flat",
                "value": f"MAML ×{grow:.1f}, Reptile ×{flat:.2f} from k={ks[0]} to k={ks[-1]}",
                "met": grow > 2 and flat < 1.5,
            }
        )
    return out


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _header(results: dict[str, object]) -> list[str]:
    """The machine, the versions, the load and the command."""
    m = results["machine"]
    return [
        f"# reptile-edu benchmarks: {m['slug']}",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; GPU: {m['gpu'] or 'none'}",
        f"- torch {m['torch']}, Python {m['python']}, reptile-edu {m['reptile_edu']}; {m['date']}",
        f"- torch threads {m['torch_threads']}, OMP_WAIT_POLICY {m['omp_wait_policy']}; "
        f"load average at start {m['load_average_start']}, at end {m.get('load_average_end')}",
        f"- mode `{results['mode']}`, wall time {results['wall_s']:.0f} s; command `{results['command']}`",
        "",
    ]


def _reptile(results: dict[str, object]) -> list[str]:
    """1. Reptile throughput: tasks per second of each implementation."""
    lines: list[str] = []
    rt = results.get("reptile_throughput")
    if rt:
        lines += [
            "## 1. Reptile throughput (sine, CPU)",
            "",
            rt["setting"] + ". Median of the repeats (min–max).",
            "",
            "| implementation | meta-batch n | tasks/s | × seed-style | tasks per CPU-second | × seed-style |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key, r in rt["rates"].items():
            who, n = (key.rsplit("_n", 1) + ["1"])[:2] if key != "seed_style" else ("seed-style loop", "1")
            who = {
                "package": "`reptile_edu.reptile`",
                "autograd": "`reptile_edu.reptile`, inner loop on autograd",
                "prototype": "prototype (`benchmarks/fast_reptile.py`)",
            }.get(who, who)
            cpu_x = r["per_cpu_s"] / rt["rates"]["seed_style"]["per_cpu_s"]
            lines.append(
                f"| {who} | {n} | {_fmt(r['median'])} ({_fmt(r['min'])}–{_fmt(r['max'])}) | "
                f"{r['speedup_vs_seed']:.1f}× | {_fmt(r['per_cpu_s'])} | {cpu_x:.1f}× |"
            )
        if "threads_check" in results:
            tc = ", ".join(
                f"{k.rsplit('threads', 1)[1]} thread(s) {_fmt(v['tasks_per_s'])} "
                f"({_fmt(v['tasks_per_cpu_s'])} per CPU-s)"
                for k, v in results["threads_check"].items()
            )
            lines += ["", f"Package at n = 25 by torch threads, tasks/s: {tc}."]
        lines.append("")
    return lines


def _time_to_quality(results: dict[str, object]) -> list[str]:
    """2. Time to quality: each setting's median over seeds."""
    lines: list[str] = []
    tq = results.get("time_to_quality")
    if tq:
        lines += [
            "## 2. Time to quality (sine, CPU)",
            "",
            tq["setting"] + ".",
            "",
            "| run | n | ε | result (median) | training time | CPU time | tasks | time per seed |",
            "| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |",
        ]
        tkey = "time_s" if tq["clock"] == "wall" else "cpu_time_s"

        def row(label: str, r: dict) -> str:
            more = "" if r["result"] == "reached" else "> "
            st = r["settings"]
            per_seed = ", ".join(
                f"{'' if x['result'] == 'reached' else '> '}{x[tkey]:.1f}" for x in r.get("per_seed", [r])
            )
            return (
                f"| {label} | {st['meta_batch']} | {st['epsilon']} | {r['result']} | {more}{r['time_s']:.1f} s | "
                f"{more}{r['cpu_time_s']:.1f} s | {r['tasks']:,} | {per_seed} |"
            )

        lines += [row("`reptile_edu.reptile`", r) for r in tq["package_runs"]]
        lines += [row("prototype (`fast_reptile.py`)", r) for r in tq["prototype_runs"]]
        lines += [row("seed-style loop", r) for r in tq["seed_style_runs"]]
        if "speedup_vs_seed" in tq:
            lines += [
                "",
                f"Package (best) vs seed-style (best): {tq['speedup_vs_seed']:.1f}× faster in wall time, "
                f"{tq['speedup_vs_seed_cpu_time']:.1f}× in CPU time.",
            ]
        elif "speedup_vs_seed_at_least" in tq:
            lines += [
                "",
                f"Package (best) vs seed-style: more than {tq['speedup_vs_seed_at_least']:.1f}× faster in wall "
                f"time, more than {tq['speedup_vs_seed_cpu_time_at_least']:.1f}× in CPU time.",
            ]
        if "prototype_speedup_vs_seed" in tq:
            lines += [
                f"Prototype (best) vs seed-style (best): {tq['prototype_speedup_vs_seed']:.1f}× faster in wall "
                f"time, {tq['prototype_speedup_vs_seed_cpu_time']:.1f}× in CPU time.",
            ]
        lines += [
            "",
            f"Each setting runs once per seed ({', '.join(map(str, tq['seeds']))}: the initialisation and the "
            "task stream); the row gives the run with the median time (one that never reached the target "
            f"counts as ∞), and the last column every seed's {'wall' if tq['clock'] == 'wall' else 'CPU'} "
            "time. A run stops (result `cap`) at its cap. The seed-style loop draws the same tasks as the "
            "package at n = 1. Times are those of the first evaluation at or under the target "
            "(evaluations every 0.25 s or 5 % of the time so far).",
            "",
        ]
    return lines


def _search(results: dict[str, object]) -> list[str]:
    """The (n, ε) search behind the time-to-quality settings."""
    lines: list[str] = []
    search = results.get("time_to_quality_search")
    if search:
        lines += [
            "### Search (prototype, same arithmetic as the package)",
            "",
            "Fewer outer steps is what counts: they run one after another, the tasks of a step in parallel.",
            "",
            "| n | ε | result | tasks | outer steps | training time | CPU time |",
            "| ---: | ---: | --- | ---: | ---: | ---: | ---: |",
        ]
        for r in search:
            st = r["settings"]
            more = "" if r["result"] == "reached" else "> "
            lines.append(
                f"| {st['meta_batch']} | {st['epsilon']} | {r['result']} | {more}{r['tasks']:,} | "
                f"{more}{r['outer_steps']:,} | {more}{r['time_s']:.1f} s | {more}{r['cpu_time_s']:.1f} s |"
            )
        lines.append("")
    return lines


def _maml(results: dict[str, object]) -> list[str]:
    """3. MAML throughput against the baseline."""
    lines: list[str] = []
    mt = results.get("maml_throughput")
    if mt:
        lines += [
            "## 3. MAML throughput (sine, CPU)",
            "",
            f"{mt['setting']}. Baseline: `{mt['baseline']}` ({mt['baseline_status']}); max |Δ meta-gradient| "
            f"package vs baseline = {mt['max_abs_gradient_difference']:.1e}.",
            "",
            f"| k | `reptile_edu.maml` | {mt['baseline']} | speed-up | speed-up in CPU time |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for k, r in mt["by_k"].items():
            pkg, base = r["package"], r[mt["baseline"]]
            lines.append(
                f"| {k} | {_fmt(pkg['median'])} | {_fmt(base['median'])} | {r['speedup']:.1f}× | "
                f"{pkg['per_cpu_s'] / base['per_cpu_s']:.1f}× |"
            )
        lines.append("")
    return lines


def _memory(results: dict[str, object]) -> list[str]:
    """4. Peak memory of one meta-step against k."""
    lines: list[str] = []
    for mem in results.get("memory", []):
        ks = list(mem["peak_mib"]["MAML"])
        lines += [
            f"## 4. Memory ({mem['device']}, {mem['method']})",
            "",
            f"{mem['setting']}; {mem['unit']}.",
            "",
            "| method | " + " | ".join(f"k={k}" for k in ks) + " |",
            "| --- | " + " | ".join("---:" for _ in ks) + " |",
        ]
        for name, by_k in mem["peak_mib"].items():
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in by_k.values()) + " |")
        lines.append("")
    if results.get("memory_plot"):
        lines += [f"![peak memory against k]({results['memory_plot']})", ""]
    return lines


def _gpu(results: dict[str, object]) -> list[str]:
    """5. GPU against this machine's CPU."""
    if "gpu" not in results:
        return []
    g = results["gpu"]
    lines = ["## 5. GPU", ""]
    if not isinstance(g, dict):
        lines += [str(g or "skipped: no CUDA device"), ""]
    else:
        lines += [
            f"{g['name']}: Reptile on sine, tasks/s.",
            "",
            "| n | GPU | CPU | speed-up |",
            "| ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {n} | {_fmt(r['device'])} | {_fmt(r['cpu'])} | {r['speedup']:.1f}× |"
            for n, r in g["sine_reptile_tasks_per_s"].items()
        ]
        if isinstance(g.get("episodes"), dict):
            lines += ["", g["episodes"]["setting"] + ", episodes/s:", "", "| n | GPU | CPU | speed-up |"]
            lines += ["| ---: | ---: | ---: | ---: |"]
            lines += [
                f"| {n} | {_fmt(r['device'])} | {_fmt(r['cpu'])} | {r['speedup']:.1f}× |"
                for n, r in g["episodes"]["tasks_per_s"].items()
            ]
        else:
            lines += ["", f"Episodes: {g.get('episodes')}"]
        lines.append("")
    return lines


def _goals(results: dict[str, object]) -> list[str]:
    """The goals, met or not."""
    lines: list[str] = []
    if results["goals"]:
        lines += ["## Goals", "", "Values in wall time; in brackets, in CPU time of this process.", ""]
        lines += ["| goal | value | met |", "| --- | --- | --- |"]
    for goal in results["goals"]:
        met = {True: "yes", False: "**no**", None: "open (seed-style capped)"}[goal["met"]]
        lines.append(f"| {goal['goal']} | {goal['value']} | {met} |")
    return lines


SECTIONS = (_header, _reptile, _time_to_quality, _search, _maml, _memory, _gpu, _goals)


def markdown(results: dict[str, object]) -> str:
    """The results as a Markdown report, one section per benchmark that ran."""
    return "\n".join(line for section in SECTIONS for line in section(results)) + "\n"
