"""Reptile for reinforcement learning (lesson 08): task families, an episode runner, rollout
buffers with GAE(λ), an actor-critic (PPO-clip) inner loop, and Reptile's outer step.

Symbols as in the rest of the course: k inner updates, η inner learning rate, ε meta step size,
n tasks per meta-batch, θ the meta-learned initialisation, θ̃ after adapting to one task;
E episodes per task, H steps per episode, γ the discount and λ of GAE(λ).
"""

from .buffer import RolloutBuffer, gae
from .cartpole import CartPoleFamily, cartpole_step, set_cartpole_task
from .evaluation import AdaptationReturns, adaptation_returns
from .family import EnvBatch, TaskFamily
from .gym_family import GymFamily
from .meta import RLHistory, joint_rl, reptile_rl
from .navigation import PointNavigation
from .policy import ActorCritic
from .ppo import LossTerms, PPOSettings, adapt_policy, ppo_losses
from .runner import collect, collect_per_task, draw_noise, per_task

__all__ = [
    "ActorCritic",
    "AdaptationReturns",
    "CartPoleFamily",
    "EnvBatch",
    "GymFamily",
    "LossTerms",
    "PPOSettings",
    "PointNavigation",
    "RLHistory",
    "RolloutBuffer",
    "TaskFamily",
    "adapt_policy",
    "adaptation_returns",
    "cartpole_step",
    "collect",
    "collect_per_task",
    "draw_noise",
    "gae",
    "joint_rl",
    "per_task",
    "ppo_losses",
    "reptile_rl",
    "set_cartpole_task",
]
