"""The inner loop's hand-derived MLP gradient (``reptile_edu.mlp_sgd``) against autograd."""

import contextlib

import pytest
import torch

from reptile_edu import MLP, Episodes, SineFamily, adapt, fomaml, reptile, reptile_step
from reptile_edu.algorithms import _inner_sgd
from reptile_edu.mlp_sgd import applies, autograd_only
from reptile_edu.models import ConvNet, expand_params, parameters_of


def _setup(activation, dtype=torch.float64, tasks=4, shots=12):
    torch.manual_seed(0)
    model = MLP((16, 8), activation, in_features=2, out_features=3).to(dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(tasks, shots, 2, generator=g, dtype=dtype)
    y = torch.randn(tasks, shots, 3, generator=g, dtype=dtype)
    return model, x, y


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize(("k", "batch_size"), [(1, None), (3, None), (5, 4)])
def test_hand_derived_steps_equal_autograd_steps(activation, k, batch_size):
    model, x, y = _setup(activation)
    # per-task starting points, so that tasks differ in θ as well as in data
    start = {n: p + 0.1 * torch.randn_like(p) for n, p in expand_params(parameters_of(model), 4).items()}
    assert applies(model, "mse", create_graph=False, plain_sgd=True)
    fast, fast_loss = _inner_sgd(model, start, x, y, k, 0.05, "mse", batch_size, False)
    with autograd_only():
        assert not applies(model, "mse", create_graph=False, plain_sgd=True)
        slow, slow_loss = _inner_sgd(model, start, x, y, k, 0.05, "mse", batch_size, False)
    for name in slow:
        torch.testing.assert_close(fast[name], slow[name], rtol=0, atol=1e-12)
        assert fast[name].requires_grad  # as autograd's: FOMAML differentiates at θ̃
    torch.testing.assert_close(fast_loss, slow_loss, rtol=0, atol=1e-12)
    assert not torch.equal(fast["layers.0.weight"], start["layers.0.weight"])  # it did move


def _either(use_fast):
    return contextlib.nullcontext() if use_fast else autograd_only()


def test_reptile_step_and_a_fomaml_run_are_the_same_with_either_gradient():
    ep = SineFamily("reptile", shots=50).episodes(5, torch.Generator().manual_seed(3))
    ep = Episodes(*(t.double() for t in (ep.x_support, ep.y_support, ep.x_query, ep.y_query)))
    steps = []
    for use_fast in (True, False):
        torch.manual_seed(0)
        model = MLP.preset("reptile").double()
        with _either(use_fast):
            steps.append(reptile_step(model, ep, k=5, eta=0.02, epsilon=0.5, batch_size=10))
    for name in steps[0][0]:
        torch.testing.assert_close(steps[0][0][name], steps[1][0][name], rtol=0, atol=1e-12)
    torch.testing.assert_close(steps[0][1], steps[1][1], rtol=0, atol=1e-12)

    runs = []
    for use_fast in (True, False):
        torch.manual_seed(0)
        model = MLP.preset("maml")
        with _either(use_fast):
            h = fomaml(model, SineFamily("maml"), steps=5, k=2, eta=0.01, meta_lr=0.01, meta_batch=3,
                       generator=torch.Generator().manual_seed(0), progress=False)  # fmt: skip
        runs.append((h.loss, [p.detach().clone() for p in model.parameters()]))
    assert runs[0][0] == pytest.approx(runs[1][0], rel=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_the_fast_path_is_used_only_where_it_computes_the_same_thing():
    model = MLP()
    assert applies(model, "mse", create_graph=False, plain_sgd=True)
    assert not applies(model, "ce", create_graph=False, plain_sgd=True)
    assert not applies(model, "mse", create_graph=True, plain_sgd=True)  # second-order MAML
    assert not applies(model, "mse", create_graph=False, plain_sgd=False)  # Adam
    assert not applies(ConvNet(ways=5), "ce", create_graph=False, plain_sgd=True)

    class Custom(MLP):
        def batched_forward(self, params, x):
            return super().batched_forward(params, x) * 2

    assert not applies(Custom(), "mse", create_graph=False, plain_sgd=True)


def test_adapt_after_a_divergent_eta_gives_non_finite_values_not_an_exception():
    model, x, y = _setup("tanh", dtype=torch.float32)
    theta_tilde = adapt(model, x * 100, y * 100, k=20, eta=50.0)
    assert not all(torch.isfinite(p).all() for p in theta_tilde.values())


def test_reptile_run_reports_divergence_with_the_fast_path():
    from reptile_edu import DivergenceError

    model = MLP.preset("reptile")
    with pytest.raises(DivergenceError, match="diverged at outer step"):
        reptile(
            model,
            SineFamily("reptile"),
            steps=50,
            k=5,
            eta=5.0,
            epsilon=1.0,
            meta_batch=2,
            generator=torch.Generator().manual_seed(0),
            progress=False,
        )
    assert all(torch.isfinite(p).all() for p in model.parameters())
