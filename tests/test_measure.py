"""The cost measurements: saved-for-backward bytes are counted exactly, released, and grow with k for MAML only."""

import re
import time

import torch

from reptile_edu import MLP, SineFamily, maml_meta_gradient, reptile_step
from reptile_edu.inner import autograd_only
from reptile_edu.measure import (
    Cost,
    SavedTensors,
    load_average,
    machine,
    machine_info,
    measure,
    measure_many,
    rates,
)


def test_saved_tensors_counts_exact_bytes_and_releases_them():
    x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    with SavedTensors() as saved:
        y = (x * x).sum()  # mul saves both inputs: the same storage, counted once
        assert saved.current == 1000 * 8
        y.backward()
    assert saved.peak == 1000 * 8 and saved.count == 2
    assert saved.current == 0  # backward freed the graph
    with SavedTensors() as saved:
        z = torch.exp(x).sum()  # exp saves its output, a new 8000-byte tensor
        del z
    assert saved.peak == 8000 and saved.current == 0  # dropping the graph releases it too


def test_hooks_leave_second_order_gradients_unchanged():
    torch.manual_seed(0)
    model = MLP((8, 8), "tanh").double()
    ep = SineFamily("maml").episodes(3, torch.Generator().manual_seed(0))
    for name in ("x_support", "y_support", "x_query", "y_query"):
        setattr(ep, name, getattr(ep, name).double())
    want, _ = maml_meta_gradient(model, ep, k=3, eta=0.1)
    with SavedTensors():
        got, _ = maml_meta_gradient(model, ep, k=3, eta=0.1)
    assert all(torch.equal(got[n], want[n]) for n in want)


def test_maml_memory_grows_with_k_and_reptile_does_not():
    torch.manual_seed(0)
    model = MLP((16, 16), "relu")
    ep = SineFamily("maml").episodes(5, torch.Generator().manual_seed(0))

    def cost(fn, k):
        return measure(lambda: fn(k), repeats=1, warmup=0)

    maml = [cost(lambda k: maml_meta_gradient(model, ep, k=k, eta=0.01), k).saved_bytes for k in (1, 4, 16)]
    with autograd_only():  # Reptile's inner loop on autograd: one step's tensors at a time
        rep = [cost(lambda k: reptile_step(model, ep, k=k, eta=0.01, epsilon=0.1), k).saved_bytes for k in (1, 4, 16)]
    assert maml[0] < maml[1] < maml[2] and maml[2] > 8 * maml[0]
    assert rep[0] == rep[1] == rep[2] > 0
    # with the hand-derived MLP gradient (the default) Reptile keeps nothing for autograd at all
    fast = [cost(lambda k: reptile_step(model, ep, k=k, eta=0.01, epsilon=0.1), k).saved_bytes for k in (1, 16)]
    assert fast == [0, 0]


def test_measure_returns_a_median_time_and_machine_names_the_cpu():
    calls = []
    c = measure(lambda: calls.append(1), repeats=3, warmup=2, min_time=0)
    assert isinstance(c, Cost) and len(calls) == 2 + 3 + 1
    assert c.seconds >= 0 and c.saved_bytes == 0 and c.device_bytes is None and c.device_mib is None
    assert "CPU cores" in machine("cpu")


def test_measure_many_interleaves_the_calls():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    costs = measure_many(fns, repeats=2, warmup=1, min_time=0)
    assert calls == ["a", "b"] * 3 + ["a", "b"]  # three rounds (one warm-up), then one call each for memory
    assert set(costs) == {"a", "b"} and all(isinstance(c, Cost) for c in costs.values())


def test_a_fast_function_is_timed_over_several_calls_per_sample():
    calls = []
    cost = measure(lambda: (calls.append(1), time.sleep(0.002)), repeats=3, warmup=1, min_time=0.05)
    per_sample = (len(calls) - 2) // 3  # minus the warm-up and the memory call
    # A sample lasts ≥ 0.05 s; the cost is per call (≈ 0.002 s, more on a busy machine), far below that.
    assert per_sample >= 2 and 0.002 <= cost.seconds < 0.025


def test_rates_time_loops_of_many_steps_in_interleaved_rounds():
    calls = []

    def loop(key, pause):
        def run(n):
            calls.append((key, n))
            for _ in range(n):
                time.sleep(pause)

        return run

    got = rates({"a": loop("a", 0.002), "b": loop("b", 0.004)}, units={"a": 10, "b": 1}, repeats=3, min_time=0.05)
    assert [key for key, _ in calls] == ["a", "b"] * 5  # two warm-up rounds, then three rounds of one sample each
    assert [n for _, n in calls[:4]] == [1, 1, 1, 1]  # warm-up: one step each
    a = got["a"]
    assert all(n == a.steps_per_repeat > 1 for key, n in calls[4:] if key == "a")  # one call of many steps
    assert a.repeats == 3 and a.min <= a.median <= a.max <= 10 / 0.002  # ten units per step of ≥ 2 ms
    assert got["b"].median <= 1 / 0.004
    assert a.per_cpu_s > a.median  # sleeping takes wall time, not CPU time


def test_machine_info_names_the_machine_for_result_files():
    info = machine_info()
    assert info["description"] == machine() and info["cores"] >= 1
    assert (info["gpu"] is None) == (not torch.cuda.is_available())
    assert re.fullmatch(r"[a-z0-9-]+-\d+c", info["slug"]) and info["slug"].endswith(f"-{info['cores']}c")
    assert info["load_average"] is None or len(info["load_average"]) == len(load_average()) == 3
    for key in ("cpu", "torch", "python", "reptile_edu", "date", "torch_threads", "omp_wait_policy"):
        assert info[key] not in (None, "")
