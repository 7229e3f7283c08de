"""Numerical checks of the algorithms: hand-set values, finite differences, the one-task reference."""

import copy

import pytest
import torch
from torch.func import functional_call, vmap

from reptile_edu import (
    MLP,
    SineFamily,
    adapt,
    batched_call,
    expand_params,
    joint,
    joint_loss,
    maml_meta_gradient,
    parameters_of,
    reptile,
    reptile_outer_step,
    reptile_step,
    seed_everything,
    task_losses,
)
from reptile_edu.one_task import maml_gradient_one, reptile_step_one, sgd_adapt_one


def small_model(seed=0, dtype=torch.float64, activation="tanh"):
    torch.manual_seed(seed)
    return MLP((8, 8), activation).to(dtype)


def episodes(num_tasks=4, shots=10, queries=7, seed=0, dtype=torch.float64):
    fam = SineFamily("maml", shots=shots, queries=queries)
    ep = fam.episodes(num_tasks, torch.Generator().manual_seed(seed))
    ep.x_support, ep.y_support = ep.x_support.to(dtype), ep.y_support.to(dtype)
    ep.x_query, ep.y_query = ep.x_query.to(dtype), ep.y_query.to(dtype)
    return ep


def test_reptile_outer_step_on_hand_set_tensors():
    theta = {"w": torch.tensor([1.0, 2.0])}
    theta_tilde = {"w": torch.tensor([[3.0, 2.0], [1.0, 6.0]])}
    # mean(θ̃ − θ) = [(2 + 0)/2, (0 + 4)/2] = [1, 2]; θ + 0.5·[1, 2] = [1.5, 3]
    new = reptile_outer_step(theta, theta_tilde, 0.5)
    assert torch.equal(new["w"], torch.tensor([1.5, 3.0]))


def test_batched_forward_equals_vmap_functional_call():
    model = small_model(activation="relu")
    ep = episodes()
    params = {
        n: p.detach() + 0.1 * torch.randn(ep.num_tasks, *p.shape, dtype=p.dtype) for n, p in model.named_parameters()
    }
    fast = batched_call(model, params, ep.x_support)
    slow = vmap(lambda p, x: functional_call(model, p, (x,)))(params, ep.x_support)
    torch.testing.assert_close(fast, slow)


def test_k1_batched_reptile_is_one_sgd_step_on_the_joint_loss(fixed_source):
    eta, epsilon = 0.1, 0.3
    model, ep = small_model(), episodes(num_tasks=5)
    new, _ = reptile_step(model, ep, k=1, eta=eta, epsilon=epsilon)
    # By hand: θ − εη ∇_θ mean_t L_t(θ)
    grads = torch.autograd.grad(joint_loss(model, ep), list(model.parameters()))
    for (name, p), g in zip(model.named_parameters(), grads):
        torch.testing.assert_close(new[name], p.detach() - epsilon * eta * g, rtol=1e-12, atol=1e-12)
    # And through the public training loops: Reptile (k=1) vs joint training with SGD at lr = ε·η.
    a, b = copy.deepcopy(model), copy.deepcopy(model)
    reptile(a, fixed_source(ep), steps=3, k=1, eta=eta, epsilon=epsilon, meta_batch=5, progress=False)
    joint(b, fixed_source(ep), steps=3, lr=epsilon * eta, optimizer="sgd", meta_batch=5, progress=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-12, atol=1e-12)


def _query_loss_after_adaptation(model, ep, k, eta, flat, shapes):
    params, i = {}, 0
    for name, shape in shapes.items():
        size = shape.numel()
        params[name] = flat[i : i + size].view(shape)
        i += size
    theta_tilde = adapt(model, ep.x_support, ep.y_support, k=k, eta=eta, params=params)
    return task_losses(batched_call(model, theta_tilde, ep.x_query), ep.y_query, "mse").mean()


@pytest.mark.parametrize("k", [1, 3])
def test_maml_meta_gradient_matches_finite_differences(k):
    eta, h = 0.05, 1e-6
    model, ep = small_model(), episodes(num_tasks=3)
    grads, _ = maml_meta_gradient(model, ep, k=k, eta=eta)
    shapes = {n: p.shape for n, p in model.named_parameters()}
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    fd = torch.empty_like(flat)
    for i in range(len(flat)):
        e = torch.zeros_like(flat)
        e[i] = h
        plus = _query_loss_after_adaptation(model, ep, k, eta, flat + e, shapes)
        minus = _query_loss_after_adaptation(model, ep, k, eta, flat - e, shapes)
        fd[i] = (plus - minus) / (2 * h)
    analytic = torch.cat([grads[n].flatten() for n in shapes])
    torch.testing.assert_close(analytic, fd, rtol=1e-5, atol=1e-7)
    # The second-order terms matter: first-order MAML gives a clearly different vector for k ≥ 1.
    fo, _ = maml_meta_gradient(model, ep, k=k, eta=eta, first_order=True)
    assert not torch.allclose(torch.cat([fo[n].flatten() for n in shapes]), analytic, rtol=1e-3)


