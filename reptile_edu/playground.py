"""The lessons' live playgrounds: sliders for k, η, ε and n, Run/Stop/Reset, progress, a figure.

``Playground`` owns everything the playgrounds share: θ (``model``), the training ``history``,
the held-out curve ``scores``, and the reset → train → evaluate cycle; it meta-trains with
``reptile`` and records history and curve as it goes. A playground subclass says only what is
particular to it: which model to build, which tasks to train on, what held-out number to
track, and what to draw (through ``reptile_edu.plots``). See ``sine_playground`` (lesson 04)
and ``fewshot_playground`` (lesson 06).

Every button callback is a plain method (``run``, ``start``, ``stop``, ``reset``, ``render``)
that a test can call without a browser. Training runs in a background thread when started from
the Run button, so Stop stays clickable; ``run()`` called directly blocks until done (that is
what CI and the tests use).
"""

from __future__ import annotations

import io
import math
import threading
import time
from collections.abc import Callable

import ipywidgets as W
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from .episodes import TaskSource
from .i18n import tr
from .methods import DivergenceError, History, reptile
from .runtime import pick_device

STYLE = {"description_width": "initial"}
LAYOUT = W.Layout(width="420px")


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib ``Figure`` (not pyplot) to PNG bytes."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def slider(kind: type[W.Widget], value: object, *args: object, label: str, **kwargs: object) -> W.Widget:
    """A slider in the playgrounds' style, labelled with the i18n text ``label``, that acts on release."""
    return kind(value, *args, description=tr(label), continuous_update=False, style=STYLE, layout=LAYOUT, **kwargs)


