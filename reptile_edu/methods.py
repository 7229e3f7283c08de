"""The training methods: Reptile, MAML, FOMAML and joint training, all with one call shape.

    history = reptile(model, SineFamily("reptile"), steps=1000, k=5, eta=0.02, epsilon=0.1)
    history = maml(model, SineFamily("maml"), steps=1000, k=1, eta=0.01, meta_lr=1e-3)

Each updates ``model`` in place (it holds θ) and returns a ``History``. The outer loop is shared
(``_run``: sample a meta-batch, take one step, record, repeat); each method only says what one
step is, with the equations of ``reptile_edu.meta``. All tasks of a meta-batch run as one batched
computation; the plain one-task versions for teaching live in ``reptile_edu.one_task``.

A step whose loss or new θ is NaN or infinite raises ``DivergenceError`` and leaves θ as it was;
θ is written while Ctrl-C is held back (``reptile_edu.interrupts``), so it is never half-updated.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from tqdm.auto import tqdm

from ._checks import check_choice, check_epsilon, check_int, check_positive
from .episodes import Episodes, TaskSource, check_source
from .inner import InnerLoop
from .interrupts import held_interrupts
from .messages import message, method_name
from .meta import adapt_meta_batch, joint_loss, maml_meta_gradient, reptile_gradient, reptile_outer_step
from .models import check_model
from .schedules import Schedule, as_schedule

#: Reptile's outer step: SGD on θ − mean θ̃ (the paper's update), or Adam on it (the paper's remark).
OUTER_OPTIMIZERS = ("sgd", "adam")

# Where a run can diverge (``DivergenceError``'s ``unit``) → the message that says so.
_DIVERGED = {"outer step": "diverged_outer", "inner step": "diverged_inner", "adaptation update": "diverged_update"}


class DivergenceError(FloatingPointError):
    """Training produced a NaN or infinite loss or parameter; the model keeps its last finite θ.

    ``hint`` names what to lower (a ``messages.message("hint_…")`` text); the message is in the
    language of ``set_language()``, ``method`` and ``step`` stay available as attributes.
    """

    def __init__(self, method: str, step: int, value: float, hint: str, unit: str = "outer step") -> None:
        self.method, self.step, self.value, self.hint = method, step, value, hint
        key = _DIVERGED[check_choice("unit", unit, tuple(_DIVERGED))]
        what = message("nan" if math.isnan(value) else "infinite")
        super().__init__(message(key, method=method_name(method), step=step, what=what, hint=hint))


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


def _commit(
    method: str, step: int, loss: torch.Tensor, values: list[torch.Tensor], hint: str, write: Callable[[], None]
) -> None:
    """``write()`` the new θ if the loss and ``values`` (the new θ or its gradient) are all finite, with Ctrl-C
    held back; otherwise raise ``DivergenceError`` naming ``hint`` (what to lower) and leave θ as it is."""
    checks = torch.stack([torch.isfinite(loss).all()] + [torch.isfinite(t).all() for t in values])
    if not bool(checks.all()):
        value = float(loss)
        raise DivergenceError(method, step, value if not math.isfinite(value) else math.inf, hint)
    with held_interrupts(), torch.no_grad():
        write()


def _check_run(model: object, source: object, steps: object, meta_batch: object) -> tuple[TaskSource, int, int]:
    """The checks every method makes: a model with parameters, a task source, steps ≥ 1 and n ≥ 1 tasks per step."""
    check_model(model)
    return check_source(source), check_int("steps", steps), check_int("n (meta_batch)", meta_batch)


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
    bar = tqdm(range(steps), desc=method_name(method), disable=not progress, leave=False)
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
    epsilon: float | Schedule = 0.1,
    meta_batch: int = 1,
    anneal: bool = False,
    batch_size: int | None = None,
    minibatches: str = "separate",
    inner_optimizer: str = "sgd",
    outer_optimizer: str = "sgd",
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """Reptile: for ``steps`` outer steps, θ ← θ + ε·mean_t(θ̃_t − θ) over a meta-batch of n tasks.

    k inner SGD steps with learning rate η on each task's support set give θ̃_t.
    ``meta_batch=1`` is the serial version (one task per outer step).

    ``epsilon`` is ε, or a schedule of ε over the run (``reptile_edu.schedules``: ``Constant``,
    ``Linear``, ``Cosine``). ``anneal=True`` is ``Linear(epsilon)``, as in the paper:
    ε_s = ε·(1 − s/steps) at step s = 0 … steps − 1, so the last step uses ε/steps.
    ``outer_optimizer="adam"`` hands θ − mean_t θ̃_t to Adam as a gradient (the paper's remark),
    with ε (or its schedule) as Adam's learning rate; ``"sgd"`` is the update above.
    ``inner_optimizer="adam"`` uses Adam with β1 = 0 for the inner steps (the paper's choice for
    Omniglot, with η = 0.001); ``batch_size`` makes the inner steps use minibatches of that many points,
    the next one at each step (``minibatches="separate"``) or the first one every time (``"same"``).
    """
    source, steps, meta_batch = _check_run(model, source, steps, meta_batch)
    inner = InnerLoop(k, eta, batch_size, inner_optimizer, minibatches=minibatches)
    schedule = as_schedule(epsilon, anneal=anneal)
    outer = check_choice("outer_optimizer", outer_optimizer, OUTER_OPTIMIZERS)
    if outer == "sgd":
        check_epsilon(schedule.epsilon)  # ε > 1 overshoots θ̃: a warning
    params = list(model.parameters())
    names = [n for n, _ in model.named_parameters()]
    adam = torch.optim.Adam(params, lr=schedule(0, steps)) if outer == "adam" else None
    hint = message("hint_reptile", eta=inner.eta, epsilon=schedule.epsilon)

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        eps_s = schedule(s, steps)
        theta, theta_tilde, loss = adapt_meta_batch(model, ep, inner)
        if adam is None:
            new = reptile_outer_step(theta, theta_tilde, eps_s)  # θ ← θ + ε·mean_t(θ̃_t − θ)
            new_list = [new[n] for n in names]
            _commit("Reptile", s + 1, loss, new_list, hint, lambda: torch._foreach_copy_(params, new_list))
        else:
            grad = reptile_gradient(theta, theta_tilde)  # θ − mean_t θ̃_t, a gradient for Adam
            grad_list = [grad[n] for n in names]
            adam.param_groups[0]["lr"] = eps_s
            _commit("Reptile", s + 1, loss, grad_list, hint, lambda: _optimizer_step(adam, params, grad_list))
        return loss

    return _run("Reptile", model, source, steps, meta_batch, generator, progress, callback, one_step)


def maml(
    model: nn.Module,
    source: TaskSource,
    *,
    steps: int,
    k: int = 1,
    eta: float = 0.01,
    meta_lr: float | Schedule = 1e-3,
    meta_batch: int = 25,
    anneal: bool = False,
    first_order: bool = False,
    batch_size: int | None = None,
    inner_optimizer: str = "sgd",
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """MAML: Adam on θ with the meta-gradient ∇_θ mean_t L^query_t(θ̃_t(θ)) through k inner steps.

    ``first_order=True`` is first-order MAML (FOMAML). ``meta_lr`` is Adam's learning rate, or a
    schedule of it (``reptile_edu.schedules``); ``anneal=True`` lowers it linearly toward 0 over the run.
    The inner steps are SGD with learning rate η, or Adam (β1 = 0) with ``inner_optimizer="adam"``.
    """
    source, steps, meta_batch = _check_run(model, source, steps, meta_batch)
    inner = InnerLoop(k, eta, batch_size, inner_optimizer)
    if not isinstance(meta_lr, Schedule):
        meta_lr = check_positive("meta_lr", meta_lr)
    schedule = as_schedule(meta_lr, anneal=anneal)
    name = "FOMAML" if first_order else "MAML"
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=schedule(0, steps))
    hint = message("hint_maml", eta=inner.eta, meta_lr=schedule.epsilon)

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        optimizer.param_groups[0]["lr"] = schedule(s, steps)
        grads, loss = maml_meta_gradient(
            model,
            ep,
            k=inner.k,
            eta=inner.eta,
            first_order=first_order,
            batch_size=batch_size,
            inner_optimizer=inner.optimizer,
        )
        grad_list = [grads[n] for n, _ in model.named_parameters()]
        _commit(name, s + 1, loss, grad_list, hint, lambda: _optimizer_step(optimizer, params, grad_list))
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
    source, steps, meta_batch = _check_run(model, source, steps, meta_batch)
    lr = check_positive("lr", lr)
    kind = check_choice("optimizer", optimizer, ("adam", "sgd"))
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr) if kind == "adam" else torch.optim.SGD(params, lr=lr)
    hint = message("hint_lr", lr=lr)

    def one_step(s: int, ep: Episodes) -> torch.Tensor:
        with torch.enable_grad():
            loss = joint_loss(model, ep)
            grads = list(torch.autograd.grad(loss, params))
        _commit("Joint training", s + 1, loss.detach(), grads, hint, lambda: _optimizer_step(opt, params, grads))
        return loss.detach()

    return _run("Joint training", model, source, steps, meta_batch, generator, progress, callback, one_step)


def _optimizer_step(optimizer: torch.optim.Optimizer, params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
    """One step of ``optimizer`` (Adam or SGD) on θ with the given gradients."""
    for p, g in zip(params, grads):
        p.grad = g
    optimizer.step()


#: Every training method by name, all with the call shape ``f(model, source, *, steps, ...)``.
METHODS: dict[str, Callable[..., History]] = {"joint": joint, "maml": maml, "fomaml": fomaml, "reptile": reptile}
