"""Argument checks shared by the public functions.

Every check raises an error that names the argument, the value it got and the
range it allows, so a learner who types ``k=0`` reads what to change instead of
a traceback from deep inside PyTorch. The texts are in the language of
``set_language()`` (``reptile_edu.messages``); the exception types are not.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

from .messages import argument, message


def check_int(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int if ``low <= value <= high``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(message("int_type", name=argument(name), value=value, type=type(value).__name__))
    value = int(value)
    if value < low or (high is not None and value > high):
        key = "int_between" if high is not None else "int_at_least"
        raise ValueError(message(key, name=argument(name), low=low, high=high, value=value))
    return value


def check_positive(name: str, value: object, *, high: float | None = None) -> float:
    """Return ``value`` as a float if it is finite and ``0 < value (≤ high)``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(message("number_type", name=argument(name), value=value, type=type(value).__name__))
    value = float(value)
    if not math.isfinite(value) or value <= 0 or (high is not None and value > high):
        key = "positive_at_most" if high is not None else "positive"
        raise ValueError(message(key, name=argument(name), high=high, value=value))
    return value


def check_non_negative(name: str, value: object) -> float:
    """Return ``value`` as a float if it is finite and ``≥ 0`` (a weight, or a final ε that may be 0)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(message("number_type", name=argument(name), value=value, type=type(value).__name__))
    if not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(message("non_negative", name=argument(name), value=value))
    return float(value)


def check_fraction(name: str, value: object) -> float:
    """Return ``value`` as a float if ``0 ≤ value ≤ 1`` (λ of GAE, a quantile q)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(message("number_type", name=argument(name), value=value, type=type(value).__name__))
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(message("between_0_and_1", name=argument(name), value=value))
    return float(value)


def check_divides(name: str, value: int, total: int, of: str = "points") -> int:
    """Return ``value`` if it divides ``total``: a task's points (``of="points"``), support points
    (``"support"``) or episodes (``"episodes"``); a minibatch size that does not would leave part of the task out."""
    if total % value:
        raise ValueError(message(f"divides_{of}", name=argument(name), value=value, **{of: total}))
    return value


def check_epsilon(value: object, name: str = "ε (epsilon)") -> float:
    """The meta step size ε: finite, > 0; ε > 1 is allowed but warned about (it overshoots θ̃)."""
    eps = check_positive(name, value)
    if eps > 1:
        warnings.warn(message("epsilon_overshoots", name=argument(name), eps=eps), stacklevel=3)
    return eps


def check_choice(name: str, value: object, choices: tuple[str, ...] | list[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(message("one_of", name=argument(name), choices=", ".join(map(repr, choices)), value=value))
    return value  # type: ignore[return-value]
