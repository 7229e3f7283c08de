"""Lesson 04's playground: Reptile on sine tasks, live, with sliders for k, η, ε and n."""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from .episodes import TaskSource
from .evaluation import evaluate
from .i18n import plot_text, tr
from .methods import History
from .models import MLP
from .playground import Playground
from .plots import plot_sine_fit, plot_training_progress
from .sine import SineFamily


class ReptilePlayground(Playground):
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
        super().__init__(
            k=k, k_max=32, eta=eta, eta_min_exp=-3, epsilon=epsilon, meta_batch=meta_batch, n_max=50, steps=steps,
            update_every=update_every, batch_size=batch_size, seed=seed, device=device,
        )  # fmt: skip
        self.family = SineFamily("reptile", shots=shots)
        self.eval_k, self.eval_eta = eval_k, eval_eta
        held_out = SineFamily("reptile", shots=10, queries=100)
        g = torch.Generator().manual_seed(10_000 + seed)
        self.task = held_out.sample(1, 10, g)  # the task drawn in the figure
        self.eval_episodes = held_out.episodes(50, g, self.device)  # the tasks behind the MSE number
        self.reset()

    @property
    def held_out_mse(self) -> list[tuple[int, float]]:
        """The curve: ``(outer step, held-out MSE after eval_k steps)``."""
        return self.scores

    def build(self) -> MLP:
        return MLP.preset("reptile").to(self.device)

    def source(self) -> TaskSource:
        return self.family

    def score(self) -> float:
        """Mean query MSE over 50 held-out tasks after ``eval_k`` SGD steps of ``eval_eta`` on 10 shots."""
        return evaluate(self.model, self.eval_episodes, k=self.eval_k, eta=self.eval_eta).final

    def finished_message(self, history: History, seconds: float) -> str:
        return tr("done", step=len(history), seconds=seconds, k_eval=self.eval_k, mse=self.scores[-1][1])

    def draw(self, fig: Figure) -> None:
        left, right = fig.subplots(1, 2)
        plot_sine_fit(self.model, self.task, k=self.eval_k, eta=self.eval_eta, ax=left)
        left.set_title(plot_text("held_out"))
        plot_training_progress(
            self.history, self.scores, score_label=plot_text("held_out_mse", k=self.eval_k), ax=right
        )
