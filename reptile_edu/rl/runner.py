"""The episode runner: E episodes of each of T tasks in one batched pass, into a ``RolloutBuffer``.

At every step the policy acts for all T·E episodes at once, each task with its own parameters
θ_t (``[T, ...]``); the environment batch steps them all. An episode that ends early stops
counting (its ``mask`` turns 0) while the others go on. Log-probabilities and values are then
computed for the whole buffer in one call.
"""

from __future__ import annotations

import torch

from .._checks import check_int
from ..models import Params, expand_params
from .buffer import RolloutBuffer
from .family import EnvBatch, check_family, check_tasks
from .policy import ActorCritic


def per_task(policy: ActorCritic, params: Params | None, num_tasks: int) -> Params:
    """Parameters ``[T, ...]``: the policy's own θ (detached) or ``params``, shared or already per task."""
    own = {n: p.detach() for n, p in policy.named_parameters()}
    if params is None:
        return expand_params(own, num_tasks)
    if set(params) != set(own):
        raise ValueError(f"params must have the policy's parameter names {sorted(own)}; got {sorted(params)}.")
    out = {}
    for name, p in params.items():
        if p.shape == own[name].shape:
            out[name] = p.unsqueeze(0).expand(num_tasks, *p.shape)
        elif p.shape == (num_tasks, *own[name].shape):
            out[name] = p
        else:
            raise ValueError(
                f"params[{name!r}] must have shape {tuple(own[name].shape)} or {(num_tasks, *own[name].shape)}; "
                f"got {tuple(p.shape)}."
            )
    return out


def draw_noise(
    policy: ActorCritic, num_tasks: int, episodes: int, horizon: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """All the randomness of the policy's actions for one collection: ``[T, E, H, ...]``."""
    shape = policy.noise_shape(num_tasks, episodes, horizon)
    return torch.rand(shape, generator=generator) if policy.discrete else torch.randn(shape, generator=generator)


def _check_step(tasks: torch.Tensor, step: int, obs: torch.Tensor, reward: torch.Tensor, alive: torch.Tensor) -> None:
    bad_reward = alive & ~torch.isfinite(reward)
    bad_obs = alive & ~torch.isfinite(obs.flatten(2)).all(-1)
    for bad, what in ((bad_reward, "reward"), (bad_obs, "observation")):
        if bool(bad.any()):
            t, e = (int(i) for i in bad.nonzero()[0])
            value = reward[t, e].item() if what == "reward" else obs[t, e].tolist()
            raise ValueError(
                f"the environment returned a non-finite {what} ({value}) for task {t} "
                f"(parameters {[round(v, 4) for v in tasks[t].tolist()]}), episode {e}, step {step}. "
                "Check the environment's step() for this task's parameters."
            )


def collect(
    policy: ActorCritic,
    family: object,
    tasks: torch.Tensor,
    *,
    episodes: int,
    params: Params | None = None,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
) -> RolloutBuffer:
    """Run E episodes of each of the T tasks with π_θ_t and return the buffer.

    ``params`` are the per-task parameters θ_t (``[T, ...]``), shared ones, or ``None`` for the
    policy's own θ. ``generator`` seeds the actions (and the environments' start states);
    ``noise`` (``draw_noise``) fixes the actions' randomness explicitly instead.
    """
    family = check_family(family)
    tasks = check_tasks(tasks, len(family.task_parameters), f"tasks ({', '.join(family.task_parameters)})")
    episodes = check_int("episodes", episodes)
    device = next(policy.parameters()).device
    num_tasks, horizon = tasks.shape[0], family.horizon
    theta = per_task(policy, params, num_tasks)
    env: EnvBatch = family.make(tasks, episodes, generator, device)
    if noise is None:
        noise = draw_noise(policy, num_tasks, episodes, horizon, generator)
    noise = noise.to(device)
    try:
        obs = env.reset()
        trace: dict[str, list[torch.Tensor]] = {"obs": [], "actions": [], "rewards": [], "dones": [], "mask": []}
        alive = torch.ones(num_tasks, episodes, dtype=torch.bool, device=device)
        for h in range(horizon):
            with torch.no_grad():
                action = policy.act(theta, obs, noise[:, :, h])
            next_obs, reward, ended = env.step(action)
            _check_step(tasks, h, next_obs, reward, alive)
            trace["obs"].append(obs)
            trace["actions"].append(action)
            trace["rewards"].append(torch.where(alive, reward, torch.zeros_like(reward)))
            trace["dones"].append(alive & (ended | (h == horizon - 1)))
            trace["mask"].append(alive)
            alive = alive & ~ended
            obs = next_obs
            if not bool(alive.any()):
                break
    finally:
        env.close()
    data = {name: torch.stack(values, 2) for name, values in trace.items()}
    flat_obs = data["obs"].flatten(1, 2)
    with torch.no_grad():
        flat_actions = data["actions"].flatten(1, 2)
        log_probs, _ = policy.log_prob_entropy(theta, flat_obs, flat_actions)
        values = policy.value(theta, flat_obs)
    shape = data["rewards"].shape
    return RolloutBuffer(
        obs=data["obs"],
        actions=data["actions"],
        rewards=data["rewards"],
        dones=data["dones"].float(),
        mask=data["mask"].float(),
        log_probs=log_probs.view(shape),
        values=values.view(shape),
    )


def collect_per_task(
    policy: ActorCritic,
    family: object,
    tasks: torch.Tensor,
    *,
    episodes: int,
    params: Params | None = None,
    generator: torch.Generator | None = None,
    noise: torch.Tensor,
) -> list[RolloutBuffer]:
    """The same as ``collect``, one task at a time (a plain loop, for teaching and for testing
    that batching over tasks changes nothing): one buffer per task."""
    theta = per_task(policy, params, tasks.shape[0])
    return [
        collect(
            policy,
            family,
            tasks[t : t + 1],
            episodes=episodes,
            params={n: p[t : t + 1] for n, p in theta.items()},
            generator=generator,
            noise=noise[t : t + 1],
        )
        for t in range(tasks.shape[0])
    ]
