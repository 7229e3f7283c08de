"""Live widgets for the lessons: sliders, Run/Stop, progress, a figure that updates in place.

Every button callback is a plain method (``run``, ``start``, ``stop``, ``reset``,
``render``) that a test can call without a browser. Training runs in a background
thread when started from the Run button, so Stop stays clickable; ``run()`` called
directly blocks until done (that is what CI and the tests use).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import ipywidgets as W
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .i18n import tr
from .methods import DivergenceError, History

STYLE = {"description_width": "initial"}
LAYOUT = W.Layout(width="420px")


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib ``Figure`` (not pyplot) to PNG bytes."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


class TrainingPanel:
    """Run/Stop buttons, a progress bar, a status line and an image; subclasses add sliders and ``train_chunk``."""

    def __init__(self, steps: int, update_every: int) -> None:
        self.update_every = update_every
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

    # -- the parts a subclass provides ------------------------------------------------
    def sliders(self) -> list[W.Widget]:
        raise NotImplementedError

    def train(self, steps: int, callback: Callable[[int, float], bool]) -> History:
        raise NotImplementedError

    def figure(self) -> Figure:
        raise NotImplementedError

    def finished_message(self, history: History, seconds: float) -> str:
        raise NotImplementedError

    def divergence_message(self, err: DivergenceError) -> str:
        """The status line after a divergence: where, what, and which of the sliders' η and ε to lower."""
        return tr("diverged", step=err.step, value=err.value, eta=self.eta.value, epsilon=self.epsilon.value)

    def reset(self, _button: object = None) -> None:
        raise NotImplementedError

    # -- shared behaviour -------------------------------------------------------------
    def _recorder(
        self, callback: Callable[[int, float], bool]
    ) -> tuple[Callable[[int, float], bool], Callable[[int], None]]:
        """A training callback that extends ``self.history`` and adds ``(step, self.evaluate())`` to ``self.curve()``
        every ``update_every`` steps, and a ``finish(steps_run)`` that adds the last point if missing."""
        curve = self.curve()
        offset = self.history.step[-1] if self.history.step else 0

        def cb(step: int, loss: float) -> bool:
            self.history.step.append(offset + step)
            self.history.loss.append(loss)
            if step % self.update_every == 0:
                curve.append((offset + step, self.evaluate()))
            return callback(step, loss)

        def finish(steps_run: int) -> None:
            if not curve or curve[-1][0] != offset + steps_run:
                curve.append((offset + steps_run, self.evaluate()))

        return cb, finish

    def evaluate(self) -> float:
        raise NotImplementedError

    def curve(self) -> list[tuple[int, float]]:
        """The evaluation curve, ``(outer step, value)`` pairs."""
        raise NotImplementedError

    def _snapshot(self) -> tuple[dict[str, torch.Tensor], int, int]:
        state = {name: t.detach().clone() for name, t in self.model.state_dict().items()}
        return state, len(self.history.step), len(self.curve())

    def _restore(self, snapshot: tuple[dict[str, torch.Tensor], int, int]) -> None:
        state, steps, points = snapshot
        self.model.load_state_dict(state)
        del self.history.step[steps:], self.history.loss[steps:], self.curve()[points:]

    def _meta_sliders(
        self, k: int, k_max: int, eta: float, eta_min_exp: int, epsilon: float, meta_batch: int, n_max: int
    ) -> None:
        """The sliders every playground has: k, η (log scale from 10^eta_min_exp to 10), ε and n."""
        common = {"continuous_update": False, "style": STYLE, "layout": LAYOUT}
        self.k = W.IntSlider(k, 1, k_max, description=tr("k"), **common)
        self.eta = W.FloatLogSlider(
            eta, base=10, min=eta_min_exp, max=1, step=0.1, description=tr("eta"), readout_format=".3g", **common
        )
        self.epsilon = W.FloatSlider(epsilon, min=0.01, max=1.0, step=0.01, description=tr("epsilon"), **common)
        self.meta_batch = W.IntSlider(meta_batch, 1, n_max, description=tr("n"), **common)

    @property
    def widget(self) -> W.Widget:
        """The whole panel, ready to display."""
        buttons = W.HBox([self.run_button, self.stop_button, self.reset_button, self.steps])
        return W.VBox([*self.sliders(), buttons, self.progress, self.status, self.image])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def render(self) -> bytes:
        """Redraw the figure into the image widget; return the PNG bytes."""
        png = figure_png(self.figure())
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
