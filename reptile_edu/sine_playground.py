"""Lesson 04's playground: Reptile (or FOMAML, MAML) on sine tasks, live, with sliders for k, η, ε and n.

Runs can be compared: **Reset θ** starts a new curve from the seeded θ and keeps the earlier ones
drawn beside it, each labelled with its settings; **Run** again continues the current curve (a
change of settings shows in its label after ``→``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import ipywidgets as W
import torch
from matplotlib.figure import Figure

from .episodes import TaskSource
from .evaluation import DivergedTasksWarning, evaluate
from .i18n import plot_text, tr
from .methods import DivergenceError, History, fomaml, maml
from .models import MLP
from .playground import LAYOUT, STYLE, Playground, slider
from .plots import plot_sine_fit, plot_training_progress
from .sine import SineFamily

#: The methods the playground can train, as the method switch shows them.
PLAYGROUND_METHODS = {"reptile": "Reptile", "fomaml": "FOMAML", "maml": "MAML"}
#: How many earlier curves stay drawn beside the current one.
KEEP_CURVES = 5
#: The top of the MSE axis when an evaluation blew up (its curve leaves the plot upward).
MSE_CAP = 1e3
OLD_COLORS = ("#7f7f7f", "#9467bd", "#8c564b", "#e377c2", "#bcbd22")


@dataclass
class Curve:
    """An earlier curve, kept for comparison: its legend ``label``, its ``(outer step, MSE)`` ``points``
    and the η its evaluations used."""

    label: str
    points: list[tuple[int, float]]
    eval_eta: float


class ReptilePlayground(Playground):
    """Lesson 04's playground: Reptile on sine tasks (Reptile-demo setting) with sliders for k, η, ε and n,
    a method switch (Reptile, FOMAML, MAML), an annealing toggle, and curves that can be compared.

    As in the demo, each training task has ``shots`` = 50 points and each inner step uses the next
    ``batch_size`` = 10 of them; MAML and FOMAML adapt on the same minibatches and take their outer step
    with Adam (learning rate β) on 10 more query points per task. The annealing toggle lowers ε (Reptile)
    or β (MAML, FOMAML) linearly toward 0 over each run.

    The left panel shows a fixed held-out task: its 10 support points, f(θ) and f(θ̃) after ``eval_k``
    steps of SGD; the right panel the training loss and the held-out MSE of the current curve and of up to
    five earlier ones. The evaluation uses the training η (the default) or, with that toggle off,
    ``eval_eta``; a curve keeps the η of its first run, and its label names ``eval_eta`` when it is used.
    """

    figsize = (12.5, 3.8)

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
        meta_lr: float = 1e-3,
        method: str = "reptile",
        anneal: bool = False,
        eval_at_train_eta: bool = True,
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
        self.method_switch = W.ToggleButtons(
            options=[(name, key) for key, name in PLAYGROUND_METHODS.items()], value=method,
            description=tr("method"), style={**STYLE, "button_width": "90px"},
        )  # fmt: skip
        self.meta_lr = slider(
            W.FloatLogSlider, meta_lr, label="meta_lr", base=10, min=-4, max=-1, step=0.1, readout_format=".1e"
        )
        self.anneal = W.Checkbox(anneal, description=tr("anneal"), indent=False, style=STYLE, layout=LAYOUT)
        self.eval_at_train_eta = W.Checkbox(
            eval_at_train_eta, description=tr("eval_at_train_eta"), indent=False, style=STYLE, layout=LAYOUT
        )
        self.clear_button = W.Button(description=tr("clear"), icon="eraser")
        self.clear_button.on_click(self.clear)
        self.method_switch.observe(self._method_changed, names="value")
        self._method_changed()
        self.old_curves: list[Curve] = []
        self.curve_settings: list[str] = []  # the current curve's label: one entry per change of settings
        self.curve_eval_eta: float | None = None  # the η of the current curve's evaluations, fixed at its first run
        self.reset()

    # -- controls -------------------------------------------------------------------------------
    def extra_sliders(self) -> list[W.Widget]:
        return [self.method_switch]

    def more_controls(self) -> list[W.Widget]:
        return [self.meta_lr, self.anneal, self.eval_at_train_eta]

    def extra_buttons(self) -> list[W.Widget]:
        return [self.clear_button]

    def _method_changed(self, _change: object = None) -> None:
        """ε steers Reptile's outer step, β (Adam's learning rate) MAML's and FOMAML's: enable the one in use."""
        self.epsilon.disabled = self.method_switch.value != "reptile"
        self.meta_lr.disabled = self.method_switch.value == "reptile"

    def settings_label(self) -> str:
        """The sliders' settings as a legend shows them, e.g. ``Reptile · k=5 · η=0.02 · ε=1→0 · n=10``."""
        method = self.method_switch.value
        step_size = f"ε={self.epsilon.value:g}" if method == "reptile" else f"β={self.meta_lr.value:.0e}"
        parts = [PLAYGROUND_METHODS[method], f"k={self.k.value}", f"η={self.eta.value:.3g}"]
        parts += [step_size + ("→0" if self.anneal.value else ""), f"n={self.meta_batch.value}"]
        if not self.eval_at_train_eta.value:
            parts.append(plot_text("eval_eta", eta=self.eval_eta))
        return " · ".join(parts)

    @property
    def curve_label(self) -> str:
        """The current curve's legend: its first settings, then ``→`` and what changed at each later run."""
        return " → ".join(self.curve_settings) or self.settings_label()

    # -- curves -------------------------------------------------------------------------------
    @property
    def held_out_mse(self) -> list[tuple[int, float]]:
        """The current curve: ``(outer step, held-out MSE after eval_k steps)``."""
        return self.scores

    def reset(self, _button: object = None) -> None:
        """Re-initialise θ (seeded) and start a new curve; a curve that was trained stays drawn beside it."""
        if getattr(self, "history", None) is not None and self.history.step:
            kept = Curve(self.curve_label, list(self.scores), self.current_eval_eta())
            self.old_curves = [*self.old_curves, kept][-KEEP_CURVES:]
        self.curve_settings, self.curve_eval_eta = [], None
        super().reset()

    def clear(self, _button: object = None) -> None:
        """Forget the earlier curves (the current one stays)."""
        self.old_curves = []
        self.render()

    def _snapshot(self) -> tuple:
        return (super()._snapshot(), list(self.curve_settings), self.curve_eval_eta, list(self.scores))

    def _restore(self, snapshot: tuple) -> None:
        base, settings, eval_eta, scores = snapshot
        super()._restore(base)
        self.curve_settings, self.curve_eval_eta, self.scores[:] = settings, eval_eta, scores

    # -- training and evaluation ----------------------------------------------------------------
    def build(self) -> MLP:
        return MLP.preset("reptile").to(self.device)

    def source(self) -> TaskSource:
        return self.family

    def current_eval_eta(self) -> float:
        """The η of the held-out evaluation: the current curve's, else the training η or ``eval_eta``."""
        if self.curve_eval_eta is not None:
            return self.curve_eval_eta
        return self.eta.value if self.eval_at_train_eta.value else self.eval_eta

    def score(self) -> float:
        """Mean query MSE over 50 held-out tasks after ``eval_k`` SGD steps of the evaluation η on 10 shots.

        Tasks that blow up while adapting are not announced with a warning here (the curve shows them);
        ``evaluate`` leaves NaN or infinite tasks out of the mean.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergedTasksWarning)
            return evaluate(self.model, self.eval_episodes, k=self.eval_k, eta=self.current_eval_eta()).final

    def meta_train(self, steps: int, callback: Callable[[int, float], bool], **options: object) -> History:
        """Train with the method of the switch; the curve's first run fixes its evaluation η and method."""
        method = self.method_switch.value
        if not self.history.step:
            self.curve_eval_eta = self.eta.value if self.eval_at_train_eta.value else self.eval_eta
            self.history.method = PLAYGROUND_METHODS[method]
            self.scores[:] = [self.point(0)]
        label = self.settings_label()
        if not self.curve_settings:
            self.curve_settings.append(label)
        elif self.curve_settings[-1] != label:  # settings changed on this curve: "→" and what changed
            before = set(" · ".join(self.curve_settings).split(" · "))
            self.curve_settings.append(" · ".join(p for p in label.split(" · ") if p not in before) or label)
        if method == "reptile":
            return super().meta_train(steps, callback, anneal=self.anneal.value, **options)
        train = fomaml if method == "fomaml" else maml
        return train(
            self.model, self.source(), steps=steps, k=self.k.value, eta=self.eta.value, meta_lr=self.meta_lr.value,
            meta_batch=self.meta_batch.value, batch_size=self.batch_size, anneal=self.anneal.value,
            generator=self.generator, progress=False, callback=callback,
        )  # fmt: skip

    def divergence_message(self, err: DivergenceError) -> str:
        if self.method_switch.value == "reptile":
            return super().divergence_message(err)
        return tr("diverged_maml", step=err.step, value=err.value, eta=self.eta.value, meta_lr=self.meta_lr.value)

    def finished_message(self, history: History, seconds: float) -> str:
        return tr(
            "done", step=len(history), seconds=seconds, k_eval=self.eval_k, eta_eval=self.current_eval_eta(),
            mse=self.scores[-1][1],
        )  # fmt: skip

    # -- the figure -------------------------------------------------------------------------------
    def draw(self, fig: Figure) -> None:
        left, right = fig.subplots(1, 2, width_ratios=[1, 1.15])
        eta = self.current_eval_eta()
        plot_sine_fit(self.model, self.task, k=self.eval_k, eta=eta, ax=left)
        left.set_title(plot_text("held_out") + f" · η = {eta:g}")
        for i, old in enumerate(self.old_curves):
            steps, mses = zip(*old.points)
            right.plot(steps, mses, "o-", ms=2, lw=1, alpha=0.8, color=OLD_COLORS[i % len(OLD_COLORS)], label=old.label)
        loss = "adapted_loss" if self.history.method == "Reptile" else "query_loss_after_k"
        plot_training_progress(
            self.history, self.scores, score_label=self.curve_label, ax=right, loss_label=plot_text(loss)
        )
        values = [m for c in self.old_curves for _, m in c.points] + [m for _, m in self.scores]
        if any(m > MSE_CAP for m in values if m == m):  # one blown-up evaluation would squash every other curve
            right.set_ylim(top=MSE_CAP)
        right.set_title(plot_text("held_out_mse", k=self.eval_k), fontsize=10)
        right.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1))
