"""The inner loop: k steps of θ̃ ← θ̃ − η·∇L_t(θ̃) on every task of a meta-batch at once.

One setting object, ``InnerLoop``, holds everything that defines the inner loop: the number of
steps k, the learning rate η, the minibatch size, the optimizer (SGD, or Adam with β1 = 0 as in
the Reptile paper) and the implementation of the gradient:

* ``"fast"`` (the default): the hand-derived gradient of ``MLP.sgd_steps`` wherever it computes
  exactly this inner loop (an ``MLP`` whose forward pass it knows, the MSE, plain SGD, no graph
  through the steps); autograd everywhere else, for any other model, loss or optimizer.
* ``"autograd"``: autograd always (e.g. to compare methods on the same footing).

The implementation is chosen explicitly: by the ``implementation`` argument, or, for every
``InnerLoop`` made without one, by the context variable set with ``autograd_only()``. A context
variable belongs to the thread (and asyncio task) that sets it, so one lesson cell's choice
never leaks into a widget training in another thread.

Per-task gradients come from one ``autograd.grad`` of the *sum* of per-task losses: task t's
loss depends only on its own θ̃_t. ``adapt`` is the public entry point.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch
from torch import nn

from ._checks import check_choice, check_divides, check_int, check_positive
from .losses import task_losses
from .models import Params, batched_call, check_model, expand_params, parameters_of

#: Inner-loop optimisers: plain SGD (MAML's) or Adam with β1 = 0 (the Reptile paper's, for classification).
INNER_OPTIMIZERS = ("sgd", "adam")
#: How the inner loop gets ∇L_t: the hand-derived gradient where it applies, or autograd always.
IMPLEMENTATIONS = ("fast", "autograd")
#: Which minibatch each inner step uses: the next one (the paper's) or the first one every time.
MINIBATCHES = ("separate", "same")
ADAM_BETAS = (0.0, 0.999)
ADAM_EPS = 1e-8

_implementation: ContextVar[str] = ContextVar("reptile_edu_inner_implementation", default="fast")


def default_implementation() -> str:
    """The implementation an ``InnerLoop`` gets when none is given: ``"fast"``, or ``"autograd"`` inside
    ``autograd_only()``."""
    return _implementation.get()


@contextlib.contextmanager
def autograd_only() -> Iterator[None]:
    """Inside this block every inner loop uses autograd, the MLP's included (for comparisons).

    It sets a context variable: it holds in this thread (or asyncio task) only.
    """
    token = _implementation.set("autograd")
    try:
        yield
    finally:
        _implementation.reset(token)


class BatchedAdam:
    """Adam's state for every task at once: moments m, v shaped like the ``[T, ...]`` parameters.

    The step is θ̃ ← θ̃ − η·m̂/(√v̂ + 1e-8) with m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ); each task has its
    own moments (a fresh state per task, as adaptation starts). β1 = 0, as in the Reptile paper,
    makes m̂ the current gradient. Differentiable when the gradients carry a graph (MAML).
    """

    def __init__(self, betas: tuple[float, float] = ADAM_BETAS, eps: float = ADAM_EPS) -> None:
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m: list[torch.Tensor] | None = None
        self.v: list[torch.Tensor] | None = None

    def direction(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        """The update direction m̂/(√v̂ + ε) for these gradients (and advance the state)."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        if self.m is None or self.v is None:
            self.m = [(1 - b1) * g for g in grads]
            self.v = [(1 - b2) * g * g for g in grads]
        else:
            self.m = [b1 * m + (1 - b1) * g for m, g in zip(self.m, grads)]
            self.v = [b2 * v + (1 - b2) * g * g for v, g in zip(self.v, grads)]
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        # clamp_min keeps √ differentiable where v = 0 (its value changes by < 1e-15, far below ε).
        return [(m / c1) / ((v / c2).clamp_min(1e-30).sqrt() + self.eps) for m, v in zip(self.m, self.v)]


