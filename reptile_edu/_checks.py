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