def test_first_order_maml_is_the_query_gradient_at_theta_tilde():
    k, eta = 3, 0.05
    model, ep = small_model(), episodes(num_tasks=1)
    fo, _ = maml_meta_gradient(model, ep, k=k, eta=eta, first_order=True)
    adapted = sgd_adapt_one(model, ep.x_support[0], ep.y_support[0], k=k, eta=eta)
    loss = torch.nn.functional.mse_loss(adapted(ep.x_query[0]), ep.y_query[0])
    expected = torch.autograd.grad(loss, list(adapted.parameters()))
    for (name, _), g in zip(model.named_parameters(), expected):
        torch.testing.assert_close(fo[name], g, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("first_order", [False, True])
def test_batched_maml_equals_loop_over_one_task_version(first_order):
    k, eta = 2, 0.05
    model, ep = small_model(), episodes(num_tasks=4)
    batched, _ = maml_meta_gradient(model, ep, k=k, eta=eta, first_order=first_order)
    per_task = [
        maml_gradient_one(
            model, ep.x_support[t], ep.y_support[t], ep.x_query[t], ep.y_query[t], k=k, eta=eta, first_order=first_order
        )
        for t in range(ep.num_tasks)
    ]
    for name in batched:
        torch.testing.assert_close(batched[name], torch.stack([g[name] for g in per_task]).mean(0))


def test_batched_reptile_equals_loop_over_one_task_version():
    k, eta, epsilon = 4, 0.05, 0.7
    model, ep = small_model(), episodes(num_tasks=6)
    new, _ = reptile_step(model, ep, k=k, eta=eta, epsilon=epsilon)
    reference = copy.deepcopy(model)
    tasks = [(ep.x_support[t], ep.y_support[t]) for t in range(ep.num_tasks)]
    reptile_step_one(reference, tasks, k=k, eta=eta, epsilon=epsilon)
    for name, p in reference.named_parameters():
        torch.testing.assert_close(new[name], p.detach())


def test_batched_adapt_equals_one_task_sgd_with_minibatches():
    model, ep = small_model(), episodes(num_tasks=3, shots=10)
    theta_tilde = adapt(model, ep.x_support, ep.y_support, k=4, eta=0.1, batch_size=5)
    for t in range(ep.num_tasks):
        ref = copy.deepcopy(model)
        opt = torch.optim.SGD(ref.parameters(), lr=0.1)
        for i in range(4):
            sl = slice((i * 5) % 10, (i * 5) % 10 + 5)
            opt.zero_grad()
            torch.nn.functional.mse_loss(ref(ep.x_support[t, sl]), ep.y_support[t, sl]).backward()
            opt.step()
        for name, p in ref.named_parameters():
            torch.testing.assert_close(theta_tilde[name][t], p.detach())


def test_adapt_accepts_per_task_start_and_leaves_model_alone():
    model, ep = small_model(), episodes(num_tasks=2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    start = expand_params({n: p.detach() for n, p in parameters_of(model).items()}, 2)
    a = adapt(model, ep.x_support, ep.y_support, k=2, eta=0.1, params=start)
    b = adapt(model, ep.x_support, ep.y_support, k=2, eta=0.1)
    for n in a:
        torch.testing.assert_close(a[n], b[n])
        assert torch.equal(before[n], dict(model.named_parameters())[n].detach())


def test_same_seed_gives_identical_numbers_on_cpu():
    def run():
        g = seed_everything(7)
        model = MLP.preset("reptile")
        h = reptile(
            model,
            SineFamily("reptile"),
            steps=20,
            k=3,
            eta=0.02,
            epsilon=0.5,
            meta_batch=4,
            generator=g,
            progress=False,
        )
        return h.loss, torch.cat([p.detach().flatten() for p in model.parameters()])

    (loss_a, theta_a), (loss_b, theta_b) = run(), run()
    assert loss_a == loss_b
    assert torch.equal(theta_a, theta_b)


def test_annealed_epsilon_falls_linearly_to_epsilon_over_steps_on_the_last_step(fixed_source):
    """anneal=True: ε_s = ε·(1 − s/steps) at s = 0 … steps − 1, from ε on the first step to ε/steps on the last."""
    model, ep = small_model(), episodes(num_tasks=2)
    steps, epsilon = 4, 0.5
    annealed, seen = copy.deepcopy(model), []
    reptile(
        annealed, fixed_source(ep), steps=steps, k=2, eta=0.1, epsilon=epsilon, meta_batch=2, anneal=True,
        progress=False, callback=lambda s, _loss: seen.append([p.detach().clone() for p in annealed.parameters()]),
    )  # fmt: skip
    schedule = [0.5, 0.375, 0.25, 0.125]  # ε, 3ε/4, ε/2, ε/4
    assert schedule[-1] == epsilon / steps
    by_hand = copy.deepcopy(model)
    for s, eps_s in enumerate(schedule):
        new, _ = reptile_step(by_hand, ep, k=2, eta=0.1, epsilon=eps_s)
        with torch.no_grad():
            for name, p in by_hand.named_parameters():
                p.copy_(new[name])
        for got, want in zip(seen[s], by_hand.parameters()):
            torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    assert not torch.equal(seen[-1][0], seen[-2][0])  # the last step still moves θ: ε/steps, not 0


def test_history_records_each_outer_step_and_callback_can_stop():
    seen = []
    model = MLP.preset("maml")
    h = reptile(
        model,
        SineFamily("maml"),
        steps=10,
        k=1,
        eta=0.01,
        epsilon=0.1,
        progress=False,
        callback=lambda step, loss: seen.append(step) or step < 4,
    )
    assert h.step == [1, 2, 3, 4] and seen == [1, 2, 3, 4]
    assert h.stopped == "callback"
    assert len(h.loss) == len(h.time) == 4 and all(t2 >= t1 for t1, t2 in zip(h.time, h.time[1:]))
