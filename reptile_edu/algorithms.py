"""Meta-learning algorithms, batched over tasks.

Notation (Nichol et al. 2018): θ is the initialisation being meta-learned, θ̃_t the
parameters after k steps of SGD with inner learning rate η on task t, ε the meta
step size and n the number of tasks per meta-batch.

Every training function has the same call shape, so a lesson can swap them::

    history = reptile(model, SineFamily("reptile"), steps=1000, k=5, eta=0.02, epsilon=0.1)
    history = maml(model, SineFamily("maml"), steps=1000, k=1, eta=0.01, meta_lr=1e-3)

They update ``model`` in place (it holds θ) and return a ``History``. All T tasks of a
meta-batch run as one batched computation (see ``models.batched_call``); the plain
one-task versions for teaching live in ``reptile_edu.one_task``.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import mlp_sgd
from ._checks import check_choice, check_epsilon, check_int, check_positive
from .models import Params, batched_call, expand_params, parameters_of
from .tasks import Episodes


class TaskSource(Protocol):
    """Anything that hands out meta-batches of tasks, e.g. ``SineFamily``."""

    def episodes(
        self, num_tasks: int, generator: torch.Generator | None = ..., device: torch.device | str = ...
    ) -> Episodes: ...


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite loss or parameter; the model keeps its last finite θ."""

    def __init__(self, method: str, step: int, value: float, hint: str, unit: str = "outer step") -> None:
        self.method, self.step, self.value, self.hint = method, step, value, hint
        what = "NaN" if math.isnan(value) else "infinite"
        kept = "" if unit != "outer step" else f" The model keeps its parameters from before step {step}."
        super().__init__(
            f"{method} diverged at {unit} {step}: the loss or the parameters became {what}. "
            f"Lower {hint} and run again.{kept}"
        )


@dataclass
class History:
    """What a training run recorded at each outer step: ``step``, ``loss`` and ``time`` (s since start).

    ``loss`` is each method's own training loss: the query loss after adaptation for MAML and
    FOMAML, the support loss after adaptation (at θ̃) for Reptile, the joint loss for joint training.
    ``stopped`` says why a run ended early (``"interrupted"`` or ``"callback"``), else ``None``.
    """

    method: str
    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    stopped: str | None = None

    def __len__(self) -> int:
        return len(self.step)

    def as_dict(self) -> dict[str, object]:
        """Plain lists, e.g. for JSON."""
        return {"method": self.method, "step": self.step, "loss": self.loss, "time": self.time, "stopped": self.stopped}


Callback = Callable[[int, float], "bool | None"]


# ---------------------------------------------------------------------------
# Losses and the inner loop


def task_losses(pred: torch.Tensor, target: torch.Tensor, loss: str) -> torch.Tensor:
    """The loss of each task, averaged over its points: ``[T]``. ``loss`` is ``"mse"`` or ``"ce"``."""
    if loss == "mse":
        return (pred - target).pow(2).flatten(1).mean(1)
    if loss == "ce":
        t, n = target.shape[:2]
        if target.numel() and int(target.max()) >= pred.shape[-1]:
            raise ValueError(
                f"the model has {pred.shape[-1]} outputs but the labels go up to {int(target.max())}: "
                f"an N-way task needs a model with N outputs, e.g. ConvNet(ways={int(target.max()) + 1})."
            )
        return F.cross_entropy(pred.reshape(t * n, -1), target.reshape(t * n), reduction="none").view(t, n).mean(1)
    raise ValueError(f"loss must be 'mse' or 'ce'; got {loss!r}.")


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. MLP()); got {type(model).__name__}.")
    if not any(True for _ in model.parameters()):
        raise ValueError("model has no parameters to meta-learn.")
    return model


def _batch_slices(shots: int, k: int, batch_size: int | None) -> list[slice]:
    """Which support points each of the k inner steps uses: all of them, or minibatches in turn."""
    if batch_size is None:
        return [slice(None)] * k
    b = check_int("batch_size", batch_size, low=1, high=shots)
    if shots % b:
        raise ValueError(f"batch_size must divide the number of support points ({shots}); got {b}.")
    return [slice((i * b) % shots, (i * b) % shots + b) for i in range(k)]


