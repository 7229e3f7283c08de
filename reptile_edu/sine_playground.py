"""Lesson 04's playground: Reptile on sine tasks, live, with sliders for k, η, ε and n."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .evaluation import evaluate
from .i18n import plot_text, tr
from .inner import adapt
from .methods import DivergenceError, History, reptile
from .models import MLP
from .playground import TrainingPanel
from .plots import COLORS, predict, smooth
from .runtime import pick_device
from .sine import SineFamily


class ReptilePlayground(TrainingPanel):
    """Lesson 04's playground: Reptile on sine tasks (Reptile-demo setting) with sliders for k, η, ε and n.

    As in the demo, each training task has ``shots`` = 50 points and each inner step uses the next
    ``batch_size`` = 10 of them.

    The left panel shows a fixed held-out task: its 10 support points, f(θ) and f(θ̃) after
    ``eval_k`` steps of SGD with ``eval_eta``; the right panel the training loss and the held-out MSE.
    """

    def __init__(
        self,
        *,
        k: int = 5,
        eta: float = 0.02,
        epsilon: float = 1.0,
        meta_batch: int = 10,
        steps: int = 2000,
        shots: int = 50,
        batch_size: int | None = 10,
        eval_k: int = 32,
        eval_eta: float = 0.02,
        seed: int = 0,
        device: str | torch.device | None = None,
        update_every: int = 100,
    ) -> None:
        super().__init__(steps, update_every)
        self.device = pick_device(device)
        self.seed = seed
        self.family = SineFamily("reptile", shots=shots)
        self.batch_size = batch_size
        self.eval_k, self.eval_eta = eval_k, eval_eta
        held_out = SineFamily("reptile", shots=10, queries=100)
        g = torch.Generator().manual_seed(10_000 + seed)
        self.task = held_out.sample(1, 10, g)  # the task drawn in the figure
        self.eval_episodes = held_out.episodes(50, g, self.device)  # the tasks behind the MSE number
        self._meta_sliders(k, 32, eta, -3, epsilon, meta_batch, 50)
        self.reset()

    def sliders(self) -> list[W.Widget]:
        return [self.k, self.eta, self.epsilon, self.meta_batch]

    def reset(self, _button: object = None) -> None:
        """Re-initialise θ (seeded) and clear the curves."""
        torch.manual_seed(self.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.model = MLP.preset("reptile").to(self.device)
        self.history = History("Reptile")
        self.held_out_mse: list[tuple[int, float]] = [(0, self.evaluate())]
        self.error = None
        self.status.value = tr("ready")
        self.render()

    def curve(self) -> list[tuple[int, float]]:
        return self.held_out_mse

    def evaluate(self) -> float:
        """Mean query MSE over 50 held-out tasks after ``eval_k`` SGD steps of ``eval_eta`` on 10 shots."""
        try:
            return evaluate(self.model, self.eval_episodes, k=self.eval_k, eta=self.eval_eta).final
        except DivergenceError:
            return float("inf")

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        cb, finish = self._recorder(callback)

        h = reptile(
            self.model, self.family, steps=steps, k=self.k.value, eta=self.eta.value, epsilon=self.epsilon.value,
            meta_batch=self.meta_batch.value, batch_size=self.batch_size, generator=self.generator,
            progress=False, callback=cb,
        )  # fmt: skip
        finish(len(h))
        return h

    def finished_message(self, history: History, seconds: float) -> str:
        return tr("done", step=len(history), seconds=seconds, k_eval=self.eval_k, mse=self.held_out_mse[-1][1])

    def figure(self) -> Figure:
        fig = Figure(figsize=(10, 3.6), layout="constrained")
        left, right = fig.subplots(1, 2)
        xg, yg = self.task.grid()
        xs, ys = self.task.x.to(self.device), self.task.y.to(self.device)
        left.plot(xg, yg[0, :, 0], color=COLORS["true"], lw=2, label=plot_text("true"))
        left.plot(xg, predict(self.model, None, xg), "--", color=COLORS["before"], label=plot_text("before"))
        try:
            theta_tilde = adapt(self.model, xs, ys, k=self.eval_k, eta=self.eval_eta)
            left.plot(
                xg, predict(self.model, theta_tilde, xg), color=COLORS["after"], label=plot_text("after", k=self.eval_k)
            )
        except ValueError:
            pass
        left.scatter(
            xs[0, :, 0].cpu(), ys[0, :, 0].cpu(), color=COLORS["support"], zorder=3, label=plot_text("support", k=10)
        )
        left.set_ylim(-6, 6)
        left.set_xlabel(plot_text("x"))
        left.set_title(plot_text("held_out"))
        left.legend(loc="upper right", fontsize=7)
        if self.history.step:
            right.plot(
                self.history.step, smooth(self.history.loss, 50), color="#2ca02c", label=plot_text("adapted_loss")
            )
        steps, mses = zip(*self.held_out_mse)
        right.plot(steps, mses, "o-", color=COLORS["after"], ms=3, label=plot_text("held_out_mse", k=self.eval_k))
        right.set_yscale("log")
        right.set_xlabel(plot_text("outer_step"))
        right.set_title(plot_text("training_curve"))
        right.legend(fontsize=7)
        return fig
