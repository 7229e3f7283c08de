"""Adaptation to held-out tasks: the mean return after 0, 1, 2, … adaptation updates.

One *adaptation update* is the inner loop once: collect E fresh episodes with the current
parameters, then k PPO-clip steps of η on them. The return after u updates is the mean return
of the E episodes collected with the parameters after u updates (the ones the next update
learns from), as in the MAML paper's RL experiments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._checks import check_int
from ..messages import message
from ..methods import DivergenceError
from ..models import Params
from .family import check_family
from .policy import ActorCritic
from .ppo import PPO_DEFAULTS, PPOSettings, adapt_policy
from .runner import collect, per_task


@dataclass
class AdaptationReturns:
    """Mean return per task after 0 … U adaptation updates: ``per_task`` ``[U + 1, T]``."""

    per_task: torch.Tensor

    @property
    def mean(self) -> list[float]:
        """Mean over tasks after 0, 1, …, U updates."""
        return self.per_task.double().mean(1).tolist()

    def interval(self, z: float = 1.96) -> list[tuple[float, float]]:
        """(mean, half-width z·s/√T of the 95 % interval over tasks) after 0, 1, …, U updates."""
        values = self.per_task.double()
        t = values.shape[1]
        half = z * values.std(1) / math.sqrt(t) if t > 1 else torch.full((values.shape[0],), math.nan)
        return [(float(m), float(h)) for m, h in zip(values.mean(1), half)]


def adaptation_returns(
    policy: ActorCritic,
    family: object,
    tasks: torch.Tensor,
    *,
    updates: int = 3,
    k: int,
    eta: float,
    episodes: int,
    settings: PPOSettings = PPO_DEFAULTS,
    params: Params | None = None,
    generator: torch.Generator | None = None,
) -> AdaptationReturns:
    """Adapt to each task (all at once) from θ (the policy's, or ``params``) with ``updates``
    adaptation updates; return the mean return per task after each. The policy is not changed."""
    family = check_family(family)
    updates = check_int("updates", updates, low=0)
    theta = {n: p.clone() for n, p in per_task(policy, params, tasks.shape[0]).items()}
    returns = []
    for u in range(updates + 1):
        buffer = collect(policy, family, tasks, episodes=episodes, params=theta, generator=generator)
        returns.append(buffer.returns().mean(1))
        if u < updates:
            buffer.compute_advantages(settings.gamma, settings.lam)
            theta, terms = adapt_policy(policy, theta, buffer, k=k, eta=eta, settings=settings)
            if not all(bool(torch.isfinite(p).all()) for p in theta.values()):
                hint = message("hint_eta", eta=eta)
                raise DivergenceError("Adaptation", u + 1, float(terms.total.mean()), hint, unit="adaptation update")
    return AdaptationReturns(torch.stack(returns).cpu())