def _start_params(model: nn.Module, params: Params | None, num_tasks: int) -> Params:
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


#: Inner-loop optimisers: plain SGD (MAML's) or Adam with β1 = 0 (the Reptile paper's, for classification).
INNER_OPTIMIZERS = ("sgd", "adam")
ADAM_BETAS = (0.0, 0.999)
ADAM_EPS = 1e-8


class _BatchedAdam:
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


def _inner_state(optimizer: str) -> _BatchedAdam | None:
    return _BatchedAdam() if check_choice("inner_optimizer", optimizer, INNER_OPTIMIZERS) == "adam" else None


def _inner_sgd(
    model: nn.Module,
    params: Params,
    x: torch.Tensor,
    y: torch.Tensor,
    k: int,
    eta: float,
    loss: str,
    batch_size: int | None,
    create_graph: bool,
    adam: _BatchedAdam | None = None,
) -> tuple[Params, torch.Tensor]:
    """k steps of θ̃ ← θ̃ − η ∇L_t(θ̃) on every task at once; also return the first step's mean loss.

    Per-task gradients come from one ``autograd.grad`` of the *sum* of per-task losses:
    task t's loss depends only on its own θ̃_t. For an ``MLP`` with the MSE and plain SGD (the sine
    lessons) and no graph through the steps, ``mlp_sgd`` computes the same steps with the gradient
    written out by hand, which is several times faster. With ``adam`` (a ``_BatchedAdam`` state) the
    step is Adam's, θ̃ ← θ̃ − η·m̂/(√v̂ + ε), instead of SGD's.
    """
    if mlp_sgd.applies(model, loss, create_graph, plain_sgd=adam is None):  # the same steps, gradient by hand
        theta_tilde, first = mlp_sgd.mlp_sgd(model, params, x, y, eta, _batch_slices(x.shape[1], k, batch_size))
        return {n: p.requires_grad_(True) for n, p in theta_tilde.items()}, first
    if not create_graph:
        params = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
    names = list(params)
    first = None
    for sl in _batch_slices(x.shape[1], k, batch_size):
        with torch.enable_grad():
            losses = task_losses(batched_call(model, params, x[:, sl]), y[:, sl], loss)
            grads = torch.autograd.grad(losses.sum(), [params[n] for n in names], create_graph=create_graph)
        if first is None:
            first = losses.detach().mean()
        steps = list(grads) if adam is None else adam.direction(list(grads))
        if create_graph:
            params = {n: params[n] - eta * g for n, g in zip(names, steps)}
        else:
            with torch.no_grad():
                torch._foreach_add_([params[n] for n in names], steps, alpha=-eta)
    assert first is not None
    return params, first


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
) -> Params:
    """θ̃: k steps of SGD with learning rate η on each task's points ``x``, ``y`` (``[T, N, ...]``).

    Starts from ``params`` (shared ``θ`` or per-task ``[T, ...]``) or, by default, from the
    model's own parameters θ. Returns detached per-task parameters ``[T, ...]``; the model is
    not changed. ``batch_size`` makes each step use the next minibatch of that many points.
    ``inner_optimizer="adam"`` takes Adam steps (β1 = 0, learning rate η) instead of SGD.
    """
    _check_model(model)
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    check_choice("loss", loss, ("mse", "ce"))
    if x.dim() < 2 or x.shape[:2] != y.shape[:2]:
        raise ValueError(
            f"x and y must be [T, N, ...] with the same T and N; got {tuple(x.shape)} and {tuple(y.shape)}."
        )
    adam = _inner_state(inner_optimizer)
    start = _start_params(model, params, x.shape[0])
    theta_tilde, _ = _inner_sgd(model, start, x, y, k, eta, loss, batch_size, create_graph=False, adam=adam)
    return {n: p.detach() for n, p in theta_tilde.items()}


# ---------------------------------------------------------------------------
# One outer step of each method (pure: they return θ or a gradient, and change nothing)


