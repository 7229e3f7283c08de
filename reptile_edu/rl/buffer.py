"""The rollout buffer: what the agent saw and did in E episodes of each of T tasks, and GAE(λ).

On-policy methods (A2C, PPO) learn from a *fresh* buffer collected with the current policy and
throw it away after the update: its actions were drawn from that policy, and the policy-gradient
estimate is only right for it. (A *replay* buffer keeps old experience across many updates; it
belongs to off-policy methods such as DQN, SAC or TD3, which correct for the mismatch or do not
need to.) Every tensor here is ``[T, E, H, ...]``: tasks × episodes × steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_fraction, check_positive


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    *,
    gamma: float = 0.99,
    lam: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016) along the last dimension (time).

    δ_t = r_t + γ·V(s_{t+1})·(1 − d_t) − V(s_t),   A_t = δ_t + γλ·(1 − d_t)·A_{t+1},
    where d_t = 1 when the episode ends after step t (nothing is bootstrapped past an end, and
    nothing past the last step). Returns the advantages A and the critic's targets A + V.
    λ = 0 gives the one-step TD error, λ = 1 the Monte Carlo return minus V.
    """
    gamma = check_positive("γ (gamma)", gamma, high=1.0)
    lam = check_fraction("λ (lam)", lam)
    not_done = 1.0 - dones.float()
    next_values = torch.cat([values[..., 1:], torch.zeros_like(values[..., :1])], -1)
    deltas = rewards + gamma * next_values * not_done - values
    advantages = torch.zeros_like(deltas)
    running = torch.zeros_like(deltas[..., 0])
    for t in reversed(range(deltas.shape[-1])):
        running = deltas[..., t] + gamma * lam * not_done[..., t] * running
        advantages[..., t] = running
    return advantages, advantages + values


@dataclass
class RolloutBuffer:
    """E episodes of each of T tasks, H steps at most.

    ``obs`` ``[T, E, H, obs_dim]``, ``actions`` ``[T, E, H, action_dim]`` (or ``[T, E, H]`` for
    discrete actions), ``rewards``, ``log_probs`` (log π of the policy that acted) and ``values``
    (its critic) ``[T, E, H]``; ``dones`` is 1 at the step an episode ends; ``mask`` is 1 for
    the steps that happened (an episode that ended early leaves the rest of its row unused).
    ``advantages`` and ``targets`` are filled by ``compute_advantages``.
    """

    obs: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    dones: torch.Tensor
    mask: torch.Tensor
    log_probs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor | None = None
    targets: torch.Tensor | None = None

    @property
    def num_tasks(self) -> int:
        """T."""
        return self.rewards.shape[0]

    @property
    def episodes(self) -> int:
        """E, episodes per task."""
        return self.rewards.shape[1]

    def returns(self) -> torch.Tensor:
        """Each episode's return, the undiscounted sum of its rewards: ``[T, E]``."""
        return (self.rewards * self.mask).sum(-1)

    def compute_advantages(self, gamma: float = 0.99, lam: float = 0.95) -> RolloutBuffer:
        """Fill ``advantages`` and ``targets`` with GAE(λ); return the buffer."""
        self.advantages, self.targets = gae(self.rewards * self.mask, self.values, self.dones, gamma=gamma, lam=lam)
        return self

    def episodes_slice(self, sl: slice) -> RolloutBuffer:
        """The same buffer restricted to some of each task's episodes (a minibatch)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return RolloutBuffer(**{n: (t[:, sl] if t is not None else None) for n, t in fields.items()})
