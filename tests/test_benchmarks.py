"""The benchmark script runs (in a tiny setting, numbers meaningless) and its baselines compute the right thing.

The benchmarks themselves are not part of the test suite: ``python benchmarks/run.py``.
"""

import copy
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

from reptile_edu import MLP, SineFamily, reptile_step

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("reptile_edu_benchmarks_run", BENCH / "run.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("reptile_edu_benchmarks_run", None)
        sys.path.remove(str(BENCH))


def test_tiny_run_writes_valid_results(bench, tmp_path):
    threads = torch.get_num_threads()
    # one thread: under pytest OMP_WAIT_POLICY is not set, and two spinning threads crawl on a busy machine
    bench.main(["--tiny", "--threads", "1", "--out", str(tmp_path), "--gpu-device", "cpu"])  # cpu: GPU code path
    assert torch.get_num_threads() == threads
    [json_file] = tmp_path.glob("*-tiny*.json")
    results = json.loads(json_file.read_text(encoding="utf-8"))
    machine = results["machine"]
    for key in ("cpu", "cores", "torch", "python", "date", "load_average_start", "torch_threads"):
        assert key in machine
    rates = results["reptile_throughput"]["rates"]
    assert {"seed_style", "package_n1", "package_n4", "prototype_n4"} <= set(rates)
    assert all(r["median"] > 0 for r in rates.values())
    ttq = results["time_to_quality"]
    assert ttq["package_best"]["result"] == "reached" and ttq["seed_style_best"]["result"] == "reached"
    maml = results["maml_throughput"]
    assert maml["baseline"] in ("higher", "per_task_loop") and maml["by_k"]["1"]["speedup"] > 0
    assert maml["max_abs_gradient_difference"] < 1e-4
    [mem] = results["memory"]
    assert set(mem["peak_mib"]) == {"MAML", "FOMAML", "Reptile"}
    assert mem["peak_mib"]["MAML"]["2"] > mem["peak_mib"]["MAML"]["1"] > 0
    assert results["gpu"]["sine_reptile_tasks_per_s"]["2"]["speedup"] > 0
    assert results["goals"]
    assert json_file.with_suffix(".md").read_text(encoding="utf-8").startswith("# reptile-edu benchmarks")
    assert (tmp_path / results["memory_plot"]).stat().st_size > 0


@pytest.mark.parametrize("batch_size", [None, 10])
def test_seed_style_loop_and_prototype_do_the_package_arithmetic(bench, batch_size):
    import fast_reptile
    import seed_style

    torch.manual_seed(0)
    model = MLP.preset("reptile")
    ep = SineFamily("reptile", shots=50).episodes(3, torch.Generator().manual_seed(0))
    kw = {"k": 5, "eta": 0.02, "epsilon": 0.3, "batch_size": batch_size}
    expected, _ = reptile_step(model, ep.task(0), **kw)

    net = seed_style.SineNet()
    with torch.no_grad():
        for dst, src in zip(net.parameters(), model.parameters()):
            dst.copy_(src)
    seed_style.adapt_and_interpolate(net, ep.x_support[0], ep.y_support[0], **kw)
    for got, want in zip(net.parameters(), expected.values()):
        torch.testing.assert_close(got, want)

    expected, _ = reptile_step(model, ep, **kw)
    fast = copy.deepcopy(model)
    fast_reptile.fast_reptile_step(fast, ep, **kw)
    for name, got in fast.named_parameters():
        torch.testing.assert_close(got, expected[name])


def test_maml_sine_benchmark_records_robust_statistics(tmp_path):
    spec = importlib.util.spec_from_file_location("reptile_edu_benchmarks_maml_sine", BENCH / "maml_sine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    argv = ["--checkpoints", "2", "3", "--held-out-tasks", "20", "--train-shots", "5", "--out", str(tmp_path)]
    stem = module.main(argv)
    results = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    assert [r["method"] for r in results["runs"]] == ["MAML", "Joint training"]
    point = results["runs"][0]["checkpoints"][-1]
    assert point["outer_steps"] == 3 and len(point["load_average"]) == 3
    paper = point["paper"]
    assert paper["steps"] == [0, 1, 5, 10] and paper["median"][0] <= paper["q90"][0]
    assert 0 <= paper["worst_task"] < 20 and isinstance(paper["diverged_tasks"], list)
    assert point["k_100"]["steps"][-1] == 100
    assert "k = 100, η = 0.01" in stem.with_suffix(".md").read_text(encoding="utf-8")
