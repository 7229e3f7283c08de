"""Meta-training an agent: Reptile (and joint training, its baseline) over a task family.

One Reptile outer step, exactly as for sine waves in lesson 04:

1. draw n tasks; collect E fresh episodes of each with the current θ (on-policy);
2. adapt: k PPO-clip updates with learning rate η on each task's buffer give θ̃_t;
3. θ ← θ + ε·mean_t(θ̃_t − θ), the package's ``reptile_outer_step``.

Each outer step records the agent's policy, value and total losses (averaged over the k inner
steps and the n tasks) and the mean return of the collected episodes (at θ, before adaptation).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from .._checks import check_epsilon, check_int, check_positive
from ..messages import message, method_name
from ..meta import reptile_outer_step
from ..methods import DivergenceError, History
from ..models import Params
from .family import check_family
from .policy import ActorCritic
from .ppo import PPO_DEFAULTS, LossTerms, PPOSettings, adapt_policy
from .runner import collect, per_task


@dataclass
class RLHistory(History):
    """``History`` plus, per outer step, the policy loss, the value loss, the entropy and the mean
    return of the episodes collected at θ. ``loss`` is the agent's total loss."""

    policy_loss: list[float] = field(default_factory=list)
    value_loss: list[float] = field(default_factory=list)
    entropy: list[float] = field(default_factory=list)
    mean_return: list[float] = field(default_factory=list)

    def record(self, step: int, terms: LossTerms, mean_return: float, seconds: float) -> None:
        """Add one outer step."""
        self.step.append(step)
        self.loss.append(float(terms.total.mean()))
        self.policy_loss.append(float(terms.policy.mean()))
        self.value_loss.append(float(terms.value.mean()))
        self.entropy.append(float(terms.entropy.mean()))
        self.mean_return.append(mean_return)
        self.time.append(seconds)


def _finite(params: Params, terms: LossTerms) -> bool:
    checks = [torch.isfinite(terms.total).all()] + [torch.isfinite(p).all() for p in params.values()]
    return bool(torch.stack(checks).all())


def _train(
    method: str,
    policy: ActorCritic,
    family: object,
    *,
    steps: int,
    k: int,
    eta: float,
    epsilon: float,
    anneal: bool,
    meta_batch: int,
    episodes: int,
    settings: PPOSettings,
    joint: bool,
    generator: torch.Generator | None,
    progress: bool,
    callback: Callable[[int, float], bool | None] | None,
    history: RLHistory | None,
) -> RLHistory:
    family = check_family(family)
    if not isinstance(policy, ActorCritic):
        raise TypeError(
            f"policy must be an ActorCritic (e.g. ActorCritic.for_family(family)); got {type(policy).__name__}."
        )
    steps = check_int("steps", steps)
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    meta_batch = check_int("n (meta_batch)", meta_batch)
    episodes = check_int("episodes", episodes)
    history = history if history is not None else RLHistory(method)
    offset = history.step[-1] if history.step else 0
    start = time.perf_counter()
    bar = tqdm(range(steps), desc=method_name(method), disable=not progress, leave=False)
    try:
        for s in bar:
            theta = {n: p.detach() for n, p in policy.named_parameters()}
            tasks = family.sample_tasks(meta_batch, generator)
            buffer = collect(policy, family, tasks, episodes=episodes, generator=generator)
            buffer.compute_advantages(settings.gamma, settings.lam)
            theta_tilde, terms = adapt_policy(
                policy, per_task(policy, None, meta_batch), buffer, k=k, eta=eta, settings=settings, joint=joint
            )
            if joint:  # every task holds the same θ̃: one policy for all tasks
                new = {n: p[0] for n, p in theta_tilde.items()}
            else:
                new = reptile_outer_step(theta, theta_tilde, epsilon * (1 - s / steps) if anneal else epsilon)
            if not _finite(new, terms):
                bad = float(terms.total.mean())
                hint = message("hint_eta", eta=eta) if joint else message("hint_reptile", eta=eta, epsilon=epsilon)
                raise DivergenceError(method, offset + s + 1, bad if not math.isfinite(bad) else math.inf, hint)
            with torch.no_grad():
                for n, p in policy.named_parameters():
                    p.copy_(new[n])
            mean_return = float(buffer.returns().mean())
            history.record(offset + s + 1, terms, mean_return, time.perf_counter() - start)
            if progress and s % 10 == 0:
                bar.set_postfix(ret=f"{mean_return:.1f}", refresh=False)
            if callback is not None and callback(s + 1, history.loss[-1]) is False:
                history.stopped = "callback"
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
    finally:
        bar.close()
    return history


def reptile_rl(
    policy: ActorCritic,
    family: object,
    *,
    steps: int,
    k: int = 5,
    eta: float = 0.1,
    epsilon: float = 0.5,
    anneal: bool = False,
    meta_batch: int = 10,
    episodes: int = 10,
    settings: PPOSettings = PPO_DEFAULTS,
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callable[[int, float], bool | None] | None = None,
    history: RLHistory | None = None,
) -> RLHistory:
    """Reptile for RL: ``steps`` outer steps θ ← θ + ε·mean_t(θ̃_t − θ) over n = ``meta_batch`` tasks,
    θ̃_t from k PPO-clip updates (learning rate η) on E = ``episodes`` fresh episodes of task t.

    ``anneal=True`` lowers ε linearly from its value to 0 over the run, as in the Reptile paper (it
    quiets the noise of the last outer steps). Updates ``policy`` in place (it holds θ); on divergence
    it raises ``DivergenceError`` and the policy keeps its last finite θ. ``history`` continues an
    earlier run's record.
    """
    epsilon = check_epsilon(epsilon)
    return _train(
        "Reptile", policy, family, steps=steps, k=k, eta=eta, epsilon=epsilon, anneal=anneal, meta_batch=meta_batch,
        episodes=episodes, settings=settings, joint=False, generator=generator, progress=progress,
        callback=callback, history=history,
    )  # fmt: skip


def joint_rl(
    policy: ActorCritic,
    family: object,
    *,
    steps: int,
    k: int = 5,
    eta: float = 0.1,
    meta_batch: int = 10,
    episodes: int = 10,
    settings: PPOSettings = PPO_DEFAULTS,
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callable[[int, float], bool | None] | None = None,
    history: RLHistory | None = None,
) -> RLHistory:
    """Joint training: one policy for all tasks. Each outer step collects the same data as Reptile's
    (n tasks × E episodes) and takes k PPO-clip steps of η on the mean loss over the tasks."""
    return _train(
        "Joint training", policy, family, steps=steps, k=k, eta=eta, epsilon=1.0, anneal=False, meta_batch=meta_batch,
        episodes=episodes, settings=settings, joint=True, generator=generator, progress=progress,
        callback=callback, history=history,
    )  # fmt: skip
