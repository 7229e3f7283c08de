"""Each checker accepts the right answer and names the usual mistakes."""

import math
import re

import torch
from torch.func import functional_call

from reptile_edu import MLP, SineFamily, i18n
from reptile_edu.exercises import (
    MESSAGES,
    check_average_sine,
    check_episodes_needed,
    check_eta,
    check_k1_learning_rate,
    check_maml_gradient,
    check_reptile_update,
    check_sine_values,
    episodes_needed,
)


def test_reptile_update_right_and_diagnosed_mistakes():
    i18n.set_language("en")
    assert check_reptile_update(lambda th, tt, e: th + e * (tt - th).mean(0))
    cases = {
        "wrong way": lambda th, tt, e: th - e * (tt - th).mean(0),
        "Only the first task": lambda th, tt, e: th + e * (tt[0] - th),
        "summed over the tasks": lambda th, tt, e: th + e * (tt - th).sum(0),
        "scale the step by ε": lambda th, tt, e: tt.mean(0),
        "raised ZeroDivisionError": lambda th, tt, e: 1 / 0,
        "shape (5, 6)": lambda th, tt, e: tt,
        "off by": lambda th, tt, e: th + 2 * e * (tt - th).mean(0),
    }
    for expected, fn in cases.items():
        result = check_reptile_update(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def test_checker_speaks_the_notebook_language():
    i18n.set_language("tr")
    try:
        assert check_reptile_update(lambda th, tt, e: th).reason.startswith("Henüz değil")
    finally:
        i18n.set_language("en")


def test_k1_learning_rate_and_average_sine():
    assert check_k1_learning_rate(0.006, eta=0.02, epsilon=0.3)
    assert not check_k1_learning_rate(0.02, eta=0.02, epsilon=0.3)
    assert not check_k1_learning_rate("0.006", eta=0.02, epsilon=0.3)
    # MAML preset: E[A] = 2.55, E[sin(x − φ)] over φ ∈ [0, π] = −2 cos(x) / π
    assert check_average_sine(-2.55 * 2 * math.cos(1.0) / math.pi, preset="maml", x=1.0)
    assert not check_average_sine(0.0, preset="maml", x=1.0)
    assert check_average_sine(0.0, preset="reptile", x=1.0)  # phase over a full period: mean 0
    # …and the formula matches a Monte-Carlo estimate from the package's own sampler.
    tasks = SineFamily("maml").sample(200_000, 1, torch.Generator().manual_seed(0))
    mc = float(tasks.fn(torch.tensor([1.0])).mean())
    assert check_average_sine(mc, preset="maml", x=1.0).ok or abs(mc + 2.55 * 2 * math.cos(1.0) / math.pi) < 0.02


def _maml_k1(model, xs, ys, xq, yq, eta, create_graph=True):
    theta = dict(model.named_parameters())
    inner = torch.nn.functional.mse_loss(functional_call(model, theta, (xs,)), ys)
    grads = torch.autograd.grad(inner, list(theta.values()), create_graph=create_graph)
    fast = {n: p - eta * g for (n, p), g in zip(theta.items(), grads)}
    query = torch.nn.functional.mse_loss(functional_call(model, fast, (xq,)), yq)
    wrt = theta if create_graph else fast
    return dict(zip(theta, torch.autograd.grad(query, list(wrt.values()))))


def test_maml_gradient_checker():
    assert check_maml_gradient(_maml_k1)
    fo = check_maml_gradient(lambda *a: _maml_k1(*a, create_graph=False))
    assert not fo and "create_graph=True" in fo.reason


def test_eta_checker():
    torch.manual_seed(0)
    model = MLP.preset("maml")
    ep = SineFamily("maml", shots=10, queries=50).episodes(20, torch.Generator().manual_seed(0))
    slow = check_eta(1e-6, model, ep, k=5, target=0.5)
    assert not slow and "too small" in slow.reason
    assert "too large" in check_eta(100.0, model, ep, k=5, target=0.5).reason
    assert "Give a number" in check_eta(-1, model, ep, k=5, target=0.5).reason


def test_average_sine_rejects_non_numbers():
    for bad in (None, "0", float("nan")):
        assert "Give a number" in check_average_sine(bad, preset="reptile", x=1.0).reason
        assert "Give a number" in check_average_sine(bad, preset="maml", x=1.0).reason


def test_sine_values_by_broadcasting():
    i18n.set_language("en")
    right = lambda a, f, x: a.view(-1, 1, 1) * torch.sin(x - f.view(-1, 1, 1))  # noqa: E731
    assert check_sine_values(right)
    assert check_sine_values(lambda a, f, x: a[:, None, None] * torch.sin(x - f[:, None, None]))
    cases = {
        "two trailing dimensions": lambda a, f, x: a * torch.sin(x - f),
        "shifted the wrong way": lambda a, f, x: a.view(-1, 1, 1) * torch.sin(x + f.view(-1, 1, 1)),
        "amplitude 1": lambda a, f, x: torch.sin(x - f.view(-1, 1, 1)),
        "first task's A and φ": lambda a, f, x: a[0] * torch.sin(x - f[0]),
        "Expected a tensor": lambda a, f, x: [0.0],
        "off by": lambda a, f, x: 2 * right(a, f, x),
    }
    for expected, fn in cases.items():
        result = check_sine_values(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def test_episodes_needed_inverts_the_interval():
    i18n.set_language("en")
    s, h = 0.3, 0.01  # (1.96 · 0.3 / 0.01)² = 3457.4…
    assert episodes_needed(s, h) == 3458
    assert 1.96 * s / 3458**0.5 <= h < 1.96 * s / 3457**0.5
    assert check_episodes_needed(3458, std=s, half_width=h)
    assert check_episodes_needed(3458.0, std=s, half_width=h)
    cases = {
        3457: "more episodes are needed",
        59: "with the square",
        900: "one standard error",
        5000: "fewer episodes suffice",
        None: "whole number",
        12.5: "whole number",
    }
    for answer, expected in cases.items():
        result = check_episodes_needed(answer, std=s, half_width=h)
        assert not result and expected in result.reason, (answer, result.reason)


def test_every_checker_message_has_three_languages():
    for key, texts in MESSAGES.items():
        assert len(texts) == 3 and all(t.strip() for t in texts), key
        assert re.search(r"[\u4e00-\u9fff]", texts[2]), f"{key}: the Chinese text looks untranslated"
        assert texts[1] != texts[0], f"{key}: the Turkish text is the English one"
