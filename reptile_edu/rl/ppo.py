"""The actor-critic inner loop: k PPO-clip updates with learning rate η on one task's buffer.

Why PPO-clip and not plain A2C: Reptile's inner loop takes k steps on one buffer. The buffer's
actions were drawn by the policy *before* the first step; after it, the policy that would act
has changed, and A2C's gradient (∇log π·A) no longer estimates the right thing. PPO-clip
reweights each action by the ratio r = π_θ̃(a|s) / π_old(a|s) and clips r to [1 − c, 1 + c], so
the later steps stay honest and small. At the first step r = 1 and the clip is inactive: with
k = 1, PPO-clip *is* A2C (with GAE advantages).

Every loss is per task ``[T]``, a mean over the task's steps; the gradient of their sum gives
each task its own gradient, so the T tasks adapt in one batched computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._checks import check_choice, check_divides, check_fraction, check_int, check_non_negative, check_positive
from ..inner import BatchedAdam
from ..messages import message
from ..models import Params
from .buffer import RolloutBuffer
from .policy import ActorCritic


@dataclass(frozen=True)
class PPOSettings:
    """Everything of the inner loop except k and η: the clip c, the loss weights, γ and λ of GAE,
    how many of a task's episodes each step uses (``None``: all), an optional gradient-norm cap, and
    the inner optimizer: plain SGD, θ̃ ← θ̃ − η·g, or Adam with β1 = 0 as in the Reptile paper
    (``reptile_edu.inner.BatchedAdam``), θ̃ ← θ̃ − η·g/(√v̂ + 1e-8) with v̂ the bias-corrected running
    mean of g² (β2 = 0.999), a fresh state for every task and every adaptation."""

    clip: float = 0.2
    value_coef: float = 0.5
    entropy_coef: float = 0.0
    gamma: float = 0.99
    lam: float = 0.95
    batch_episodes: int | None = None
    max_grad_norm: float | None = None
    optimizer: str = "adam"

    def __post_init__(self) -> None:
        check_positive("clip", self.clip, high=1.0)
        check_positive("value_coef", self.value_coef)
        check_non_negative("entropy_coef", self.entropy_coef)
        check_positive("γ (gamma)", self.gamma, high=1.0)
        check_fraction("λ (lam)", self.lam)
        if self.batch_episodes is not None:
            check_int("batch_episodes", self.batch_episodes)
        if self.max_grad_norm is not None:
            check_positive("max_grad_norm", self.max_grad_norm)
        check_choice("optimizer", self.optimizer, ("sgd", "adam"))


#: The default inner-loop settings.
PPO_DEFAULTS = PPOSettings()


@dataclass
class LossTerms:
    """The agent's losses per task ``[T]``: policy, value (critic), entropy and the total
    policy + c·value − β·entropy that the inner loop descends."""

    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    total: torch.Tensor


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (x * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)


def normalise_advantages(advantages: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Advantages with mean 0 and standard deviation 1 within each task (over its steps)."""
    mean = _masked_mean(advantages, mask).unsqueeze(-1)
    var = _masked_mean((advantages - mean).pow(2), mask).unsqueeze(-1)
    return (advantages - mean) / (var.sqrt() + 1e-8)


def ppo_losses(
    policy: ActorCritic, params: Params, batch: RolloutBuffer, settings: PPOSettings = PPO_DEFAULTS
) -> LossTerms:
    """The PPO-clip losses of every task on its buffer, with per-task parameters θ_t ``[T, ...]``.

    L_policy = −mean min(r·Â, clip(r, 1 − c, 1 + c)·Â) with r = π_θ(a|s) / π_old(a|s) and Â the
    advantages normalised within the task; L_value = mean((V_θ(s) − R̂)/value_scale)², R̂ the GAE targets;
    total = L_policy + value_coef·L_value − entropy_coef·entropy.
    """
    if batch.advantages is None or batch.targets is None:
        raise ValueError(message("no_advantages"))
    obs, actions = batch.obs.flatten(1, 2), batch.actions.flatten(1, 2)
    mask = batch.mask.flatten(1)
    log_probs, entropy = policy.log_prob_entropy(params, obs, actions)
    values = policy.value(params, obs)
    adv = normalise_advantages(batch.advantages.flatten(1), mask)
    ratio = torch.exp(log_probs - batch.log_probs.flatten(1))
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - settings.clip, 1 + settings.clip) * adv)
    policy_loss = -_masked_mean(surrogate, mask)
    value_loss = _masked_mean(((values - batch.targets.flatten(1)) / policy.value_scale).pow(2), mask)
    ent = _masked_mean(entropy, mask)
    total = policy_loss + settings.value_coef * value_loss - settings.entropy_coef * ent
    return LossTerms(policy_loss, value_loss, ent, total)


def episode_slices(episodes: int, k: int, batch_episodes: int | None) -> list[slice]:
    """Which of a task's episodes each of the k steps uses: all, or the next ``batch_episodes`` in turn."""
    if batch_episodes is None or batch_episodes >= episodes:
        return [slice(None)] * k
    check_divides("batch_episodes", batch_episodes, episodes, of="episodes")
    return [slice((i * batch_episodes) % episodes, (i * batch_episodes) % episodes + batch_episodes) for i in range(k)]


def adapt_policy(
    policy: ActorCritic,
    params: Params,
    buffer: RolloutBuffer,
    *,
    k: int,
    eta: float,
    settings: PPOSettings = PPO_DEFAULTS,
    joint: bool = False,
) -> tuple[Params, LossTerms]:
    """θ̃: k SGD steps θ̃ ← θ̃ − η·∇L_total on each task's buffer, from per-task θ ``[T, ...]``.

    (With ``settings.optimizer == "adam"`` the steps are Adam's, β1 = 0; see ``PPOSettings``.)
    Returns θ̃ (detached, ``[T, ...]``) and the loss terms averaged over the k steps (``[T]`` each).
    ``joint=True`` is joint training: every step uses the mean gradient over the tasks, so all
    tasks share one θ (one policy for all tasks).
    """
    k = check_int("k (inner steps)", k)
    eta = check_positive("η (eta)", eta)
    names = list(params)
    theta = {n: p.detach().clone().requires_grad_(True) for n, p in params.items()}
    sums: dict[str, torch.Tensor] = {}
    adam = BatchedAdam() if settings.optimizer == "adam" else None  # a fresh state for this adaptation
    for sl in episode_slices(buffer.episodes, k, settings.batch_episodes):
        with torch.enable_grad():
            terms = ppo_losses(policy, theta, buffer.episodes_slice(sl), settings)
            grads = list(torch.autograd.grad(terms.total.sum(), [theta[n] for n in names]))
        if joint:
            grads = [g.mean(0, keepdim=True).expand_as(g) for g in grads]
        if settings.max_grad_norm is not None:
            norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads]).sum(0).sqrt()  # [T]
            scale = (settings.max_grad_norm / (norms + 1e-12)).clamp_max(1.0)
            grads = [g * scale.view(-1, *[1] * (g.dim() - 1)) for g in grads]
        if adam is not None:  # β1 = 0: the step is g / (√v̂ + 1e-8)
            grads = adam.direction(grads)
        with torch.no_grad():
            torch._foreach_add_([theta[n] for n in names], grads, alpha=-eta)
        for field in ("policy", "value", "entropy", "total"):
            value = getattr(terms, field).detach()
            sums[field] = sums[field] + value if field in sums else value
    mean = LossTerms(**{f: v / k for f, v in sums.items()})
    return {n: p.detach() for n, p in theta.items()}, mean
