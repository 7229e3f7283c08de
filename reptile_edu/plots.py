"""The course's figures. Every label goes through ``i18n`` so plots speak the notebook's language."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import NullLocator
from torch import nn

from .episodes import Episodes
from .evaluation import Evaluation
from .i18n import method_name, plot_language, plot_text
from .inner import adapt
from .methods import History
from .models import batched_call
from .sine import SineTasks

COLORS = {"true": "#222222", "support": "#d62728", "before": "#7f7f7f", "after": "#1f77b4"}
METHOD_COLORS = {
    "Random start": "#7f7f7f",
    "Joint training": "#8c564b",
    "MAML": "#d62728",
    "FOMAML": "#ff7f0e",
    "Reptile": "#2ca02c",
}


def method_label(name: str) -> str:
    """A method's name as a plot shows it: ``i18n.method_name`` in the plot language."""
    return method_name(name, plot_language())


def _axes(ax: Axes | None, size: tuple[float, float] = (6, 3.6)) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def predict(model: nn.Module, params: dict[str, torch.Tensor] | None, x: torch.Tensor) -> np.ndarray:
    """f(θ; x) on a 1-D grid ``x``, as NumPy, for θ = ``params`` (one task, ``[1, ...]``) or the model's own."""
    device = next(model.parameters()).device
    xg = x.to(device).view(1, -1, 1)
    with torch.no_grad():
        if params is None:
            out = model(xg[0])
        else:
            out = batched_call(model, params, xg)[0]
    return out.view(-1).cpu().numpy()


