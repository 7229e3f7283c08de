"""Lesson 09's tools: ε schedules, Adam on θ − θ̃, same vs separate minibatches, dynamics, landscapes."""

import copy
import math

import pytest
import torch

from reptile_edu import (
    MLP,
    Constant,
    Cosine,
    Episodes,
    InnerLoop,
    Linear,
    SineFamily,
    adapt,
    parameters_of,
    reptile,
    reptile_gradient,
    reptile_step,
)
from reptile_edu.dynamics import DynamicsRecorder, alignment, minibatch_gradients, off_diagonal_mean
from reptile_edu.landscape import ToyTasks, loss_along
from reptile_edu.schedules import as_schedule


def small_model(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return MLP((8, 8), "tanh").to(dtype)


def episodes(num_tasks=3, shots=20, queries=5, seed=0, dtype=torch.float64):
    ep = SineFamily("reptile", shots=shots, queries=queries).episodes(num_tasks, torch.Generator().manual_seed(seed))
    return Episodes(*(t.to(dtype) for t in (ep.x_support, ep.y_support, ep.x_query, ep.y_query)))


# ------------------------------------------------------------------------------------------------ schedules


def test_schedules_first_and_last_step():
    steps = 10
    assert Constant(0.3)(0, steps) == Constant(0.3)(9, steps) == 0.3
    # linear: ε + (end − ε)·s/S; s = 0 → ε, s = S − 1 → ε/S with end = 0 (the paper's code)
    assert Linear(1.0)(0, steps) == 1.0
    assert Linear(1.0)(9, steps) == pytest.approx(0.1)
    assert Linear(1.0, end=0.5)(9, steps) == pytest.approx(1.0 - 0.5 * 0.9)
    # cosine: end + (ε − end)·½(1 + cos(π s/S)); s = S − 1 → ½(1 + cos(0.9π)) = 0.0245…
    assert Cosine(1.0)(0, steps) == 1.0
    assert Cosine(1.0)(9, steps) == pytest.approx(0.5 * (1 + math.cos(0.9 * math.pi)))
    assert Cosine(2.0, end=1.0)(5, steps) == pytest.approx(1.5)  # half-way: the mean of the two ends
    values = Cosine(1.0).values(steps)
    assert len(values) == steps and all(a > b for a, b in zip(values, values[1:]))


def test_schedules_refuse_bad_input():
    with pytest.raises(ValueError, match=r"ε \(epsilon\) must be a finite number > 0; got 0.0"):
        Linear(0.0)
    with pytest.raises(ValueError, match=r"end \(the final ε\) must be a finite number ≥ 0; got -1"):
        Cosine(1.0, end=-1)
    with pytest.raises(ValueError, match="step must be an integer between 0 and 9; got 10"):
        Linear(1.0)(10, 10)
    with pytest.raises(ValueError, match="anneal=True asks for the linear schedule"):
        as_schedule(Cosine(1.0), anneal=True)


def test_anneal_true_is_the_linear_schedule(fixed_source):
    model, src = small_model(), fixed_source(episodes(num_tasks=2))
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    reptile(a, src, steps=4, k=2, eta=0.1, epsilon=0.5, meta_batch=2, anneal=True, progress=False)
    reptile(b, src, steps=4, k=2, eta=0.1, epsilon=Linear(0.5), meta_batch=2, progress=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_a_schedule_sets_each_outer_step(fixed_source):
    """Three steps with the cosine schedule equal three reptile_step calls with ε_0, ε_1, ε_2 by hand."""
    model, ep = small_model(), episodes(num_tasks=2)
    trained = copy.deepcopy(model)
    schedule = Cosine(0.8, end=0.1)
    reptile(trained, fixed_source(ep), steps=3, k=2, eta=0.1, epsilon=schedule, meta_batch=2, progress=False)
    by_hand = copy.deepcopy(model)
    for s in range(3):
        new, _ = reptile_step(by_hand, ep, k=2, eta=0.1, epsilon=0.1 + 0.7 * 0.5 * (1 + math.cos(math.pi * s / 3)))
        with torch.no_grad():
            for name, p in by_hand.named_parameters():
                p.copy_(new[name])
    for pa, pb in zip(trained.parameters(), by_hand.parameters()):
        torch.testing.assert_close(pa, pb)


# ------------------------------------------------------------------------------------- Adam on θ − θ̃


def test_reptile_gradient_on_hand_set_tensors():
    theta = {"w": torch.tensor([1.0, 2.0])}
    theta_tilde = {"w": torch.tensor([[3.0, 2.0], [1.0, 6.0]])}
    assert torch.equal(reptile_gradient(theta, theta_tilde)["w"], torch.tensor([-1.0, -2.0]))  # θ − mean θ̃


def test_adam_outer_first_step_moves_every_parameter_by_epsilon_against_the_sign(fixed_source):
    """Adam's first step is −lr·m̂/(√v̂ + 1e-8) = −lr·g/(|g| + 1e-8): each parameter moves by ε toward mean θ̃."""
    model, ep = small_model(), episodes(num_tasks=2)
    theta = {n: p.detach().clone() for n, p in model.named_parameters()}
    new_sgd, _ = reptile_step(model, ep, k=3, eta=0.1, epsilon=1.0)  # = mean θ̃ (ε = 1)
    reptile(model, fixed_source(ep), steps=1, k=3, eta=0.1, epsilon=1e-3, meta_batch=2, outer_optimizer="adam",
            progress=False)  # fmt: skip
    for name, p in model.named_parameters():
        g = theta[name] - new_sgd[name]
        torch.testing.assert_close(p.detach(), theta[name] - 1e-3 * g / (g.abs() + 1e-8))
    with pytest.raises(ValueError, match="outer_optimizer must be one of 'sgd', 'adam'; got 'rmsprop'"):
        reptile(model, fixed_source(ep), steps=1, outer_optimizer="rmsprop", progress=False)


# ---------------------------------------------------------------------------------- same vs separate


def test_same_minibatch_uses_the_first_minibatch_at_every_step():
    assert InnerLoop(3, 0.1, batch_size=5).slices(15) == [slice(0, 5), slice(5, 10), slice(10, 15)]
    assert InnerLoop(3, 0.1, batch_size=5, minibatches="same").slices(15) == [slice(0, 5)] * 3
    model, ep = small_model(), episodes()
    same = adapt(model, ep.x_support, ep.y_support, k=4, eta=0.1, batch_size=5, minibatches="same")
    first = adapt(model, ep.x_support[:, :5], ep.y_support[:, :5], k=4, eta=0.1)
    separate = adapt(model, ep.x_support, ep.y_support, k=4, eta=0.1, batch_size=5)
    for name in same:
        torch.testing.assert_close(same[name], first[name])
    assert not torch.allclose(same["layers.0.weight"], separate["layers.0.weight"])
    with pytest.raises(ValueError, match="minibatches must be one of 'separate', 'same'; got 'shared'"):
        InnerLoop(3, 0.1, minibatches="shared")


# ------------------------------------------------------------------------------------------------ dynamics


def test_two_identical_minibatches_align_perfectly():
    model, ep = small_model(), episodes(num_tasks=3, shots=10)
    x = torch.cat([ep.x_support, ep.x_support], 1)  # minibatch 2 = minibatch 1, for every task
    y = torch.cat([ep.y_support, ep.y_support], 1)
    grads = minibatch_gradients(model, x, y, batch_size=10)
    cos, inner = alignment(grads)
    assert grads.shape == (3, 2, sum(p.numel() for p in model.parameters()))
    torch.testing.assert_close(cos, torch.ones(3, 2, 2, dtype=torch.float64))
    torch.testing.assert_close(inner[:, 0, 1], grads[:, 0].pow(2).sum(1))  # ḡ·ḡ = ‖ḡ‖²
    assert off_diagonal_mean(cos) == pytest.approx(1.0)


def test_minibatch_gradients_match_one_task_autograd_and_opposite_targets_anti_align():
    model, ep = small_model(), episodes(num_tasks=2, shots=10)
    grads = minibatch_gradients(model, ep.x_support, ep.y_support, batch_size=5)
    for t in range(2):
        for i in range(2):
            xb, yb = ep.x_support[t, 5 * i : 5 * i + 5], ep.y_support[t, 5 * i : 5 * i + 5]
            loss = (model(xb) - yb).pow(2).mean()
            ref = torch.cat([g.flatten() for g in torch.autograd.grad(loss, list(model.parameters()))])
            torch.testing.assert_close(grads[t, i], ref)
    # A linear model f(x) = w·x at w = 0, loss (w·x − y)²: targets y and −y give gradients −2xy and +2xy.
    linear = MLP((), "tanh").double()
    with torch.no_grad():
        for p in linear.parameters():
            p.zero_()
    x = torch.tensor([[[1.0], [2.0]]], dtype=torch.float64)
    y = torch.cat([x, -x], 1)
    cos, _ = alignment(minibatch_gradients(linear, torch.cat([x, x], 1), y, batch_size=2))
    torch.testing.assert_close(cos[0, 0, 1], torch.tensor(-1.0, dtype=torch.float64))


def test_recorder_records_alignment_and_the_change_of_each_layer():
    model = MLP((8, 8), "tanh")
    torch.manual_seed(0)
    probe = SineFamily("reptile", shots=20).episodes(4, torch.Generator().manual_seed(1))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    rec = DynamicsRecorder(model, probe, batch_size=10, every=2, inner=InnerLoop(3, 0.02, batch_size=10))
    reptile(model, SineFamily("reptile", shots=20), steps=4, k=3, eta=0.02, epsilon=0.5, meta_batch=2,
            batch_size=10, generator=torch.Generator().manual_seed(0), progress=False, callback=rec)  # fmt: skip
    d = rec.dynamics
    assert d.step == [0, 2, 4]
    assert list(d.layer_step) == ["layers.0", "layers.1", "layers.2"]
    assert all(-1 <= c <= 1 for c in d.within_cosine + d.across_cosine)
    assert math.isnan(d.layer_step["layers.0"][0]) and all(v > 0 for v in d.layer_step["layers.2"][1:])
    assert len(d.layer_adaptation["layers.1"]) == 3 and all(v > 0 for v in d.layer_adaptation["layers.1"])
    # One step of a known size: the recorder's per-step change is ‖Δθ_l‖ / ‖θ_l‖ of that step.
    model2 = copy.deepcopy(model)
    rec2 = DynamicsRecorder(model2, probe, batch_size=10, every=1)
    start = {n: p.detach().clone() for n, p in model2.named_parameters()}
    with torch.no_grad():
        model2.layers[2].weight.mul_(1.5)  # output layer weights +50 %, bias unchanged
    rec2(1, 0.0)
    w, b = start["layers.2.weight"], start["layers.2.bias"]
    expected = (0.5 * w).norm() / torch.sqrt(w.pow(2).sum() + b.pow(2).sum())
    assert rec2.dynamics.layer_step["layers.2"][1] == pytest.approx(float(expected), rel=1e-5)
    assert rec2.dynamics.layer_step["layers.0"][1] == 0.0
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())


# ----------------------------------------------------------------------------------------------- landscape


def test_toy_reptile_goes_to_its_fixed_point_which_nears_the_closest_point_as_k_grows():
    toy = ToyTasks.random(5, seed=3)
    path = toy.reptile_path([4.0, -4.0], k=10, eta=0.3, epsilon=0.5, steps=200)
    torch.testing.assert_close(path[-1], toy.reptile_fixed_point(10, 0.3))
    # k = 1 is joint training; with many steps θ̃_t is nearly the projection onto the solution set.
    torch.testing.assert_close(toy.reptile_fixed_point(1, 0.3), toy.joint_optimum())
    far = (toy.reptile_fixed_point(30, 0.3) - toy.closest_point()).norm()
    assert far < 0.1 * (toy.joint_optimum() - toy.closest_point()).norm()
    # The closest point is closest: no grid point has a smaller mean squared distance.
    d2 = lambda p: toy.distance_to_solution_sets(p).pow(2).mean(-1)  # noqa: E731
    grid = toy.closest_point() + 0.05 * torch.randn(200, 2, generator=torch.Generator().manual_seed(0)).double()
    assert bool((d2(grid) >= d2(toy.closest_point())).all())


def test_toy_gradient_step_matches_autograd():
    toy = ToyTasks.random(3, seed=1)
    theta = torch.tensor([0.5, -0.2], dtype=torch.float64, requires_grad=True)
    grads = torch.stack([torch.autograd.grad(toy.losses(theta)[t], theta)[0] for t in range(3)])
    torch.testing.assert_close(toy.adapt(theta.detach(), 1, 0.1), theta.detach() - 0.1 * grads)


def test_loss_along_the_line_is_the_loss_at_theta_and_at_theta_tilde():
    model, ep = small_model(), episodes(num_tasks=2)
    theta_tilde = adapt(model, ep.x_support, ep.y_support, k=5, eta=0.1)
    out = loss_along(model, ep, theta_tilde, [0.0, 1.0])
    from reptile_edu import evaluate

    ev = evaluate(model, ep, k=5, eta=0.1)
    torch.testing.assert_close(out["query"][1], ev.final_per_task)
    theta = parameters_of(model)
    at_theta = ((model(ep.x_support) - ep.y_support) ** 2).mean((1, 2))
    torch.testing.assert_close(out["support"][0], at_theta.detach())
    assert set(theta) == set(theta_tilde)


# ------------------------------------------------------------------------------------------------ exercise


def test_cosine_schedule_checker_accepts_the_formula_and_names_the_usual_slips():
    from reptile_edu import i18n
    from reptile_edu.exercises import check_cosine_schedule

    i18n.set_language("en")
    assert check_cosine_schedule(lambda s, n, e, z: z + (e - z) * 0.5 * (1 + math.cos(math.pi * s / n)))
    assert check_cosine_schedule(lambda s, n, e, z: Cosine(e, end=z)(s, n))
    cases = {
        "counts s/(S − 1)": lambda s, n, e, z: z + (e - z) * 0.5 * (1 + math.cos(math.pi * s / (n - 1))),
        "linear schedule": lambda s, n, e, z: e + (z - e) * s / n,
        "factor ½ is missing": lambda s, n, e, z: z + (e - z) * (1 + math.cos(math.pi * s / n)),
        "runs the wrong way": lambda s, n, e, z: e + (z - e) * 0.5 * (1 + math.cos(math.pi * s / n)),
        "falls to 0 whatever": lambda s, n, e, z: e * 0.5 * (1 + math.cos(math.pi * s / n)),
        "off by": lambda s, n, e, z: e,  # the stub
        "raised ZeroDivisionError": lambda s, n, e, z: 1 / 0,
        "Give a number": lambda s, n, e, z: "0.5",
    }
    for expected, fn in cases.items():
        result = check_cosine_schedule(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def test_plot_sweep_rings_the_best_finite_mean_and_marks_diverged_runs():
    import matplotlib

    matplotlib.use("Agg")
    from reptile_edu.plots import plot_sweep

    ax = plot_sweep([0.01, 0.02, 0.05], [[0.5, 0.7], [0.2, 0.3], [0.1, float("inf")]], xlabel="η", ylabel="MSE", cap=10)
    ring, marker = None, None
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) == 1 and collection.get_sizes()[0] == 150:
            ring = offsets[0]
        if len(offsets) == 1 and collection.get_sizes()[0] == 60:
            marker = offsets[0]
    assert ring is not None and tuple(ring) == (0.02, 0.25)  # 0.05 has a diverged seed: never the best
    assert marker is not None and tuple(marker) == (0.05, 10.0)  # its ▲ sits at the cap
    assert ax.get_ylim()[1] == 10
