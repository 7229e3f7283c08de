"""Lessons 03 and 05: checkers accept right answers and name the usual slips; the references are the true
expansion, two real gradient steps and autograd."""

import torch
import torch.nn.functional as F
from torch.func import functional_call

from reptile_edu import MLP, SineFamily, adapt, i18n
from reptile_edu.exercises import (
    _reptile_taylor,
    check_maml_chain_rule,
    check_maml_gradient,
    check_reptile_taylor,
    check_two_steps_quadratic,
    two_sgd_steps,
)


def _right(grads, hvp, eta):
    out = eta * sum(grads)
    for i in range(len(grads)):
        for j in range(i):
            out = out - eta**2 * hvp(i, grads[j])
    return out


def below_pairs(k):
    return [(i, j) for i in range(k) for j in range(i)]


def _variant(pairs, scale):
    def fn(grads, hvp, eta):
        k = len(grads)
        return eta * sum(grads) - scale(eta) * sum(hvp(i, grads[j]) for i, j in pairs(k))

    return fn


def test_taylor_checker_accepts_the_expansion_and_names_the_slips():
    i18n.set_language("en")
    assert check_reptile_taylor(_right)
    below = below_pairs
    cases = {
        "only the first-order part": lambda g, h, eta: eta * sum(g),
        "wrong sign": _variant(below, lambda eta: -(eta**2)),
        "swapped": _variant(lambda k: [(j, i) for i, j in below(k)], lambda eta: eta**2),
        "all pairs i ≠ j": _variant(lambda k: [(i, j) for i in range(k) for j in range(k) if i != j], lambda e: e**2),
        "Leave out j = i": _variant(lambda k: [(i, j) for i in range(k) for j in range(i + 1)], lambda eta: eta**2),
        "order η², not η": _variant(below, lambda eta: eta),
        "not for k = 2": lambda g, h, eta: _right(g, h, eta) if len(g) == 3 else eta * sum(g),
        "raised IndexError": lambda g, h, eta: g[7],
        "shape (3,": lambda g, h, eta: torch.stack(g),
        "off by": lambda g, h, eta: 2 * _right(g, h, eta),
    }
    for expected, fn in cases.items():
        result = check_reptile_taylor(fn)
        assert not result and expected in result.reason, (expected, result.reason)
    stub = check_reptile_taylor(lambda g, h, eta: torch.zeros_like(g[0]))  # the notebook's stub runs and fails
    assert not stub and "off by" in stub.reason


def test_taylor_checker_speaks_turkish_and_chinese():
    try:
        i18n.set_language("tr")
        assert "işareti yanlış" in check_reptile_taylor(_variant(below_pairs, lambda e: -(e**2))).reason
        i18n.set_language("zh")
        assert "一阶" in check_reptile_taylor(lambda g, h, eta: eta * sum(g)).reason
    finally:
        i18n.set_language("en")


def test_reference_expansion_matches_the_real_reptile_update_to_third_order():
    """θ − θ̃ after k SGD steps minus the expansion shrinks 8× when η halves (error O(η³))."""
    torch.manual_seed(1)
    model = MLP((8, 8), "tanh").double()
    k, b = 3, 5
    tasks = SineFamily("reptile").sample(1, k * b, torch.Generator().manual_seed(1))
    x, y = tasks.x.double(), tasks.y.double()
    params = list(model.parameters())

    def grad(i, create_graph=False):
        loss = F.mse_loss(model(x[0, i * b : (i + 1) * b]), y[0, i * b : (i + 1) * b])
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, create_graph=create_graph)])

    def hvp(i, v):
        return torch.cat([h.reshape(-1) for h in torch.autograd.grad(grad(i, True) @ v, params)])

    grads = [grad(i).detach() for i in range(k)]
    theta = torch.cat([p.detach().reshape(-1) for p in params])
    errors = []
    for eta in (4e-3, 2e-3, 1e-3):
        tilde = adapt(model, x, y, k=k, eta=eta, batch_size=b)
        update = theta - torch.cat([tilde[n][0].reshape(-1) for n, _ in model.named_parameters()])
        errors.append(float((update - _reptile_taylor(grads, hvp, eta)).norm()))
    assert 7 < errors[0] / errors[1] < 9 and 7 < errors[1] / errors[2] < 9, errors


def test_maml_checker_accepts_the_chain_rule_with_a_hessian_vector_product():
    """Lesson 03's other route: ∇L^query(θ̃) − η·H_support(θ)·∇L^query(θ̃)."""

    def chain_rule(model, xs, ys, xq, yq, eta):
        theta = dict(model.named_parameters())
        inner = F.mse_loss(functional_call(model, theta, (xs,)), ys)
        g_s = torch.autograd.grad(inner, list(theta.values()), create_graph=True)
        fast = {n: (p - eta * g).detach().requires_grad_(True) for (n, p), g in zip(theta.items(), g_s)}
        g_q = torch.autograd.grad(F.mse_loss(functional_call(model, fast, (xq,)), yq), list(fast.values()))
        hv = torch.autograd.grad(g_s, list(theta.values()), grad_outputs=g_q)
        return {n: gq - eta * h for n, gq, h in zip(theta, g_q, hv)}

    assert check_maml_gradient(chain_rule)
    stub = check_maml_gradient(lambda m, *a: {n: torch.zeros_like(p) for n, p in m.named_parameters()})
    assert not stub and "off by" in stub.reason