def reptile_outer_step(theta: Params, theta_tilde: Params, epsilon: float) -> Params:
    """The Reptile update θ ← θ + ε·mean_t(θ̃_t − θ); ``theta_tilde`` is ``[T, ...]``."""
    return {n: theta[n] + epsilon * (theta_tilde[n] - theta[n]).mean(0) for n in theta}


def reptile_step(
    model: nn.Module,
    episodes: Episodes,
    *,
    k: int,
    eta: float,
    epsilon: float,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
) -> tuple[Params, torch.Tensor]:
    """One Reptile outer step on a meta-batch: adapt every task for k steps on its support set,
    then move θ toward the mean θ̃. Returns the new θ (the model is unchanged) and the
    mean support loss after adaptation (at θ̃). ``inner_optimizer`` is ``"sgd"`` or ``"adam"`` (β1 = 0)."""
    adam = _inner_state(inner_optimizer)
    theta = {n: p.detach() for n, p in parameters_of(model).items()}
    start = expand_params(theta, episodes.num_tasks)
    theta_tilde, loss = _inner_sgd(
        model, start, episodes.x_support, episodes.y_support, k, eta, episodes.loss, batch_size, False, adam
    )
    with torch.no_grad():  # the support loss after adaptation, at θ̃: it falls as meta-learning works
        adapted = task_losses(batched_call(model, theta_tilde, episodes.x_support), episodes.y_support, episodes.loss)
    return reptile_outer_step(theta, theta_tilde, epsilon), adapted.mean()


def maml_meta_gradient(
    model: nn.Module,
    episodes: Episodes,
    *,
    k: int,
    eta: float,
    first_order: bool = False,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
) -> tuple[Params, torch.Tensor]:
    """∇_θ mean_t L^query_t(θ̃_t(θ)): the MAML meta-gradient through k inner SGD steps.

    Second order (default) differentiates through the inner loop (``create_graph=True``);
    ``first_order=True`` (FOMAML) drops those second derivatives and uses
    mean_t ∇L^query_t evaluated at θ̃_t. Returns the gradient and the mean query loss.
    ``inner_optimizer="adam"`` adapts with Adam (β1 = 0); second order then differentiates
    through Adam's steps too.
    """
    adam = _inner_state(inner_optimizer)
    theta = parameters_of(model)
    names = list(theta)
    with torch.enable_grad():
        start = expand_params(theta, episodes.num_tasks)
        theta_tilde, _ = _inner_sgd(
            model,
            start,
            episodes.x_support,
            episodes.y_support,
            k,
            eta,
            episodes.loss,
            batch_size,
            not first_order,
            adam,
        )
        query = task_losses(batched_call(model, theta_tilde, episodes.x_query), episodes.y_query, episodes.loss).mean()
        if first_order:
            grads = torch.autograd.grad(query, [theta_tilde[n] for n in names])
            grads = [g.sum(0) for g in grads]  # d(mean_t L_t)/dθ̃_t summed over t = mean_t ∇L_t(θ̃_t)
        else:
            grads = torch.autograd.grad(query, [theta[n] for n in names])
    return dict(zip(names, grads)), query.detach()


def joint_loss(model: nn.Module, episodes: Episodes) -> torch.Tensor:
    """The joint-training loss: mean over tasks of each task's support loss, at the one shared θ."""
    params = expand_params(parameters_of(model), episodes.num_tasks)
    return task_losses(batched_call(model, params, episodes.x_support), episodes.y_support, episodes.loss).mean()


# ---------------------------------------------------------------------------
# Training loops


