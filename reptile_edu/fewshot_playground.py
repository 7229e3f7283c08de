"""Lesson 06's playground: Reptile on N-way K-shot character episodes, live, with sliders for k, η, ε, N and K."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .evaluation import evaluate
from .i18n import plot_text, tr
from .inner import adapt
from .methods import DivergenceError, History, reptile
from .playground import LAYOUT, STYLE, TrainingPanel
from .runtime import pick_device


class FewShotPlayground(TrainingPanel):
    """Lesson 06's playground: Reptile on N-way K-shot character episodes, with sliders for k, η, ε, N and K.

    Meta-trains ``ConvNet`` on the meta-training alphabets of ``characters`` with the recipe of
    ``benchmarks/fewshot.py`` (``train_shots`` = 10 examples per class, rotations as new classes,
    inner minibatches of ``batch_size`` = 10); K sets the shots of the held-out episodes. The figure shows
    the held-out accuracy (meta-test alphabets, fixed seeded episodes) against the outer step,
    and one held-out episode: its support images and the predictions on its query images
    after adaptation (green right, red wrong). Changing N starts a new network (the output
    layer has N units).
    """

    def __init__(
        self,
        characters: object,
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
        super().__init__(steps, update_every)
        self.characters = characters
        self.device = pick_device(device)
        self.seed, self.channels = seed, channels
        self.inner_optimizer, self.eval_k, self.eval_tasks = inner_optimizer, eval_k, eval_tasks
        self.train_shots, self.batch_size = train_shots, batch_size
        self.ways = W.IntSlider(
            ways, 2, 20, description=tr("ways"), continuous_update=False, style=STYLE, layout=LAYOUT
        )
        self.shots = W.IntSlider(
            shots, 1, 10, description=tr("shots"), continuous_update=False, style=STYLE, layout=LAYOUT
        )
        self._meta_sliders(k, 20, eta, -4, epsilon, meta_batch, 20)
        self.reset()

    def sliders(self) -> list[W.Widget]:
        return [self.ways, self.shots, self.k, self.eta, self.epsilon, self.meta_batch]

    def _samplers(self) -> tuple[object, object]:
        from .sampler import EpisodeSampler

        cs = self.characters
        ways = self.ways.value
        train = EpisodeSampler(cs.split("train"), ways=ways, shots=self.train_shots, queries=1, rotations=True)  # type: ignore[attr-defined]
        test = EpisodeSampler(cs.split("test"), ways=ways, shots=self.shots.value, queries=1)  # type: ignore[attr-defined]
        return train, test

    def reset(self, _button: object = None) -> None:
        """A fresh seeded network for the current N, fixed held-out episodes, empty curves."""
        from .models import ConvNet

        torch.manual_seed(self.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.model = ConvNet(self.ways.value, channels=self.channels).to(self.device)
        self._built_for = (self.ways.value, self.shots.value)
        self.train_sampler, test_sampler = self._samplers()
        self.test_episodes = test_sampler.episodes(self.eval_tasks, torch.Generator().manual_seed(10_000), self.device)
        self.history = History("Reptile")
        self.accuracy: list[tuple[int, float]] = [(0, self.evaluate())]
        self.error = None
        self.status.value = tr("ready")
        self.render()

    def curve(self) -> list[tuple[int, float]]:
        return self.accuracy

    def evaluate(self) -> float:
        """Mean query accuracy on the fixed held-out episodes after ``eval_k`` inner steps."""
        try:
            ev = evaluate(
                self.model, self.test_episodes, k=self.eval_k, eta=self.eta.value, inner_optimizer=self.inner_optimizer
            )
        except DivergenceError:
            return float("nan")
        return ev.accuracy[-1] if ev.accuracy else float("nan")

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        if self._built_for != (self.ways.value, self.shots.value):
            self.reset()  # a new N (or K) needs a new output layer and new held-out episodes
        cb, finish = self._recorder(callback)

        h = reptile(
            self.model, self.train_sampler, steps=steps, k=self.k.value, eta=self.eta.value,
            epsilon=self.epsilon.value, meta_batch=self.meta_batch.value, inner_optimizer=self.inner_optimizer,
            batch_size=self.batch_size, generator=self.generator, progress=False, callback=cb,
        )  # fmt: skip
        finish(len(h))
        return h

    def finished_message(self, history: History, seconds: float) -> str:
        return tr(
            "done_fewshot", step=len(history), seconds=seconds, ways=self.ways.value, shots=self.shots.value,
            accuracy=100 * self.accuracy[-1][1],
        )  # fmt: skip

    def figure(self) -> Figure:
        ways = self.test_episodes.x_support.shape[1] // max(1, self._built_for[1])
        fig = Figure(figsize=(10, 3.4), layout="constrained")
        left, right = fig.subfigures(1, 2, width_ratios=[1, 1.3])
        ax = left.subplots()
        steps, acc = zip(*self.accuracy)
        ax.plot(steps, [100 * a for a in acc], "o-", color="#2ca02c", ms=3, label=plot_text("accuracy"))
        ax.axhline(100 / ways, ls="--", color="k", lw=1, label=plot_text("chance"))
        ax.set_ylim(0, 100)
        ax.set_xlabel(plot_text("outer_step"))
        ax.set_ylabel(plot_text("accuracy") + " (%)")
        ax.set_title(plot_text("adaptation"))
        ax.legend(fontsize=7, loc="lower right")
        ep = self.test_episodes.task(0)
        try:
            params = adapt(
                self.model, ep.x_support, ep.y_support, k=self.eval_k, eta=self.eta.value, loss="ce",
                inner_optimizer=self.inner_optimizer,
            )  # fmt: skip
            from .models import batched_call

            with torch.no_grad():
                pred = batched_call(self.model, params, ep.x_query).argmax(-1)[0].cpu()
        except ValueError:
            pred = torch.full((ep.x_query.shape[1],), -1)
        order = ep.y_support[0].argsort().cpu()
        q_order = ep.y_query[0].argsort().cpu()
        cols = min(ways, 10)
        axes = right.subplots(2, cols, squeeze=False)
        for j in range(cols):
            s_img = ep.x_support[0, order[j * self._built_for[1]], 0].cpu().numpy()
            axes[0][j].imshow(s_img, cmap="gray_r", vmin=0, vmax=1)
            qi = q_order[j]
            right_answer = bool(pred[qi] == ep.y_query[0, qi].cpu())
            axes[1][j].imshow(
                ep.x_query[0, qi, 0].cpu().numpy(), cmap="Greens" if right_answer else "Reds", vmin=0, vmax=1
            )
            for a in (axes[0][j], axes[1][j]):
                a.set_xticks([])
                a.set_yticks([])
        axes[0][0].set_ylabel(plot_text("support_short"), fontsize=8)
        axes[1][0].set_ylabel(plot_text("query_short"), fontsize=8)
        right.suptitle(plot_text("held_out"), fontsize=10)
        return fig