def test_two_steps_on_a_quadratic_reference_is_two_real_gradient_steps():
    """``two_sgd_steps`` (the checker's reference) against autograd on the two quadratic losses."""
    from reptile_edu.exercises.taylor import _quadratic_problem

    theta, c1, c2, h1, h2 = _quadratic_problem()
    eta = 0.3
    point = theta.clone().requires_grad_(True)
    for c, h in ((c1, h1), (c2, h2)):
        loss = 0.5 * (point - c) @ h @ (point - c)
        (grad,) = torch.autograd.grad(loss, point)
        point = (point - eta * grad).detach().requires_grad_(True)
    assert torch.allclose(two_sgd_steps(theta, c1, c2, h1, h2, eta), theta - point.detach(), atol=1e-12)


def test_two_steps_checker_accepts_the_exact_expansion_and_names_the_slips():
    i18n.set_language("en")
    assert check_two_steps_quadratic(lambda g1, g2, h1, h2, eta: eta * (g1 + g2) - eta**2 * h2 @ g1)
    first = lambda g1, g2, eta: eta * (g1 + g2)  # noqa: E731
    cases = {
        "first-order part": lambda g1, g2, h1, h2, eta: first(g1, g2, eta),
        "swapped": lambda g1, g2, h1, h2, eta: first(g1, g2, eta) - eta**2 * h1 @ g2,
        "wrong sign": lambda g1, g2, h1, h2, eta: first(g1, g2, eta) + eta**2 * h2 @ g1,
        "η twice": lambda g1, g2, h1, h2, eta: first(g1, g2, eta) - eta * h2 @ g1,
        "average over both orders": lambda g1, g2, h1, h2, eta: first(g1, g2, eta)
        - 0.5 * eta**2 * (h1 @ g2 + h2 @ g1),
        "drop H₁g₂": lambda g1, g2, h1, h2, eta: first(g1, g2, eta) - eta**2 * (h1 @ g2 + h2 @ g1),
        "shape (5, 5)": lambda g1, g2, h1, h2, eta: h1,
        "off by 1": lambda g1, g2, h1, h2, eta: torch.zeros_like(g1),  # the notebook's stub
    }
    for expected, fn in cases.items():
        result = check_two_steps_quadratic(fn)
        assert not result and expected in result.reason, (expected, result.reason)


def _chain_right(g, hvps, eta):
    for hvp in reversed(hvps):  # the last step's Jacobian meets ∇L_q(θ̃) first
        g = g - eta * hvp(g)
    return g


def test_chain_rule_reference_is_the_autograd_meta_gradient():
    """The product of the k Jacobians (I − ηH_i), applied to ∇L_q(θ̃), is the package's second-order gradient."""
    from reptile_edu.exercises.maml import _chain_problem

    for k in (1, 2, 3):
        g_query, hvps, autograd_grad = _chain_problem(k, 0.1)
        assert torch.allclose(_chain_right(g_query, hvps, 0.1), autograd_grad, atol=1e-10)
        assert not torch.allclose(g_query, autograd_grad, atol=1e-4)  # the Hessian terms matter here


def test_maml_chain_rule_checker_accepts_any_k_and_names_the_slips():
    i18n.set_language("en")
    assert check_maml_chain_rule(_chain_right)

    def apply(order, sign=-1.0, scale=None):
        def fn(g, hvps, eta):
            for i in order(len(hvps)):
                g = g + sign * (eta if scale is None else scale) * hvps[i](g)
            return g

        return fn

    backward = lambda k: list(reversed(range(k)))  # noqa: E731
    cases = {
        "FOMAML's direction": lambda g, hvps, eta: g,
        "Only one step's Jacobian": apply(lambda k: [0]),
        "wrong order": apply(lambda k: list(range(k))),
        "added the Hessian terms": lambda g, hvps, eta: g - eta * sum(h(g) for h in hvps),
        "wrong sign": apply(backward, sign=1.0),
        "η is missing": apply(backward, scale=1.0),
        "not for k = 3": lambda g, hvps, eta: _chain_right(g, hvps, eta) if len(hvps) < 3 else g,
        "off by 1": lambda g, hvps, eta: torch.zeros_like(g),
        "raised IndexError": lambda g, hvps, eta: hvps[5](g),
    }
    for expected, fn in cases.items():
        result = check_maml_chain_rule(fn)
        assert not result and expected in result.reason, (expected, result.reason)
    i18n.set_language("zh")
    try:
        assert "雅可比矩阵" in check_maml_chain_rule(lambda g, hvps, eta: g).reason
    finally:
        i18n.set_language("en")