def plot_sine_fit(
    model: nn.Module,
    tasks: SineTasks,
    *,
    k: int,
    eta: float,
    task: int = 0,
    steps: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One sine task: the true function, its support points, and f(θ) before and after k SGD steps (η).

    ``steps`` lists which step counts to draw (default ``(0, k)``).
    """
    ax = _axes(ax)
    device = next(model.parameters()).device
    xg, yg = tasks.grid()
    xs, ys = tasks.x[task : task + 1].to(device), tasks.y[task : task + 1].to(device)
    ax.plot(xg, yg[task, :, 0], color=COLORS["true"], lw=2, label=plot_text("true"))
    for i, s in enumerate(steps if steps is not None else (0, k)):
        if s == 0:
            ax.plot(xg, predict(model, None, xg), "--", color=COLORS["before"], label=plot_text("before"))
        else:
            params = adapt(model, xs, ys, k=s, eta=eta)
            shade = 0.35 + 0.65 * (i / max(1, len(steps or (0, k)) - 1))
            ax.plot(xg, predict(model, params, xg), color=COLORS["after"], alpha=shade, label=plot_text("after", k=s))
    ax.scatter(
        xs[0, :, 0].cpu(),
        ys[0, :, 0].cpu(),
        color=COLORS["support"],
        zorder=3,
        label=plot_text("support", k=xs.shape[1]),
    )
    ax.set_xlabel(plot_text("x"))
    ax.set_ylabel(plot_text("y"))
    ax.set_ylim(-6, 6)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Running mean over ``window`` points (shorter at the start)."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(
    histories: History | Sequence[History], *, window: int = 50, ax: Axes | None = None, log: bool = True
) -> Axes:
    """Training loss against outer step (running mean over ``window`` steps) for one or more runs."""
    ax = _axes(ax)
    for h in [histories] if isinstance(histories, History) else histories:
        ax.plot(h.step, smooth(h.loss, window), label=method_label(h.method), color=METHOD_COLORS.get(h.method))
    ax.set_xlabel(plot_text("outer_step"))
    ax.set_ylabel(plot_text("loss"))
    if log:
        ax.set_yscale("log")
    ax.set_title(plot_text("training_curve"))
    ax.legend(fontsize=8)
    return ax


def plot_training_progress(
    history: History,
    scores: Sequence[tuple[int, float]],
    *,
    score_label: str,
    ax: Axes | None = None,
    window: int = 50,
    loss_label: str | None = None,
) -> Axes:
    """A live run: the training loss (running mean over ``window`` steps; ``loss_label``, by default Reptile's
    support loss after k steps) and a held-out curve ``scores``, ``(outer step, value)`` pairs labelled
    ``score_label``, against the outer step, on a log scale."""
    ax = _axes(ax)
    if history.step:
        label = loss_label if loss_label is not None else plot_text("adapted_loss")
        ax.plot(history.step, smooth(history.loss, window), color="#2ca02c", label=label)
    if scores:
        steps, values = zip(*scores)
        ax.plot(steps, values, "o-", color=COLORS["after"], ms=3, label=score_label)
    ax.set_yscale("log")
    ax.set_xlabel(plot_text("outer_step"))
    ax.set_title(plot_text("training_curve"))
    ax.legend(fontsize=7)
    return ax


def plot_accuracy_curve(scores: Sequence[tuple], *, ways: int, ax: Axes | None = None) -> Axes:
    """Held-out accuracy in %, with the chance level 100/N. ``scores`` holds ``(outer step, accuracy in
    [0, 1])`` pairs, or ``(outer step, accuracy, half-width of its 95 % interval, K)``: then each K is a
    series of its own, with error bars."""
    ax = _axes(ax)
    if scores and len(scores[0]) >= 4:
        for i, shots in enumerate(sorted({p[3] for p in scores})):
            points = [p for p in scores if p[3] == shots]
            half = [100 * p[2] if math.isfinite(p[2]) else 0.0 for p in points]
            ax.errorbar([p[0] for p in points], [100 * p[1] for p in points], yerr=half, fmt="osD^v<>"[i % 7] + "-",
                        ms=3, lw=1, capsize=2, label=plot_text("k_shot", shots=shots))  # fmt: skip
        ax.set_ylabel(plot_text("accuracy_error_bars"), fontsize=8)
    elif scores:
        steps, acc = zip(*scores)
        ax.plot(steps, [100 * a for a in acc], "o-", color="#2ca02c", ms=3, label=plot_text("accuracy"))
    ax.axhline(100 / ways, ls="--", color="k", lw=1, label=plot_text("chance"))
    ax.set_ylim(0, 100)
    ax.set_xlabel(plot_text("outer_step"))
    if not ax.get_ylabel():
        ax.set_ylabel(plot_text("accuracy_percent"))
    ax.set_title(plot_text("adaptation"))
    ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_episode_predictions(
    episode: Episodes, predicted: torch.Tensor, *, shots: int, fig: Figure | SubFigure, max_classes: int = 10
) -> None:
    """One classification episode (``[1, ...]``): a support image of each class on top, and each class's query
    image below it, green where ``predicted`` (the query labels, ``[Q]``) is right and red where it is wrong."""
    ways = episode.x_support.shape[1] // max(1, shots)
    order = episode.y_support[0].argsort().cpu()
    q_order = episode.y_query[0].argsort().cpu()
    predicted = predicted.cpu()
    cols = min(ways, max_classes)
    axes = fig.subplots(2, cols, squeeze=False)
    for j in range(cols):
        axes[0][j].imshow(episode.x_support[0, order[j * shots], 0].cpu().numpy(), cmap="gray_r", vmin=0, vmax=1)
        qi = q_order[j]
        right = bool(predicted[qi] == episode.y_query[0, qi].cpu())
        axes[1][j].imshow(episode.x_query[0, qi, 0].cpu().numpy(), cmap="Greens" if right else "Reds", vmin=0, vmax=1)
        for a in (axes[0][j], axes[1][j]):
            a.set_xticks([])
            a.set_yticks([])
    axes[0][0].set_ylabel(plot_text("support_short"), fontsize=8)
    axes[1][0].set_ylabel(plot_text("query_short"), fontsize=8)
    fig.suptitle(plot_text("held_out"), fontsize=10)


def plot_adaptation_curves(
    evaluations: Mapping[str, Evaluation],
    *,
    metric: str = "loss",
    ax: Axes | None = None,
    log: bool = False,
    median: bool | None = None,
) -> Axes:
    """Mean query loss (or accuracy) on held-out tasks after 0 … k steps, one line per method.

    A method whose evaluation has diverged tasks says how many in its label, and its median over
    tasks is drawn beside the mean (dashed, same colour): the mean alone can be ruined by one task.
    ``median=True`` draws the median of every method, ``median=False`` of none (loss only).
    """
    ax = _axes(ax)
    for label, ev in evaluations.items():
        values = ev.loss if metric == "loss" else ev.accuracy
        if values is None:
            raise ValueError(f"metric='accuracy' needs classification evaluations; {label!r} has none.")
        name, color = method_label(label), METHOD_COLORS.get(label)
        diverged = ev.diverged if metric == "loss" else 0
        if diverged:
            name = plot_text("diverged_of", name=name, diverged=diverged, tasks=len(ev.final_per_task))
        line = ax.plot(range(len(values)), values, marker="o", ms=3, label=name, color=color)[0]
        if metric == "loss" and (median or (median is None and diverged)):
            ax.plot(
                range(len(ev.median)), ev.median, ls="--", marker="o", ms=2, mfc="none",
                color=line.get_color(), label=plot_text("median_of", name=method_label(label)),
            )  # fmt: skip
    ax.set_xlabel(plot_text("inner_step"))
    ax.set_ylabel(plot_text("mse" if metric == "loss" else "accuracy"))
    if log:
        ax.set_yscale("log")
    ax.set_title(plot_text("adaptation"))
    ax.legend(fontsize=8)
    return ax


def plot_bars(
    values: Mapping[str, float],
    *,
    errors: Mapping[str, float] | None = None,
    ylabel: str = "accuracy",
    chance: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A bar per method (``values``), with optional ± ``errors`` and a dashed chance line. ``ylabel`` is an i18n key."""
    ax = _axes(ax, (5, 3.2))
    names = list(values)
    err = [errors[n] for n in names] if errors else None
    colors = [METHOD_COLORS.get(n, "#1f77b4") for n in names]
    ax.bar([method_label(n) for n in names], [values[n] for n in names], yerr=err, capsize=4, color=colors)
    if chance is not None:
        ax.axhline(chance, ls="--", color="k", lw=1, label=plot_text("chance"))
        ax.legend(fontsize=8)
    ax.set_ylabel(plot_text(ylabel))
    return ax


def plot_against_k(
    ks: Sequence[int], series: Mapping[str, Sequence[float]], *, ylabel: str, ax: Axes | None = None, log: bool = False
) -> Axes:
    """A measured cost (time, memory) against the number of inner steps k, one line per method."""
    ax = _axes(ax, (5, 3.2))
    for label, ys in series.items():
        ax.plot(ks, ys, marker="o", label=method_label(label), color=METHOD_COLORS.get(label))
    ax.set_xlabel(plot_text("k"))
    ax.set_ylabel(plot_text(ylabel))
    ax.set_xscale("log", base=2)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return ax


def plot_character_grid(images: torch.Tensor | np.ndarray, *, row_labels: Sequence[str] | None = None) -> plt.Figure:
    """A grid of 28×28 images ``[rows, cols, 28, 28]`` drawn as one mosaic (ink dark on light paper)."""
    imgs = np.asarray(images, dtype=float)
    rows, cols, h, w = imgs.shape
    pad = 2
    mosaic = np.zeros((rows * (h + pad) - pad, cols * (w + pad) - pad))
    for r in range(rows):
        for c in range(cols):
            mosaic[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = imgs[r, c]
    scale = 0.5 if rows * cols > 60 else 0.7
    fig, ax = plt.subplots(
        figsize=(cols * scale + (2.2 if row_labels else 0.2), rows * scale + 0.2), layout="constrained"
    )
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    if row_labels is not None:
        ax.set_yticks([r * (h + pad) + h / 2 for r in range(rows)], list(row_labels), fontsize=7)
    else:
        ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    return fig


def plot_sweep(
    values: Sequence[object],
    scores: Sequence[Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    log_x: bool = False,
    log_y: bool = True,
    best: str = "min",
    cap: float | None = None,
    reference: tuple[float, str] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A measured hyperparameter sweep: for each setting in ``values`` its scores over seeds (``scores[i]``),
    drawn as the mean (line or bar) with every seed as a dot; the best mean is ringed (``best``: ``"min"``
    or ``"max"``). Numeric ``values`` give a line, any others (names of settings) bars. A score above ``cap``
    or not finite (a run that diverged) is drawn as a red ▲ at the top edge, ``cap``, and its setting is
    never the best. ``reference`` = (value, label) draws a dashed line, e.g. the score of a trivial predictor.
    ``xlabel`` and ``ylabel`` are texts (e.g. from ``plot_text``)."""
    if len(values) != len(scores) or not values:
        raise ValueError(f"values and scores must have the same, non-zero length; got {len(values)} and {len(scores)}.")
    if best not in ("min", "max"):
        raise ValueError(f"best must be 'min' or 'max'; got {best!r}.")
    ax = _axes(ax, (4.6, 3.3))
    limit = math.inf if cap is None else cap
    means = np.array([np.mean(s) if all(math.isfinite(v) and v <= limit for v in s) else np.nan for s in scores])
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    xs = np.asarray(values, dtype=float) if numeric else np.arange(len(values))
    if numeric:
        ax.plot(xs, means, "-", color=COLORS["after"], zorder=2)
    else:
        ax.bar(xs, np.nan_to_num(means), color=COLORS["after"], alpha=0.35, width=0.6)
        ax.set_xticks(xs, [str(v) for v in values], fontsize=8)
    for x, s in zip(xs, scores):
        ok = [v for v in s if math.isfinite(v) and v <= limit]
        ax.scatter(np.full(len(ok), x), ok, s=14, color=COLORS["after"], zorder=3)
        if len(ok) < len(s):
            ax.scatter([x], [cap], marker="^", s=60, color=COLORS["support"], zorder=4, clip_on=False)
    if not np.isnan(means).all():
        i = int(np.nanargmin(means) if best == "min" else np.nanargmax(means))
        ax.scatter([xs[i]], [means[i]], s=150, facecolor="none", edgecolor=COLORS["support"], lw=2, zorder=4)
    if numeric and log_x:
        ax.set_xscale("log")
    if numeric:
        ax.set_xticks(xs, [f"{v:g}" for v in values])
        ax.xaxis.set_minor_locator(NullLocator())
    if log_y:
        ax.set_yscale("log")
    if reference is not None:
        ax.axhline(reference[0], ls="--", color="k", lw=1, label=reference[1])
        ax.legend(fontsize=7)
    if cap is not None:
        ax.set_ylim(top=cap)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
