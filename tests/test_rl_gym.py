"""The gymnasium adapter (reptile_edu.rl.GymFamily): an environment defined here, CartPole, bad input."""

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces

from reptile_edu.rl import ActorCritic, CartPoleFamily, GymFamily, collect, reptile_rl


class Line(gymnasium.Env):
    """A point on a line must reach a hidden target: obs x, action −1/0/+1 moves by `speed`,
    reward −|x − target| after the move. Task parameters: target and speed."""

    def __init__(self, max_speed=1.0):
        self.observation_space = spaces.Box(-10.0, 10.0, (1,), np.float32)
        self.action_space = spaces.Discrete(3)
        self.target, self.speed, self.x = 0.0, 0.1, 0.0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-0.01, 0.01))
        return np.array([self.x], np.float32), {}

    def step(self, action):
        self.x += self.speed * (int(action) - 1)
        return np.array([self.x], np.float32), -abs(self.x - self.target), False, False, {}


def set_line(env, params):
    env.target, env.speed = params["target"], params["speed"]


def line_family(**kwargs):
    kwargs.setdefault("horizon", 6)
    return GymFamily(Line, set_line, {"target": (-1.0, 1.0), "speed": (0.1, 0.2)}, **kwargs)


def test_the_adapter_runs_an_environment_defined_here_with_each_tasks_parameters():
    family = line_family()
    assert (family.obs_dim, family.action_dim, family.discrete, family.horizon) == (1, 3, True, 6)
    tasks = torch.tensor([[0.5, 0.1], [-0.5, 0.2]])
    torch.manual_seed(0)
    policy = ActorCritic.for_family(family)
    buf = collect(policy, family, tasks, episodes=3, generator=torch.Generator().manual_seed(0))
    assert buf.obs.shape == (2, 3, 6, 1) and buf.actions.shape == (2, 3, 6)
    moves = buf.obs[:, :, 1:, 0] - buf.obs[:, :, :-1, 0]
    speed = tasks[:, 1].view(2, 1, 1)
    assert torch.allclose(moves, speed * (buf.actions[:, :, :-1] - 1), atol=1e-6)  # each task's own speed
    after = buf.obs[:, :, :, 0] + speed * (buf.actions - 1)
    assert torch.allclose(buf.rewards, -(after - tasks[:, 0].view(2, 1, 1)).abs(), atol=1e-6)  # own target
    assert buf.mask.all() and torch.equal(buf.dones[..., -1], torch.ones(2, 3))
    again = collect(policy, family, tasks, episodes=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(buf.obs, again.obs)  # seeded: reset seeds and actions come from the generator


def test_meta_training_runs_on_a_gymnasium_family():
    family = line_family()
    torch.manual_seed(0)
    policy = ActorCritic.for_family(family)
    h = reptile_rl(policy, family, steps=2, k=2, eta=0.1, meta_batch=2, episodes=2, progress=False)
    assert len(h.loss) == 2


def test_torch_cartpole_follows_gymnasiums_cartpole():
    family = CartPoleFamily()
    tasks = family.sample_tasks(3, torch.Generator().manual_seed(0))
    gym_batch = family.gymnasium().make(tasks, 2, torch.Generator().manual_seed(1))
    torch_batch = family.make(tasks, 2, torch.Generator().manual_seed(1))
    assert torch.allclose(gym_batch.reset(), torch_batch.reset())  # the same start states from the same generator
    actions, alive, steps = torch.Generator().manual_seed(2), torch.ones(3, 2, dtype=torch.bool), 0
    while alive.any():
        a = torch.randint(0, 2, (3, 2), generator=actions)
        obs_g, reward_g, end_g = gym_batch.step(a)
        obs_t, reward_t, end_t = torch_batch.step(a)
        assert torch.allclose(obs_g[alive], obs_t[alive], atol=1e-5)
        assert torch.equal(end_g & alive, end_t & alive) and torch.equal(reward_g[alive], reward_t[alive])
        alive &= ~end_g
        steps += 1
    gym_batch.close()
    assert steps > 10


def test_a_policy_collects_the_same_episodes_on_torch_and_on_gymnasium_cartpole():
    family = CartPoleFamily(horizon=100)
    torch.manual_seed(0)
    policy = ActorCritic.for_family(family)
    tasks = family.sample_tasks(2, torch.Generator().manual_seed(0))
    ours = collect(policy, family, tasks, episodes=3, generator=torch.Generator().manual_seed(5))
    theirs = collect(policy, family.gymnasium(), tasks, episodes=3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(ours.returns(), theirs.returns()) and torch.equal(ours.mask, theirs.mask)
    live = ours.mask.bool()
    assert torch.allclose(ours.obs[live], theirs.obs[live], atol=1e-4)


def test_an_object_that_is_not_a_gymnasium_env_is_refused():
    class NotAnEnv:
        def reset(self):
            return 0

    with pytest.raises(TypeError, match=r"does not follow the gymnasium API \(it has no step, observation_space"):
        GymFamily(NotAnEnv, set_line, {"target": (0, 1)}, horizon=5)
    with pytest.raises(TypeError, match="make_env must be a function that returns a new environment"):
        GymFamily(Line(), set_line, {"target": (0, 1)}, horizon=5)
    with pytest.raises(ValueError, match="has no max_episode_steps: give GymFamily"):
        GymFamily(Line, set_line, {"target": (0, 1)})


def test_a_task_function_that_raises_is_reported_with_the_task():
    def broken(env, params):
        raise KeyError("speed")

    family = GymFamily(Line, broken, {"target": (0.0, 1.0)}, horizon=4)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"set_task raised KeyError: 'speed' \(task 0, parameters \{'target'"):
        collect(ActorCritic.for_family(family), family, torch.tensor([[0.5]]), episodes=2)


def test_tasks_that_change_the_spaces_are_refused():
    def grow(env, params):
        env.action_space = spaces.Discrete(3 + int(params["extra"]))

    family = GymFamily(Line, grow, {"extra": (0.0, 2.0)}, horizon=4)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"task 1 .* changed the environment's spaces: .*Discrete\(5\)"):
        collect(ActorCritic.for_family(family), family, torch.tensor([[0.0], [2.0]]), episodes=1)


def test_a_nan_reward_from_a_gymnasium_env_is_reported():
    def poison(env, params):
        env.target = float("nan") if params["target"] > 0 else 0.0

    family = GymFamily(Line, poison, {"target": (-1.0, 1.0)}, horizon=4)
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"non-finite reward \(nan\) for task 1"):
        collect(ActorCritic.for_family(family), family, torch.tensor([[-0.5], [0.5]]), episodes=1)
