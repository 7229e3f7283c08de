"""Lesson 08's playground: Reptile on the navigation family, live, with sliders for k, η, ε and n.

It is the course's ``Playground`` (Run/Stop/Reset, progress, status line, a figure that updates in
place) around ``reptile_rl``. The figure shows the agent's three losses per outer step, and the
mean return: of the episodes collected at θ (per outer step) and, every ``update_every`` steps,
on fixed held-out goals after one adaptation update.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from matplotlib.figure import Figure

from ..i18n import plot_text, tr
from ..methods import History
from ..playground import Playground
from .evaluation import adaptation_returns
from .meta import RLHistory, reptile_rl
from .navigation import PointNavigation
from .plots import START_COLORS, draw_training
from .policy import ActorCritic
from .ppo import PPOSettings

RL_FIELDS = ("policy_loss", "value_loss", "entropy", "mean_return")


class RLPlayground(Playground):
    """Reptile for RL on ``PointNavigation``: k PPO-clip updates (Adam, β1 = 0) of η on E episodes of each
    of n goals per outer step, θ ← θ + ε·mean(θ̃ − θ). ``held_out`` goals (seeded) measure the return
    after one adaptation update every ``update_every`` outer steps. ``horizon`` is the episodes' length
    (the MAML paper's 100; shorter only to test quickly)."""

    figsize = (10, 3.4)
    diverged_score = math.nan

    def __init__(
        self,
        *,
        k: int = 2,
        eta: float = 0.001,
        epsilon: float = 0.5,
        meta_batch: int = 10,
        steps: int = 100,
        episodes: int = 10,
        batch_episodes: int | None = 5,
        held_out: int = 20,
        horizon: int = 100,
        seed: int = 0,
        device: str | torch.device | None = None,
        update_every: int = 10,
    ) -> None:
        super().__init__(
            k=k, k_max=10, eta=eta, eta_min_exp=-4, epsilon=epsilon, meta_batch=meta_batch, n_max=20, steps=steps,
            update_every=update_every, seed=seed, device=device,
        )  # fmt: skip
        self.episodes = episodes
        self.family = PointNavigation(horizon=horizon)
        self.settings = PPOSettings(batch_episodes=batch_episodes)
        self.goals = self.family.sample_tasks(held_out, torch.Generator().manual_seed(10_000 + seed)).to(self.device)
        self.reset()

    @property
    def held_out_return(self) -> list[tuple[int, float]]:
        """The curve: ``(outer step, mean return on the held-out goals after one adaptation update)``."""
        return self.scores

    def build(self) -> ActorCritic:
        return ActorCritic.for_family(self.family).to(self.device)

    def source(self) -> PointNavigation:
        return self.family

    def reset(self, _button: object = None) -> None:
        """A fresh seeded agent (θ), empty curves."""
        super().reset()
        self.history = RLHistory(self.method)

    def score(self) -> float:
        """Mean return on the held-out goals after one adaptation update with the sliders' k and η."""
        result = adaptation_returns(
            self.model, self.family, self.goals, updates=1, k=self.k.value, eta=self.eta.value,
            episodes=self.episodes, settings=self.settings, generator=torch.Generator().manual_seed(7),
        )  # fmt: skip
        return result.mean[1]

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        """Meta-train with ``reptile_rl`` and the sliders' k, η, ε and n; extend the history (three losses,
        returns) and the held-out curve. Returns this run's own history."""
        offset = self.history.step[-1] if self.history.step else 0
        before = len(self.history.step)

        def record(step: int, loss: float) -> bool:
            if step % self.update_every == 0:
                self.scores.append((offset + step, self.evaluate()))
            return callback(step, loss)

        reptile_rl(
            self.model, self.family, steps=steps, k=self.k.value, eta=self.eta.value, epsilon=self.epsilon.value,
            meta_batch=self.meta_batch.value, episodes=self.episodes, settings=self.settings,
            generator=self.generator, progress=False, callback=record, history=self.history,
        )  # fmt: skip
        run = len(self.history.step) - before
        if run and self.scores[-1][0] != offset + run:
            self.scores.append((offset + run, self.evaluate()))
        this_run = RLHistory(self.method, step=self.history.step[before:], loss=self.history.loss[before:])
        this_run.stopped, self.history.stopped = self.history.stopped, None
        return this_run

    def _restore(self, snapshot: tuple[dict[str, torch.Tensor], int, int]) -> None:
        super()._restore(snapshot)
        kept = len(self.history.step)
        for name in RL_FIELDS:
            del getattr(self.history, name)[kept:]

    def finished_message(self, history: History, seconds: float) -> str:
        return tr("done_rl", step=len(history), seconds=seconds, ret=self.scores[-1][1])

    def draw(self, fig: Figure) -> None:
        left, right = fig.subplots(1, 2)
        draw_training(self.history, (left, right), window=5)  # type: ignore[arg-type]
        steps, returns = zip(*self.scores)
        right.plot(steps, returns, "o-", ms=3, color=START_COLORS["joint"], label=plot_text("held_out_return", u=1))
        right.plot([], [], color=START_COLORS["reptile"], label=plot_text("mean_return_at_theta"))
        right.set_title(plot_text("mean_return"))
        right.legend(fontsize=7)
