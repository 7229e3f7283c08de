"""Lesson 06's playground: Reptile on N-way K-shot character episodes, live, with sliders for k, η, ε, N and K."""

from __future__ import annotations

import math
from collections.abc import Callable

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .characters import CharacterSet
from .episodes import TaskSource
from .evaluation import evaluate
from .i18n import tr
from .inner import adapt
from .methods import DivergenceError, History
from .models import ConvNet, batched_call
from .playground import Playground, slider
from .plots import plot_accuracy_curve, plot_episode_predictions
from .sampler import EpisodeSampler


class FewShotPlayground(Playground):
    """Lesson 06's playground: Reptile on N-way K-shot character episodes, with sliders for k, η, ε, N and K.

    Meta-trains ``ConvNet`` on the meta-training alphabets of ``characters`` with the recipe of
    ``benchmarks/fewshot.py`` (``train_shots`` = 10 examples per class, rotations as new classes,
    inner minibatches of ``batch_size`` = 10). K sets the shots of the held-out episodes only, so one θ can
    be tested at any K: moving the K slider tests the current θ at the new K at once, without training or
    rebuilding anything. The figure shows the held-out accuracy (meta-test alphabets, fixed seeded episodes)
    against the outer step, one series per K, with its 95 % interval over the held-out episodes as error
    bars, and one held-out episode: its support images and the predictions on its query images after
    adaptation (green right, red wrong). Changing N starts a new network (the output layer has N units).
    """

    diverged_score = math.nan
    figsize = (10, 3.4)

    def __init__(
        self,
        characters: CharacterSet,
        *,
        ways: int = 5,
        shots: int = 1,
        k: int = 5,
        eta: float = 0.1,
        epsilon: float = 1.0,
        meta_batch: int = 5,
        steps: int = 200,
        inner_optimizer: str = "sgd",
        train_shots: int = 10,
        batch_size: int | None = 10,
        eval_k: int = 5,
        eval_tasks: int = 50,
        channels: int = 64,
        seed: int = 0,
        device: str | torch.device | None = None,
        update_every: int = 25,
    ) -> None:
        super().__init__(
            k=k, k_max=20, eta=eta, eta_min_exp=-4, epsilon=epsilon, meta_batch=meta_batch, n_max=20, steps=steps,
            update_every=update_every, batch_size=batch_size, inner_optimizer=inner_optimizer, seed=seed,
            device=device,
        )  # fmt: skip
        self.characters = characters
        self.channels, self.eval_k, self.eval_tasks, self.train_shots = channels, eval_k, eval_tasks, train_shots
        self.ways = slider(W.IntSlider, ways, 2, 20, label="ways")
        self.shots = slider(W.IntSlider, shots, 1, 10, label="shots")
        self.shots.observe(self._shots_changed, names="value")
        self.reset()

    @property
    def accuracy(self) -> list[tuple[int, float, float, int]]:
        """The curve: ``(outer step, held-out accuracy after eval_k steps, half-width of its 95 % interval, K)``."""
        return self.scores  # type: ignore[return-value]

    def extra_sliders(self) -> list[W.Widget]:
        return [self.ways, self.shots]

    def build(self) -> ConvNet:
        """A fresh seeded network for the current N, and fixed held-out episodes for the current N and K."""
        ways = self.ways.value
        model = ConvNet(ways, channels=self.channels).to(self.device)
        self._built_for_ways = ways
        self.train_sampler = EpisodeSampler(
            self.characters.split("train"), ways=ways, shots=self.train_shots, queries=1, rotations=True
        )
        self._test_episodes()
        return model

    def _test_episodes(self) -> None:
        """Fixed seeded held-out episodes for the current N and K (the same for every θ)."""
        sampler = EpisodeSampler(self.characters.split("test"), ways=self.ways.value, shots=self.shots.value, queries=1)
        self.test_episodes = sampler.episodes(self.eval_tasks, torch.Generator().manual_seed(10_000), self.device)
        self._tested_shots = self.shots.value

    def needs_reset(self) -> bool:
        return self._built_for_ways != self.ways.value  # a new N needs a new output layer

    def _shots_changed(self, _change: object = None) -> None:
        """The K slider moved: test the current θ at the new K now (new held-out episodes, the same network)."""
        if self._thread is not None and self._thread.is_alive():
            return  # a run is going on: its evaluations keep their K; the next Run takes the new one
        if self.needs_reset():
            return  # a new N needs a new network first: Run (or Reset θ) builds it
        self.test_at_shots()

    def test_at_shots(self) -> tuple[float, float]:
        """Evaluate the current θ on held-out episodes with the slider's K, add the point to the curve at the
        current outer step, and return the accuracy and the half-width of its 95 % interval."""
        self._test_episodes()
        point = self.point(self.history.step[-1] if self.history.step else 0)
        self.scores.append(point)
        _, mean, half, shots = point
        self.status.value = tr("tested_at_k", ways=self.ways.value, shots=shots, accuracy=100 * mean, half=100 * half)
        self.render()
        return mean, half

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        if not self.needs_reset() and self._tested_shots != self.shots.value:
            self._test_episodes()  # a new K: new held-out episodes, the same network
        return super().train(steps, callback)

    def source(self) -> TaskSource:
        return self.train_sampler

    def score(self) -> float:
        """Mean query accuracy on the fixed held-out episodes after ``eval_k`` inner steps."""
        return self.point(0)[1]

    def point(self, step: int) -> tuple[int, float, float, int]:
        """``(outer step, accuracy, half-width of its 95 % interval over the episodes, K)`` on the held-out
        episodes, after ``eval_k`` inner steps."""
        try:
            ev = evaluate(
                self.model, self.test_episodes, k=self.eval_k, eta=self.eta.value, inner_optimizer=self.inner_optimizer
            )
            mean, half = ev.accuracy_interval()
        except DivergenceError:
            mean, half = math.nan, math.nan
        return (step, mean, half, self._tested_shots)

    def finished_message(self, history: History, seconds: float) -> str:
        _, mean, half, shots = self.accuracy[-1]
        return tr(
            "done_fewshot", step=len(history), seconds=seconds, ways=self.ways.value, shots=shots,
            accuracy=100 * mean, half=100 * half,
        )  # fmt: skip

    def draw(self, fig: Figure) -> None:
        ways, shots = self._built_for_ways, self._tested_shots
        left, right = fig.subfigures(1, 2, width_ratios=[1, 1.3])
        plot_accuracy_curve(self.scores, ways=ways, ax=left.subplots())
        ep = self.test_episodes.task(0)
        params = adapt(
            self.model, ep.x_support, ep.y_support, k=self.eval_k, eta=self.eta.value, loss="ce",
            inner_optimizer=self.inner_optimizer,
        )  # fmt: skip
        with torch.no_grad():
            predicted = batched_call(self.model, params, ep.x_query).argmax(-1)[0]
        plot_episode_predictions(ep, predicted, shots=shots, fig=right)
