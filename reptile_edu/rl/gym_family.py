"""Any ``gymnasium.Env`` as a task family: the environment, plus a function that sets one task.

Gymnasium is the common interface of reinforcement-learning environments. To meta-learn over
your own environment, give three things::

    family = GymFamily(
        make_env=lambda: gymnasium.make("CartPole-v1"),       # a fresh environment
        set_task=set_pole,                                   # set_task(env, {"pole half-length": 0.7})
        parameters={"pole half-length": (0.25, 1.0)},        # task parameters, drawn uniformly
    )

For T tasks × E episodes the family builds one ``gymnasium.vector.SyncVectorEnv`` of T·E copies,
calls ``set_task`` on each copy's ``env.unwrapped`` with its task's parameters, and steps them
together. Each copy runs one episode (the runner ignores what follows its end). Observations
must be a flat ``Box``; actions a ``Discrete`` or a flat ``Box`` (continuous actions are clipped
to the box before they reach the environment).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import gymnasium
import numpy as np
import torch

from .._checks import check_int
from .family import EnvBatch, check_tasks

SetTask = Callable[[gymnasium.Env, dict[str, float]], None]


def _spaces(env: gymnasium.Env) -> tuple[gymnasium.spaces.Space, gymnasium.spaces.Space]:
    return env.observation_space, env.action_space


def _make(make_env: Callable[[], object]) -> gymnasium.Env:
    if isinstance(make_env, gymnasium.Env) or not callable(make_env):
        raise TypeError(
            "make_env must be a function that returns a new environment, e.g. "
            f"lambda: gymnasium.make('CartPole-v1'); got {type(make_env).__name__}."
        )
    env = make_env()
    if not isinstance(env, gymnasium.Env):
        missing = [a for a in ("reset", "step", "observation_space", "action_space") if not hasattr(env, a)]
        lacks = f" (it has no {', '.join(missing)})" if missing else ""
        raise TypeError(
            f"make_env() returned a {type(env).__name__}, which does not follow the gymnasium API{lacks}: "
            "the environment must be a gymnasium.Env subclass with reset(), step(), observation_space and action_space."
        )
    return env


class GymFamily:
    """A task family over a gymnasium environment. ``parameters`` maps each task parameter's name to
    the (low, high) range it is drawn from; ``set_task(env, params)`` applies one task's values.

    ``horizon`` is the longest episode (default: the environment's ``max_episode_steps``).
    ``value_scale`` is the size of a typical return (the critic's unit; see ``ActorCritic``).
    """

    def __init__(
        self,
        make_env: Callable[[], gymnasium.Env],
        set_task: SetTask,
        parameters: dict[str, tuple[float, float]],
        *,
        horizon: int | None = None,
        value_scale: float = 1.0,
        name: str = "gymnasium",
    ) -> None:
        if not callable(set_task):
            raise TypeError(f"set_task must be a function set_task(env, params); got {type(set_task).__name__}.")
        if not isinstance(parameters, dict) or not parameters:
            raise ValueError("parameters must be a non-empty dict {name: (low, high)}.")
        for key, value in parameters.items():
            try:
                low, high = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"parameters[{key!r}] must be a range (low, high); got {value!r}.") from None
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"parameters[{key!r}] must be a finite range with low ≤ high; got {value!r}.")
        self.make_env, self.set_task, self.name = make_env, set_task, name
        self.parameters = {k: (float(v[0]), float(v[1])) for k, v in parameters.items()}
        self.task_parameters = tuple(self.parameters)
        self.value_scale = float(value_scale)
        env = _make(make_env)
        try:
            obs_space, act_space = _spaces(env)
            if horizon is None:
                horizon = getattr(env.spec, "max_episode_steps", None) if env.spec is not None else None
                if horizon is None:
                    raise ValueError("the environment has no max_episode_steps: give GymFamily(..., horizon=H).")
        finally:
            env.close()
        self.horizon = check_int("horizon", horizon)
        self.observation_space, self.action_space = obs_space, act_space
        if not isinstance(obs_space, gymnasium.spaces.Box) or len(obs_space.shape) != 1:
            raise ValueError(f"the observation space must be a flat Box; got {obs_space}.")
        self.obs_dim = int(obs_space.shape[0])
        if isinstance(act_space, gymnasium.spaces.Discrete):
            self.discrete, self.action_dim, self.action_scale = True, int(act_space.n), 1.0
        elif isinstance(act_space, gymnasium.spaces.Box) and len(act_space.shape) == 1:
            self.discrete, self.action_dim = False, int(act_space.shape[0])
            bound = np.abs(np.concatenate([act_space.low, act_space.high]))
            self.action_scale = float(bound.max()) if np.isfinite(bound).all() else 1.0
        else:
            raise ValueError(f"the action space must be Discrete or a flat Box; got {act_space}.")

    def sample_tasks(self, num_tasks: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """T tasks ``[T, P]``, each parameter uniform in its range (columns in ``task_parameters`` order)."""
        num_tasks = check_int("num_tasks", num_tasks)
        low = torch.tensor([r[0] for r in self.parameters.values()])
        high = torch.tensor([r[1] for r in self.parameters.values()])
        return low + (high - low) * torch.rand(num_tasks, len(low), generator=generator)

    def make(
        self,
        tasks: torch.Tensor,
        episodes: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> GymBatch:
        """T·E environments, each set to its task; reset seeds come from ``generator``."""
        tasks = check_tasks(tasks, len(self.parameters), f"tasks ({', '.join(self.task_parameters)})")
        return GymBatch(self, tasks, check_int("episodes", episodes), generator, torch.device(device))


class GymBatch(EnvBatch):
    """T tasks × E episodes of a gymnasium environment, as one ``SyncVectorEnv``."""

    def __init__(
        self,
        family: GymFamily,
        tasks: torch.Tensor,
        episodes: int,
        generator: torch.Generator | None,
        device: torch.device,
    ) -> None:
        self.family, self.device, self.shape = family, device, (tasks.shape[0], episodes)
        count = tasks.shape[0] * episodes
        self.seeds = torch.randint(0, 2**31 - 1, (count,), generator=generator).tolist()
        self.vec = gymnasium.vector.SyncVectorEnv([lambda: _make(family.make_env)] * count)
        try:
            for i, env in enumerate(self.vec.envs):
                self._set(env, i // episodes, tasks)
        except BaseException:
            self.vec.close()
            raise

    def _set(self, env: gymnasium.Env, t: int, tasks: torch.Tensor) -> None:
        values = dict(zip(self.family.task_parameters, tasks[t].tolist()))
        try:
            self.family.set_task(env.unwrapped, values)
        except Exception as err:
            raise ValueError(f"set_task raised {type(err).__name__}: {err} (task {t}, parameters {values}).") from err
        obs_space, act_space = _spaces(env.unwrapped)
        if obs_space != self.family.observation_space or act_space != self.family.action_space:
            raise ValueError(
                f"task {t} ({values}) changed the environment's spaces: observation space {obs_space} and "
                f"action space {act_space}, but the family was built with {self.family.observation_space} and "
                f"{self.family.action_space}. Every task must keep the same spaces."
            )

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        out = torch.as_tensor(np.asarray(array, dtype=np.float32), device=self.device)
        return out.view(*self.shape, *out.shape[1:])

    def reset(self) -> torch.Tensor:
        obs, _ = self.vec.reset(seed=self.seeds)
        return self._tensor(obs)

    def step(self, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        a = action.detach().flatten(0, 1).cpu().numpy()
        if self.family.discrete:
            a = a.astype(np.int64)
        else:
            space = self.family.action_space
            a = np.clip(a, space.low, space.high).astype(space.dtype)
        obs, reward, terminated, truncated, _ = self.vec.step(a)
        ended = torch.as_tensor(np.logical_or(terminated, truncated), device=self.device).view(self.shape)
        return self._tensor(obs), self._tensor(reward), ended

    def close(self) -> None:
        self.vec.close()
