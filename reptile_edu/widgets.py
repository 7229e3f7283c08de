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

from .algorithms import DivergenceError, History, adapt, evaluate, reptile
from .i18n import plot_text, tr
from .models import MLP
from .plots import COLORS, predict, smooth
from .runtime import pick_device
from .tasks import SineFamily

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
        from .episodes import EpisodeSampler

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
