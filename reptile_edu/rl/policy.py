"""The agent: an actor (the policy π_θ(a | s)) and a critic (the value V_θ(s)), one parameter set θ.

Both are small MLPs. θ holds the actor, the critic and, for continuous actions, the log standard
deviation of the Gaussian policy; Reptile meta-learns all of it. Every method takes per-task
parameters ``[T, ...]`` and observations ``[T, N, obs_dim]``, so T tasks run as one batched
computation (``MLP.batched_forward``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .._checks import check_int, check_positive
from ..models import MLP, Params

LOG_2PI_E = math.log(2 * math.pi * math.e)
#: The Gaussian policy's σ never goes below this (in units of ``action_scale``): every inner loop
#: lowers σ a little, Reptile averages those steps, and without a floor σ → 0 makes the ratio
#: π_new/π_old of PPO explode.
MIN_STD = 0.1


def _part(params: Params, prefix: str) -> Params:
    return {n[len(prefix) :]: p for n, p in params.items() if n.startswith(prefix)}


class ActorCritic(nn.Module):
    """π_θ(a | s) and V_θ(s): a Gaussian policy (continuous actions) or a categorical one (discrete).

    ``action_dim`` is the number of action components (continuous) or of actions (discrete).
    Continuous actions are a = action_scale·u with u ~ N(μ_θ(s), σ_θ²): the network works in units
    of ``action_scale`` (the size of a useful action, e.g. the navigation's 0.1), so its gradients
    have the same size whatever the environment's units; ``init_std`` is σ at the start, in those
    units. The critic predicts returns in units of ``value_scale`` (V_θ(s) = value_scale·critic(s)),
    so one inner learning rate η suits both heads.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        *,
        discrete: bool = False,
        hidden: Sequence[int] = (64, 64),
        init_std: float = 0.5,
        action_scale: float = 1.0,
        value_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.obs_dim = check_int("obs_dim", obs_dim)
        self.action_dim = check_int("action_dim", action_dim, low=2 if discrete else 1)
        self.discrete = bool(discrete)
        self.value_scale = check_positive("value_scale", value_scale)
        self.action_scale = check_positive("action_scale", action_scale)
        self.actor = MLP(hidden, "tanh", obs_dim, action_dim)
        self.critic = MLP(hidden, "tanh", obs_dim, 1)
        with torch.no_grad():  # small last layers: the policy starts near its mean action, the critic near 0
            self.actor.layers[-1].weight.mul_(0.01)
            self.actor.layers[-1].bias.zero_()
            self.critic.layers[-1].weight.mul_(0.1)
        if not self.discrete:
            std = check_positive("init_std", init_std)
            self.log_std = nn.Parameter(torch.full((action_dim,), math.log(std)))

    @classmethod
    def for_family(cls, family: object, hidden: Sequence[int] = (64, 64)) -> ActorCritic:
        """An agent shaped for a task family: its observation and action sizes and scales."""
        return cls(
            family.obs_dim,  # type: ignore[attr-defined]
            family.action_dim,  # type: ignore[attr-defined]
            discrete=family.discrete,  # type: ignore[attr-defined]
            hidden=hidden,
            action_scale=getattr(family, "action_scale", 1.0),
            value_scale=getattr(family, "value_scale", 1.0),
        )

    # -- batched over tasks: params [T, ...], obs [T, N, obs_dim] ----------------------------
    def head(self, params: Params, obs: torch.Tensor) -> torch.Tensor:
        """The actor's output: the Gaussian's mean or the categorical logits, ``[T, N, action_dim]``."""
        return self.actor.batched_forward(_part(params, "actor."), obs)

    def value(self, params: Params, obs: torch.Tensor) -> torch.Tensor:
        """V_θ(s) for every observation: ``[T, N]``."""
        return self.value_scale * self.critic.batched_forward(_part(params, "critic."), obs).squeeze(-1)

    def act(self, params: Params, obs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sample a ~ π_θ(· | s) from given noise: a = μ + σ·z with z ~ N(0, 1) for a Gaussian policy
        (noise ``[T, N, action_dim]``), the inverse CDF at u ~ U(0, 1) for a categorical one (noise ``[T, N]``)."""
        out = self.head(params, obs)
        if self.discrete:
            cdf = out.softmax(-1).cumsum(-1)
            return (cdf < noise.unsqueeze(-1)).sum(-1).clamp_max(self.action_dim - 1)
        return self.action_scale * (out + self._log_std(params).exp() * noise)

    def log_prob_entropy(
        self, params: Params, obs: torch.Tensor, actions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """log π_θ(a | s) and the entropy of π_θ(· | s), both ``[T, N]`` (continuous: of u = a / action_scale)."""
        out = self.head(params, obs)
        if self.discrete:
            logp = out.log_softmax(-1)
            chosen = logp.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
            return chosen, -(logp.exp() * logp).sum(-1)
        log_std = self._log_std(params)  # [T, 1, A]
        z = (actions / self.action_scale - out) * torch.exp(-log_std)
        logp = (-0.5 * z.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        entropy = (0.5 * LOG_2PI_E + log_std).sum(-1).expand_as(logp)
        return logp, entropy

    @staticmethod
    def _log_std(params: Params) -> torch.Tensor:
        return params["log_std"].clamp_min(math.log(MIN_STD)).unsqueeze(1)

    def noise_shape(self, *batch: int) -> tuple[int, ...]:
        """The shape of the noise ``act`` needs for a batch of that shape."""
        return batch if self.discrete else (*batch, self.action_dim)
