"""The inner loop (``reptile_edu.inner.InnerLoop``): the hand-derived MLP gradient against autograd,
and how the implementation is chosen."""

import contextlib
import threading

import pytest
import torch
import torch.nn.functional as F

from reptile_edu import MLP, Episodes, SineFamily, adapt, fomaml, reptile, reptile_step
from reptile_edu.inner import InnerLoop, autograd_only, default_implementation
from reptile_edu.models import ACTIVATION_BACKWARD, ACTIVATIONS, ConvNet, expand_params, parameters_of


def _setup(activation, dtype=torch.float64, tasks=4, shots=12, cls=MLP):
    torch.manual_seed(0)
    model = cls((16, 8), activation, in_features=2, out_features=3).to(dtype)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(tasks, shots, 2, generator=g, dtype=dtype)
    y = torch.randn(tasks, shots, 3, generator=g, dtype=dtype)
    return model, x, y


def _start(model, tasks=4):
    """Per-task starting points, so that tasks differ in θ as well as in data."""
    return {n: p + 0.1 * torch.randn_like(p) for n, p in expand_params(parameters_of(model), tasks).items()}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("k", "batch_size"), [(1, None), (3, None), (5, 4)])
def test_hand_derived_steps_equal_autograd_steps_for_every_activation(activation, k, batch_size):
    model, x, y = _setup(activation)
    start = _start(model)
    fast_loop = InnerLoop(k, 0.05, batch_size, implementation="fast")
    slow_loop = InnerLoop(k, 0.05, batch_size, implementation="autograd")
    # every activation the MLP accepts has its derivative written out, so the fast path serves it
    assert activation in ACTIVATION_BACKWARD and fast_loop.hand_derived(model, "mse")
    assert not slow_loop.hand_derived(model, "mse")
    fast = fast_loop.adapt(model, start, x, y, "mse")
    slow = slow_loop.adapt(model, start, x, y, "mse")
    for name in slow:
        torch.testing.assert_close(fast[name], slow[name], rtol=0, atol=1e-12)
        assert fast[name].requires_grad  # as autograd's: FOMAML differentiates at θ̃
    assert not torch.equal(fast["layers.0.weight"], start["layers.0.weight"])  # it did move


class SoftplusMLP(MLP):
    """A subclass that changes the activation after MLP.__init__ (its name still says "tanh")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._act = F.softplus


class DoubledMLP(MLP):
    def batched_forward(self, params, x):
        return super().batched_forward(params, x) * 2


class ScaledForwardMLP(MLP):
    def forward(self, x):
        return super().forward(x) * 3


@pytest.mark.parametrize("cls", [SoftplusMLP, DoubledMLP, ScaledForwardMLP])
def test_a_subclass_that_changes_the_forward_pass_falls_back_to_autograd(cls, monkeypatch):
    model, x, y = _setup("tanh", cls=cls)
    assert not model.has_hand_derived_sgd()
    fast_loop = InnerLoop(3, 0.05, implementation="fast")
    assert not fast_loop.hand_derived(model, "mse")
    monkeypatch.setattr(MLP, "sgd_steps", lambda *a, **kw: pytest.fail("the hand-derived step must not run"))
    start = _start(model)
    fast = fast_loop.adapt(model, start, x, y, "mse")
    slow = InnerLoop(3, 0.05, implementation="autograd").adapt(model, start, x, y, "mse")
    for name in slow:
        torch.testing.assert_close(fast[name], slow[name], rtol=0, atol=0)


def test_an_activation_renamed_to_one_without_a_derivative_falls_back():
    model, _, _ = _setup("relu")
    model.activation, model._act = "gelu", F.gelu
    assert not model.has_hand_derived_sgd()
    model.activation = "tanh"  # the name says tanh, but σ is still gelu
    assert not model.has_hand_derived_sgd()


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
    sgd = InnerLoop(1, 0.1, implementation="fast")
    assert sgd.hand_derived(model, "mse")
    assert not sgd.hand_derived(model, "ce")
    assert not sgd.hand_derived(model, "mse", create_graph=True)  # second-order MAML
    assert not InnerLoop(1, 0.1, optimizer="adam", implementation="fast").hand_derived(model, "mse")
    assert not sgd.hand_derived(ConvNet(ways=5), "ce")
    assert not sgd.hand_derived(DoubledMLP(), "mse")


def test_autograd_only_is_explicit_and_stays_in_its_thread():
    assert default_implementation() == "fast" and InnerLoop(1, 0.1).implementation == "fast"
    seen = {}
    with autograd_only():
        assert InnerLoop(1, 0.1).implementation == "autograd"
        assert InnerLoop(1, 0.1, implementation="fast").implementation == "fast"  # an argument wins
        worker = threading.Thread(target=lambda: seen.update(impl=InnerLoop(1, 0.1).implementation))
        worker.start()
        worker.join()
    assert seen["impl"] == "fast"  # a playground's training thread is not switched by another cell's block
    assert InnerLoop(1, 0.1).implementation == "fast"
    with pytest.raises(ValueError, match="implementation must be one of 'fast', 'autograd'"):
        InnerLoop(1, 0.1, implementation="hand")


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