class Playground:
    """Reptile, live: θ, its history and a held-out curve, driven by sliders for k, η, ε and n.

    ``k_max``, ``eta_min_exp`` (η's slider runs from 10^eta_min_exp to 10) and ``n_max`` bound the
    sliders; ``batch_size`` and ``inner_optimizer`` are the inner loop's, as in ``reptile``. A
    subclass provides ``build``, ``source``, ``score``, ``draw`` and ``finished_message`` (and may
    add ``extra_sliders`` and ``needs_reset``).
    """

    method = "Reptile"
    figsize: tuple[float, float] = (10, 3.6)
    #: What ``evaluate`` records when adaptation on the held-out tasks diverges.
    diverged_score = math.inf

    def __init__(
        self,
        *,
        k: int,
        k_max: int,
        eta: float,
        eta_min_exp: int,
        epsilon: float,
        meta_batch: int,
        n_max: int,
        steps: int,
        update_every: int,
        batch_size: int | None = None,
        inner_optimizer: str = "sgd",
        seed: int = 0,
        device: str | torch.device | None = None,
    ) -> None:
        self.update_every = update_every
        self.batch_size, self.inner_optimizer = batch_size, inner_optimizer
        self.seed = seed
        self.device = pick_device(device)
        self.k = slider(W.IntSlider, k, 1, k_max, label="k")
        self.eta = slider(
            W.FloatLogSlider, eta, label="eta", base=10, min=eta_min_exp, max=1, step=0.1, readout_format=".3g"
        )
        self.epsilon = slider(W.FloatSlider, epsilon, label="epsilon", min=0.01, max=1.0, step=0.01)
        self.meta_batch = slider(W.IntSlider, meta_batch, 1, n_max, label="n")
        self.steps = W.IntText(value=steps, description=tr("steps"), style=STYLE, layout=W.Layout(width="220px"))
        self.run_button = W.Button(description=tr("run"), button_style="success", icon="play")
        self.stop_button = W.Button(description=tr("stop"), button_style="warning", icon="stop", disabled=True)
        self.reset_button = W.Button(description=tr("reset"), icon="refresh")
        self.progress = W.IntProgress(value=0, min=0, max=max(1, steps), layout=W.Layout(width="420px"))
        self.status = W.HTML(value=tr("ready"))
        self.image = W.Image(format="png")
        self.run_button.on_click(self.start)
        self.stop_button.on_click(self.stop)
        self.reset_button.on_click(self.reset)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: DivergenceError | None = None
        self.model: nn.Module
        self.history: History
        self.scores: list[tuple[int, float]] = []

    # -- what a playground provides ----------------------------------------------------
    def extra_sliders(self) -> list[W.Widget]:
        """Sliders shown before k, η, ε and n."""
        return []

    def build(self) -> nn.Module:
        """A fresh model (θ) on ``self.device``, and whatever held-out data goes with it (called seeded)."""
        raise NotImplementedError

    def source(self) -> TaskSource:
        """The meta-training tasks."""
        raise NotImplementedError

    def needs_reset(self) -> bool:
        """Whether the sliders now ask for a new model (e.g. a new number of classes); then Run resets first."""
        return False

    def score(self) -> float:
        """The held-out number the curve tracks (may raise ``DivergenceError``)."""
        raise NotImplementedError

    def draw(self, fig: Figure) -> None:
        """Draw the playground's figure (through ``reptile_edu.plots``)."""
        raise NotImplementedError

    def finished_message(self, history: History, seconds: float) -> str:
        """The status line after a run that finished."""
        raise NotImplementedError

    def more_controls(self) -> list[W.Widget]:
        """Controls shown after k, η, ε and n (a subclass may add some)."""
        return []

    def extra_buttons(self) -> list[W.Widget]:
        """Buttons shown after Run, Stop, Reset and the steps box."""
        return []

    def point(self, step: int) -> tuple:
        """The point the held-out curve gets at outer step ``step``: ``(step, evaluate())``; a subclass may
        add to it (e.g. an error bar), as long as the value stays second."""
        return (step, self.evaluate())

    def meta_train(self, steps: int, callback: Callable[[int, float], bool], **options: object) -> History:
        """Meta-train θ for ``steps`` outer steps with ``reptile`` and the sliders' k, η, ε and n (``options``
        go to ``reptile`` too); a subclass may train otherwise (another method)."""
        return reptile(
            self.model, self.source(), steps=steps, k=self.k.value, eta=self.eta.value, epsilon=self.epsilon.value,
            meta_batch=self.meta_batch.value, batch_size=self.batch_size, inner_optimizer=self.inner_optimizer,
            generator=self.generator, progress=False, callback=callback, **options,
        )  # fmt: skip

    # -- the reset / train / evaluate cycle -------------------------------------------
    def reset(self, _button: object = None) -> None:
        """Re-initialise θ (seeded), clear the history and the curve, and redraw."""
        torch.manual_seed(self.seed)
        self.generator = torch.Generator().manual_seed(self.seed)
        self.model = self.build()
        self.history = History(self.method)
        self.scores = [self.point(0)]
        self.error = None
        self.status.value = tr("ready")
        self.render()

    def evaluate(self) -> float:
        """The held-out ``score()``, or ``diverged_score`` if adaptation diverged."""
        try:
            return self.score()
        except DivergenceError:
            return self.diverged_score

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        """Meta-train θ for ``steps`` outer steps with the sliders' k, η, ε and n; extend the history and the
        curve (every ``update_every`` steps and at the end). Returns this run's own ``History``."""
        if self.needs_reset():
            self.reset()
        offset = self.history.step[-1] if self.history.step else 0
        elapsed = self.history.time[-1] if self.history.time else 0.0
        started = time.perf_counter()

        def record(step: int, loss: float) -> bool:
            self.history.step.append(offset + step)
            self.history.loss.append(loss)
            self.history.time.append(elapsed + time.perf_counter() - started)
            if step % self.update_every == 0:
                self.scores.append(self.point(offset + step))
            return callback(step, loss)

        run = self.meta_train(steps, record)
        if not self.scores or self.scores[-1][0] != offset + len(run):
            self.scores.append(self.point(offset + len(run)))
        return run

    def divergence_message(self, err: DivergenceError) -> str:
        """The status line after a divergence: where, what, and which of the sliders' η and ε to lower."""
        return tr("diverged", step=err.step, value=err.value, eta=self.eta.value, epsilon=self.epsilon.value)

    def _snapshot(self) -> tuple[dict[str, torch.Tensor], int, int]:
        state = {name: t.detach().clone() for name, t in self.model.state_dict().items()}
        return state, len(self.history.step), len(self.scores)

    def _restore(self, snapshot: tuple[dict[str, torch.Tensor], int, int]) -> None:
        state, steps, points = snapshot
        self.model.load_state_dict(state)
        del self.history.step[steps:], self.history.loss[steps:], self.history.time[steps:], self.scores[points:]

    # -- the panel ----------------------------------------------------------------------
    @property
    def widget(self) -> W.Widget:
        """The whole panel, ready to display."""
        buttons = W.HBox([self.run_button, self.stop_button, self.reset_button, self.steps, *self.extra_buttons()])
        sliders = [*self.extra_sliders(), self.k, self.eta, self.epsilon, self.meta_batch, *self.more_controls()]
        return W.VBox([*sliders, buttons, self.progress, self.status, self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def render(self) -> bytes:
        """Redraw the figure into the image widget; return the PNG bytes."""
        fig = Figure(figsize=self.figsize, layout="constrained")
        self.draw(fig)
        png = figure_png(fig)
        self.image.value = png
        return png

    def run(self, steps: int | None = None) -> History | None:
        """Train for ``steps`` outer steps (default: the steps box) with the sliders' values, blocking.

        Updates progress, figure and status as it goes. A divergence is shown in the status line
        (and kept in ``self.error``) instead of raised, and θ and the curves go back to where they were
        before this run. Returns the run's history, or ``None`` if it diverged.
        """
        total = int(steps if steps is not None else self.steps.value)
        if total < 1:
            self.status.value = tr("ready")
            return None
        self._stop.clear()
        self.error = None
        self.progress.max, self.progress.value = total, 0
        self.run_button.disabled, self.stop_button.disabled = True, False
        started = time.perf_counter()

        def callback(step: int, loss: float) -> bool:
            self.progress.value = step
            if step % self.update_every == 0 and step < total:
                self.status.value = tr("training", step=step, total=total)
                self.render()
            return not self._stop.is_set()

        history = None
        before = self._snapshot()
        try:
            history = self.train(total, callback)
        except DivergenceError as err:
            self._restore(before)  # θ and the curves as they were before this run: lower η or ε and run again
            self.error = err
            self.status.value = f"<b style='color:#b00'>{self.divergence_message(err)}</b>"
        finally:
            self.run_button.disabled, self.stop_button.disabled = False, True
        self.render()
        if history is not None:
            if history.stopped:
                self.status.value = tr("stopped", step=history.step[-1] if history.step else 0)
            else:
                self.status.value = self.finished_message(history, time.perf_counter() - started)
        return history

    def start(self, _button: object = None) -> None:
        """The Run button: train in a background thread so that Stop can be pressed."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run, daemon=True)
        self._thread.start()

    def stop(self, _button: object = None) -> None:
        """The Stop button: finish the current outer step, then stop (θ is never half-updated)."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        """Block until a run started with ``start`` has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
