"""Schedules for the meta step size ε: how ε_s changes over the outer steps s = 0 … S − 1 of a run.

A schedule is a small object: ``schedule(s, S)`` is ε_s, the step size of outer step s in a run of S
steps. Three are used in the course (Nichol et al. 2018 anneal ε linearly to 0):

* ``Constant(ε)``:             ε_s = ε
* ``Linear(ε, end=0)``:        ε_s = ε + (end − ε)·s/S               (``reptile(..., anneal=True)``)
* ``Cosine(ε, end=0)``:        ε_s = end + (ε − end)·½(1 + cos(π·s/S))

Both annealing schedules start at ε (s = 0) and stop one step short of ``end``: the last step,
s = S − 1, uses ε + (end − ε)(S − 1)/S for the linear one, as the paper's code does
(``frac_done = i / meta_iters``), so no step is wasted on ε = 0.

``reptile(..., epsilon=Cosine(1.0))`` takes a schedule wherever it takes a number; a number ε is
``Constant(ε)``. With ``outer_optimizer="adam"`` the schedule sets Adam's learning rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._checks import check_int, check_non_negative, check_positive
from .i18n import plot_text
from .messages import message


def _check_end(end: object) -> float:
    return check_non_negative("end (the final ε)", end)


@dataclass(frozen=True)
class Schedule:
    """ε_s for the outer steps s = 0 … S − 1 of a run of S steps; subclasses say how (``value``)."""

    epsilon: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "epsilon", check_positive("ε (epsilon)", self.epsilon))

    def value(self, fraction: float) -> float:
        """ε at ``fraction`` = s/S of the run (0 at the first step)."""
        raise NotImplementedError

    def __call__(self, step: int, steps: int) -> float:
        """ε_s: the step size of outer step ``step`` (0-based) in a run of ``steps`` outer steps."""
        steps = check_int("steps", steps)
        step = check_int("step", step, low=0, high=steps - 1)
        return self.value(step / steps)

    def values(self, steps: int) -> list[float]:
        """ε_0 … ε_{S−1} for a run of S = ``steps`` outer steps (e.g. to plot the schedule)."""
        return [self(s, steps) for s in range(check_int("steps", steps))]

    def label(self) -> str:
        """A short description for legends, e.g. ``ε = 1 → 0 (cosine)``, in the plot language."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.label()


@dataclass(frozen=True)
class Constant(Schedule):
    """ε_s = ε at every step."""

    def value(self, fraction: float) -> float:
        return self.epsilon

    def label(self) -> str:
        return f"ε = {self.epsilon:g}"


@dataclass(frozen=True)
class Linear(Schedule):
    """ε_s = ε + (end − ε)·s/S: a straight line from ε toward ``end`` (the paper's annealing, end = 0)."""

    end: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "end", _check_end(self.end))

    def value(self, fraction: float) -> float:
        return self.epsilon + (self.end - self.epsilon) * fraction

    def label(self) -> str:
        return f"ε = {self.epsilon:g} → {self.end:g} ({plot_text('schedule_linear')})"


@dataclass(frozen=True)
class Cosine(Schedule):
    """ε_s = end + (ε − end)·½(1 + cos(π·s/S)): flat at first, steepest mid-run, flat again near ``end``."""

    end: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "end", _check_end(self.end))

    def value(self, fraction: float) -> float:
        return self.end + (self.epsilon - self.end) * 0.5 * (1 + math.cos(math.pi * fraction))

    def label(self) -> str:
        return f"ε = {self.epsilon:g} → {self.end:g} ({plot_text('schedule_cosine')})"


#: The schedules by name, e.g. for a widget: ``SCHEDULES["cosine"](1.0)``.
SCHEDULES: dict[str, type[Schedule]] = {"constant": Constant, "linear": Linear, "cosine": Cosine}


def as_schedule(epsilon: float | Schedule, *, anneal: bool = False) -> Schedule:
    """The schedule a training loop follows: ``epsilon`` if it is one, else ``Constant(ε)``, or ``Linear(ε)``
    with ``anneal=True`` (the paper's annealing to 0). ``anneal=True`` with a schedule is an error."""
    if isinstance(epsilon, Schedule):
        if anneal:
            raise ValueError(message("anneal_and_schedule", schedule=epsilon))
        return epsilon
    return Linear(epsilon) if anneal else Constant(epsilon)