@contextlib.contextmanager
def _atomic() -> Iterator[None]:
    """Hold back Ctrl-C / a kernel interrupt while θ is written, so θ is never half-updated."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[object] = []
    previous = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _all_finite(loss: torch.Tensor, tensors: list[torch.Tensor]) -> bool:
    checks = torch.stack([torch.isfinite(loss).all()] + [torch.isfinite(t).all() for t in tensors])
    return bool(checks.all())


def _bad_value(loss: torch.Tensor) -> float:
    """The loss if it is the non-finite thing, else +inf (the parameters were)."""
    value = float(loss)
    return value if not math.isfinite(value) else math.inf


def _check_source(source: object) -> TaskSource:
    if not callable(getattr(source, "episodes", None)):
        raise TypeError(
            "source must be a task family with an .episodes(num_tasks, generator, device) method "
            f"(e.g. SineFamily('maml')); got {type(source).__name__}."
        )
    return source  # type: ignore[return-value]


def _run(
    method: str,
    model: nn.Module,
    source: TaskSource,
    steps: int,
    meta_batch: int,
    generator: torch.Generator | None,
    progress: bool,
    callback: Callback | None,
    one_step: Callable[[int, Episodes], torch.Tensor],
) -> History:
    """The outer loop shared by every method: sample a meta-batch, take one step, record, repeat."""
    device = next(model.parameters()).device
    history = History(method)
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=method, disable=not progress, leave=False)
    try:
        for s in bar:
            loss = float(one_step(s, source.episodes(meta_batch, generator, device)))
            history.step.append(s + 1)
            history.loss.append(loss)
            history.time.append(time.perf_counter() - start)
            if progress and s % 50 == 0:
                bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
            if callback is not None and callback(s + 1, loss) is False:
                history.stopped = "callback"
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
    finally:
        bar.close()
    return history


def reptile(
    model: nn.Module,
    source: TaskSource,
    *,
    steps: int,
    k: int = 5,
    eta: float = 0.02,
    epsilon: float = 0.1,
    meta_batch: int = 1,
    anneal: bool = False,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """Reptile: for ``steps`` outer steps, θ ← θ + ε·mean_t(θ̃_t − θ) over a meta-batch of n tasks.

    k inner SGD steps with learning rate η on each task's support set give θ̃_t.
    ``meta_batch=1`` is the serial version (one task per outer step). ``anneal=True``
    lowers ε linearly from its value to 0 over the run, as in the paper.
    ``inner_optimizer="adam"`` uses Adam with β1 = 0 for the inner steps (the paper's choice
    for Omniglot, with η = 0.001); ``batch_size`` makes each inner step use the next minibatch.
    """
    _check_model(model)
    source = _check_source(source)
    steps = check_int("steps", steps)
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    epsilon = check_epsilon(epsilon)
    meta_batch = check_int("n (meta_batch)", meta_batch)
    check_choice("inner_optimizer", inner_optimizer, INNER_OPTIMIZERS)
    params = list(model.parameters())

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        eps_s = epsilon * (1 - s / steps) if anneal else epsilon
        new, loss = reptile_step(
            model, ep, k=k, eta=eta, epsilon=eps_s, batch_size=batch_size, inner_optimizer=inner_optimizer
        )
        new_list = [new[n] for n, _ in model.named_parameters()]
        if not _all_finite(loss, new_list):
            hint = f"the inner learning rate η (eta={eta:g}) or the meta step size ε (epsilon={epsilon:g})"
            raise DivergenceError("Reptile", s + 1, _bad_value(loss), hint)
        with _atomic(), torch.no_grad():
            torch._foreach_copy_(params, new_list)
        return loss

    return _run("Reptile", model, source, steps, meta_batch, generator, progress, callback, one_step)


def maml(
    model: nn.Module,
    source: TaskSource,
    *,
    steps: int,
    k: int = 1,
    eta: float = 0.01,
    meta_lr: float = 1e-3,
    meta_batch: int = 25,
    first_order: bool = False,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """MAML: Adam on θ with the meta-gradient ∇_θ mean_t L^query_t(θ̃_t(θ)) through k inner steps.

    ``first_order=True`` is first-order MAML (FOMAML). ``meta_lr`` is Adam's learning rate.
    The inner steps are SGD with learning rate η, or Adam (β1 = 0) with ``inner_optimizer="adam"``.
    """
    _check_model(model)
    source = _check_source(source)
    steps = check_int("steps", steps)
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    meta_lr = check_positive("meta_lr", meta_lr)
    meta_batch = check_int("n (meta_batch)", meta_batch)
    check_choice("inner_optimizer", inner_optimizer, INNER_OPTIMIZERS)
    name = "FOMAML" if first_order else "MAML"
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=meta_lr)

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        grads, loss = maml_meta_gradient(
            model,
            ep,
            k=k,
            eta=eta,
            first_order=first_order,
            batch_size=batch_size,
            inner_optimizer=inner_optimizer,
        )
        grad_list = [grads[n] for n, _ in model.named_parameters()]
        if not _all_finite(loss, grad_list):
            hint = f"the inner learning rate η (eta={eta:g}) or the outer learning rate (meta_lr={meta_lr:g})"
            raise DivergenceError(name, s + 1, _bad_value(loss), hint)
        with _atomic():
            for p, g in zip(params, grad_list):
                p.grad = g
            optimizer.step()
        return loss

    return _run(name, model, source, steps, meta_batch, generator, progress, callback, one_step)


def fomaml(model: nn.Module, source: TaskSource, **kwargs: object) -> History:
    """First-order MAML: ``maml(..., first_order=True)``."""
    return maml(model, source, first_order=True, **kwargs)  # type: ignore[arg-type]


def joint(
    model: nn.Module,
    source: TaskSource,
    *,
    steps: int,
    lr: float = 1e-3,
    meta_batch: int = 25,
    optimizer: str = "adam",
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """Joint training: one θ fitted to all tasks at once, minimising mean_t L_t(θ) (no adaptation).

    ``optimizer`` is ``"adam"`` or ``"sgd"`` with learning rate ``lr``.
    """
    _check_model(model)
    source = _check_source(source)
    steps = check_int("steps", steps)
    lr = check_positive("lr", lr)
    meta_batch = check_int("n (meta_batch)", meta_batch)
    kind = check_choice("optimizer", optimizer, ("adam", "sgd"))
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr) if kind == "adam" else torch.optim.SGD(params, lr=lr)

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        with torch.enable_grad():
            loss = joint_loss(model, ep)
            grads = torch.autograd.grad(loss, params)
        if not _all_finite(loss.detach(), list(grads)):
            raise DivergenceError("Joint training", s + 1, _bad_value(loss.detach()), f"the learning rate (lr={lr:g})")
        with _atomic():
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
        return loss.detach()

    return _run("Joint training", model, source, steps, meta_batch, generator, progress, callback, one_step)


#: Every training method by name, all with the call shape ``f(model, source, *, steps, ...)``.
METHODS: dict[str, Callable[..., History]] = {"joint": joint, "maml": maml, "fomaml": fomaml, "reptile": reptile}


# ---------------------------------------------------------------------------
# Evaluation


@dataclass
class Evaluation:
    """Query loss (and accuracy for classification) after 0, 1, …, k adaptation steps, mean over tasks.

    ``final_per_task`` is each task's query loss after k steps ``[T]``; for classification
    ``accuracy_per_task`` is each task's query accuracy after k steps ``[T]``.
    """

    loss: list[float]
    accuracy: list[float] | None
    final_per_task: torch.Tensor
    accuracy_per_task: torch.Tensor | None = None

    @property
    def final(self) -> float:
        """The mean query loss after all k steps."""
        return self.loss[-1]

    def accuracy_interval(self, z: float = 1.96) -> tuple[float, float]:
        """Mean accuracy after k steps over the T tasks and the half-width z·s/√T of its 95 % interval."""
        if self.accuracy_per_task is None:
            raise ValueError("accuracy_interval needs classification tasks (loss='ce').")
        acc = self.accuracy_per_task.double()
        half = z * float(acc.std()) / math.sqrt(len(acc)) if len(acc) > 1 else math.nan
        return float(acc.mean()), half


def _predict(model: nn.Module, params: Params, xs: torch.Tensor, xq: torch.Tensor, transductive: bool) -> torch.Tensor:
    """Query predictions ``[T, Q, ...]``: all queries of a task in one batch (transductive), or
    each query in a batch of its own with the task's support set (non-transductive)."""
    if transductive:
        return batched_call(model, params, xq)
    t, q = xq.shape[:2]
    batch = torch.cat([xs.unsqueeze(1).expand(t, q, *xs.shape[1:]), xq.unsqueeze(2)], dim=2)  # [T, Q, S+1, ...]
    per_query = {n: p.repeat_interleave(q, dim=0) for n, p in params.items()}  # the task's θ̃ for each query
    out = batched_call(model, per_query, batch.flatten(0, 1))[:, -1]
    return out.view(t, q, *out.shape[1:])


