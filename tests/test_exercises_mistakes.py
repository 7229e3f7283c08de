"""The common-mistake checkers: each accepts the repaired loop and names the mistake the buggy one makes."""

import copy
import functools

import torch
import torch.nn.functional as F

from reptile_edu import i18n
from reptile_edu.exercises import check_not_fine_tuning, check_reptile_step_in_place, check_within_task_alignment


def _inner_sgd(model, x, y, k, eta):
    opt = torch.optim.SGD(model.parameters(), lr=eta)
    for _ in range(k):
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


def aliased(model, x, y, k, eta, epsilon):
    """Bug 1 as lesson 04 shows it: state_dict() hands out the live tensors."""
    theta = model.state_dict()
    _inner_sgd(model, x, y, k, eta)
    theta_tilde = model.state_dict()
    model.load_state_dict({n: theta[n] + epsilon * (theta_tilde[n] - theta[n]) for n in theta})


def aliased_fixed(model, x, y, k, eta, epsilon):
    theta = copy.deepcopy(model.state_dict())
    _inner_sgd(model, x, y, k, eta)
    theta_tilde = model.state_dict()
    model.load_state_dict({n: theta[n] + epsilon * (theta_tilde[n] - theta[n]) for n in theta})


def overshoot(model, x, y, k, eta, epsilon):
    """Bug 2: the interpolation starts from the moved weights."""
    theta = [p.detach().clone() for p in model.parameters()]
    _inner_sgd(model, x, y, k, eta)
    with torch.no_grad():
        for p, p0 in zip(model.parameters(), theta):
            p += epsilon * (p - p0)


def overshoot_fixed(model, x, y, k, eta, epsilon):
    theta = [p.detach().clone() for p in model.parameters()]
    _inner_sgd(model, x, y, k, eta)
    with torch.no_grad():
        for p, p0 in zip(model.parameters(), theta):
            p.copy_(p0 + epsilon * (p - p0))


def restored_only(model, x, y, k, eta, epsilon):
    theta = copy.deepcopy(model.state_dict())
    _inner_sgd(model, x, y, k, eta)
    model.load_state_dict(theta)


def test_outer_step_in_place_accepts_both_repairs_and_names_both_bugs():
    assert check_reptile_step_in_place(aliased_fixed)
    assert check_reptile_step_in_place(overshoot_fixed)
    cases = {
        "live tensors, not copies": aliased,
        "went past θ̃": overshoot,
        "back at θ": restored_only,
        "wrong way": lambda m, x, y, k, eta, e: overshoot_fixed(m, x, y, k, eta, -e),
        "raised RuntimeError": lambda m, x, y, k, eta, e: (_ for _ in ()).throw(RuntimeError("boom")),
        "off by": lambda m, x, y, k, eta, e: overshoot_fixed(m, x, y, k, eta, 2 * e),
    }
    for expected, fn in cases.items():
        result = check_reptile_step_in_place(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def sequential(toy, theta, stream, k, eta, epsilon=1.0):
    """Bug 3: one task per outer step with ε = 1."""
    for t in stream:
        theta = theta + epsilon * (toy.adapt(theta, k, eta)[t] - theta)
    return theta


def annealed(toy, theta, stream, k, eta):
    for s, t in enumerate(stream):
        theta = theta + (1 - s / len(stream)) * (toy.adapt(theta, k, eta)[t] - theta)
    return theta


def meta_batches(toy, theta, stream, k, eta, n=5):
    for i in range(0, len(stream), n):
        theta = theta + (toy.adapt(theta, k, eta)[stream[i : i + n]] - theta).mean(0)
    return theta


def test_fine_tuning_is_told_apart_from_meta_learning():
    bug = check_not_fine_tuning(sequential)
    assert not bug and "fine-tuning on one task after another" in bug.reason and "100%" in bug.reason
    half = check_not_fine_tuning(functools.partial(sequential, epsilon=0.5))
    assert not half and "Better, but" in half.reason and "50%" in half.reason
    for fix in (functools.partial(sequential, epsilon=0.1), annealed, meta_batches):
        assert check_not_fine_tuning(fix), fix
    assert "did not move" in check_not_fine_tuning(lambda toy, theta, stream, k, eta: theta).reason
    assert "shape" in check_not_fine_tuning(lambda toy, theta, stream, k, eta: theta.repeat(2)).reason


def between_tasks(grads):
    """Bug 4: minibatch 0 of one task against minibatch 0 of another."""
    T = grads.shape[0]
    pairs = [(s, t) for s in range(T) for t in range(T) if s != t]
    return sum(grads[s, 0] @ grads[t, 0] for s, t in pairs) / len(pairs)


def within_task(grads):
    T, m, _ = grads.shape
    pairs = [(t, i, j) for t in range(T) for i in range(m) for j in range(m) if i != j]
    return sum(grads[t, i] @ grads[t, j] for t, i, j in pairs) / len(pairs)


def test_alignment_between_minibatches_of_one_task_not_between_tasks():
    assert check_within_task_alignment(within_task)
    assert check_within_task_alignment(lambda g: float(within_task(g)))  # a float is as good as a 0-d tensor
    cases = {
        "different tasks": between_tasks,
        "pairs i = j are in": lambda g: (g @ g.transpose(1, 2)).mean(),
        "cosine": lambda g: torch.stack(
            [F.cosine_similarity(g[t, i], g[t, j], dim=0) for t in range(len(g)) for i, j in ((0, 1), (0, 2), (1, 2))]
        ).mean(),
        "Only minibatches 0 and 1": lambda g: (g[:, 0] * g[:, 1]).sum(-1).mean(),
        "sum over the pairs": lambda g: within_task(g) * g.shape[0] * 6,
        "Give a number": lambda g: "big",
        "off by": lambda g: 2 * within_task(g),
    }
    for expected, fn in cases.items():
        result = check_within_task_alignment(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def test_mistakes_are_named_in_turkish_and_chinese():
    try:
        i18n.set_language("tr")
        assert "canlı tensörlerin" in check_reptile_step_in_place(aliased).reason
        assert "ince ayar" in check_not_fine_tuning(sequential).reason
        i18n.set_language("zh")
        assert "越过了 θ̃" in check_reptile_step_in_place(overshoot).reason
        assert "不同任务" in check_within_task_alignment(between_tasks).reason
    finally:
        i18n.set_language("en")