@dataclass(frozen=True)
class InnerLoop:
    """One inner-loop setting: k steps of θ̃ ← θ̃ − η·∇L_t(θ̃) (or Adam's step) on each task's support set.

    ``k`` steps, learning rate ``eta`` (η); ``batch_size`` makes the steps use minibatches of that many
    support points instead of all of them, and ``minibatches`` says which: ``"separate"`` (step i uses the
    i-th minibatch, cyclically: the paper's inner loop) or ``"same"`` (every step uses the first one).
    Without ``batch_size`` every step uses all the points: one full batch, the same at every step.
    ``optimizer`` is ``"sgd"`` or ``"adam"`` (β1 = 0, learning rate η); ``implementation`` is ``"fast"`` or
    ``"autograd"`` (see the module docstring; by default the context's, ``"fast"`` unless inside
    ``autograd_only()``).
    """

    k: int
    eta: float
    batch_size: int | None = None
    optimizer: str = "sgd"
    implementation: str = field(default_factory=default_implementation)
    minibatches: str = "separate"

    def __post_init__(self) -> None:
        object.__setattr__(self, "k", check_int("k (inner steps)", self.k))
        object.__setattr__(self, "eta", check_positive("η (eta)", self.eta))
        check_choice("inner_optimizer", self.optimizer, INNER_OPTIMIZERS)
        check_choice("implementation", self.implementation, IMPLEMENTATIONS)
        check_choice("minibatches", self.minibatches, MINIBATCHES)

    def slices(self, shots: int) -> list[slice]:
        """Which of the ``shots`` support points each of the k steps uses: all of them, the next minibatch
        (``"separate"``) or the first minibatch every time (``"same"``)."""
        if self.batch_size is None:
            return [slice(None)] * self.k
        b = check_int("batch_size", self.batch_size, low=1, high=shots)
        check_divides("batch_size", b, shots, of="support")
        if self.minibatches == "same":
            return [slice(0, b)] * self.k
        return [slice((i * b) % shots, (i * b) % shots + b) for i in range(self.k)]

    def hand_derived(self, model: nn.Module, loss: str, create_graph: bool = False) -> bool:
        """Whether these steps go through the model's hand-derived ``sgd_steps``: asked for (``"fast"``), plain
        SGD, the MSE, no graph through the steps (MAML's second order needs autograd), and a model that says
        it knows its own gradient (``MLP.has_hand_derived_sgd()``)."""
        knows = getattr(model, "has_hand_derived_sgd", None)
        return (
            self.implementation == "fast"
            and self.optimizer == "sgd"
            and loss == "mse"
            and not create_graph
            and knows is not None
            and bool(knows())
        )

    def adapt(
        self,
        model: nn.Module,
        params: Params,
        x: torch.Tensor,
        y: torch.Tensor,
        loss: str,
        *,
        create_graph: bool = False,
    ) -> Params:
        """θ̃_t for every task: k steps from ``params`` (``[T, ...]``) on the points ``x``, ``y`` (``[T, N, ...]``).

        With ``create_graph=True`` the result is a differentiable function of ``params`` (second-order
        MAML); otherwise it is a fresh leaf tensor per parameter (requiring grad, for FOMAML's ∇ at θ̃).
        """
        return self._steps(model, params, x, y, loss, self.slices(x.shape[1]), self._new_state(), create_graph)

    def trajectory(
        self, model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor, loss: str
    ) -> Iterator[Params]:
        """θ, then θ̃ after each of the k steps: k + 1 parameter sets, each a new tensor (for curves over steps)."""
        state = self._new_state()
        yield params
        for sl in self.slices(x.shape[1]):
            params = self._steps(model, params, x[:, sl], y[:, sl], loss, [slice(None)], state, False)
            yield params

    def _new_state(self) -> BatchedAdam | None:
        """A fresh optimizer state for one adaptation: Adam's moments, or none for SGD."""
        return BatchedAdam() if self.optimizer == "adam" else None

    def _steps(
        self,
        model: nn.Module,
        params: Params,
        x: torch.Tensor,
        y: torch.Tensor,
        loss: str,
        batches: list[slice],
        adam: BatchedAdam | None,
        create_graph: bool,
    ) -> Params:
        """One step per entry of ``batches``, by hand where ``hand_derived`` says so, else with autograd."""
        if self.hand_derived(model, loss, create_graph):
            theta_tilde = model.sgd_steps(params, x, y, self.eta, batches)  # type: ignore[operator]
            return {n: p.requires_grad_(True) for n, p in theta_tilde.items()}
        if not create_graph:
            params = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
        names = list(params)
        for sl in batches:
            with torch.enable_grad():
                losses = task_losses(batched_call(model, params, x[:, sl]), y[:, sl], loss)
                grads = torch.autograd.grad(losses.sum(), [params[n] for n in names], create_graph=create_graph)
            steps = list(grads) if adam is None else adam.direction(list(grads))
            if create_graph:
                params = {n: params[n] - self.eta * g for n, g in zip(names, steps)}
            else:
                with torch.no_grad():
                    torch._foreach_add_([params[n] for n in names], steps, alpha=-self.eta)
        return params


def start_params(model: nn.Module, params: Params | None, num_tasks: int) -> Params:
    """θ for every task ``[T, ...]``: the model's own θ, or ``params`` (shared or already per task)."""
    own = parameters_of(model)
    if params is None:
        return expand_params(own, num_tasks)
    if set(params) != set(own):
        raise ValueError(f"params must have the model's parameter names {sorted(own)}; got {sorted(params)}.")
    out = {}
    for name, p in params.items():
        shape = own[name].shape
        if p.shape == shape:
            out[name] = p.unsqueeze(0).expand(num_tasks, *shape)
        elif p.shape == (num_tasks, *shape):
            out[name] = p
        else:
            raise ValueError(
                f"params[{name!r}] must have shape {tuple(shape)} or {(num_tasks, *shape)}; got {tuple(p.shape)}."
            )
    return out


def adapt(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    k: int,
    eta: float,
    params: Params | None = None,
    loss: str = "mse",
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    minibatches: str = "separate",
) -> Params:
    """θ̃: k steps of SGD with learning rate η on each task's points ``x``, ``y`` (``[T, N, ...]``).

    Starts from ``params`` (shared ``θ`` or per-task ``[T, ...]``) or, by default, from the
    model's own parameters θ. Returns detached per-task parameters ``[T, ...]``; the model is
    not changed. ``batch_size`` makes each step use the next minibatch of that many points
    (``minibatches="same"``: the first minibatch at every step).
    ``inner_optimizer="adam"`` takes Adam steps (β1 = 0, learning rate η) instead of SGD.
    """
    check_model(model)
    inner = InnerLoop(k, eta, batch_size, inner_optimizer, minibatches=minibatches)
    check_choice("loss", loss, ("mse", "ce"))
    if x.dim() < 2 or x.shape[:2] != y.shape[:2]:
        raise ValueError(
            f"x and y must be [T, N, ...] with the same T and N; got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    theta_tilde = inner.adapt(model, start_params(model, params, x.shape[0]), x, y, loss)
    return {n: p.detach() for n, p in theta_tilde.items()}