def _evaluate_chunk(
    model: nn.Module,
    ep: Episodes,
    k: int,
    eta: float,
    batch_size: int | None,
    inner_optimizer: str,
    transductive: bool,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-step, per-task query losses ``[k+1, T]`` (and accuracies) of one batch of tasks."""
    params = expand_params({n: p.detach() for n, p in parameters_of(model).items()}, ep.num_tasks)
    adam = _inner_state(inner_optimizer)
    losses, accs = [], []
    slices = _batch_slices(ep.x_support.shape[1], k, batch_size)
    for step in range(k + 1):
        with torch.no_grad():
            pred = _predict(model, params, ep.x_support, ep.x_query, transductive)
            per_task = task_losses(pred, ep.y_query, ep.loss)
            if not bool(torch.isfinite(per_task).all()):
                value = float(per_task[~torch.isfinite(per_task)][0])
                raise DivergenceError(
                    "Adaptation", step, value, f"the inner learning rate η (eta={eta:g})", unit="inner step"
                )
            losses.append(per_task)
            if ep.loss == "ce":
                accs.append((pred.argmax(-1) == ep.y_query).float().mean(1))
        if step < k:
            params, _ = _inner_sgd(
                model,
                params,
                ep.x_support[:, slices[step]],
                ep.y_support[:, slices[step]],
                1,
                eta,
                ep.loss,
                None,
                False,
                adam,
            )
    return torch.stack(losses), (torch.stack(accs) if accs else None)


def evaluate(
    model: nn.Module,
    source: TaskSource | Episodes,
    *,
    k: int,
    eta: float,
    num_tasks: int = 100,
    generator: torch.Generator | None = None,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    transductive: bool = True,
    chunk_size: int | None = None,
) -> Evaluation:
    """Adapt θ to held-out tasks with k steps of SGD (η) on their support sets; measure the query loss.

    ``source`` is a task family (``num_tasks`` fresh tasks are drawn) or ready ``Episodes``.
    Records the curve after each step 0 … k, so one call gives "MSE after 1, 5, 10 steps",
    and for classification (``loss="ce"``) the query accuracy too.

    ``inner_optimizer="adam"`` adapts with Adam (β1 = 0). ``transductive=False`` predicts each
    query on its own, batched with the support set, instead of all queries in one batch; it
    only matters for models with batch norm (see ``ConvNet``). ``chunk_size`` adapts that many
    tasks at a time, to bound memory; the numbers are the same.
    """
    _check_model(model)
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    check_choice("inner_optimizer", inner_optimizer, INNER_OPTIMIZERS)
    device = next(model.parameters()).device
    if isinstance(source, Episodes):
        ep = source.to(device)
    else:
        ep = _check_source(source).episodes(check_int("num_tasks", num_tasks), generator, device)
    size = ep.num_tasks if chunk_size is None else check_int("chunk_size", chunk_size)
    parts = [
        _evaluate_chunk(model, ep_chunk, k, eta, batch_size, inner_optimizer, bool(transductive))
        for ep_chunk in _chunks(ep, size)
    ]
    losses = torch.cat([p[0] for p in parts], dim=1)
    accs = torch.cat([p[1] for p in parts], dim=1) if ep.loss == "ce" else None  # type: ignore[misc]
    return Evaluation(
        loss=losses.mean(1).tolist(),
        accuracy=accs.mean(1).tolist() if accs is not None else None,
        final_per_task=losses[-1],
        accuracy_per_task=accs[-1] if accs is not None else None,
    )


def _chunks(ep: Episodes, size: int) -> Iterator[Episodes]:
    for start in range(0, ep.num_tasks, size):
        sl = slice(start, start + size)
        yield Episodes(ep.x_support[sl], ep.y_support[sl], ep.x_query[sl], ep.y_query[sl], ep.loss)
