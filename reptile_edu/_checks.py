"""Argument checks shared by the public functions.

Every check raises an error that names the argument, the value it got and the
range it allows, so a learner who types ``k=0`` reads what to change instead of
a traceback from deep inside PyTorch.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real


def check_int(name: str, value: object, *, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int if ``low <= value <= high``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f"between {low} and {high}" if high is not None else f"≥ {low}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value}.")
    return value


def check_positive(name: str, value: object, *, high: float | None = None) -> float:
    """Return ``value`` as a float if it is finite and ``0 < value (≤ high)``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__}).")
    value = float(value)
    if not math.isfinite(value) or value <= 0 or (high is not None and value > high):
        allowed = f"> 0 and ≤ {high:g}" if high is not None else "> 0"
        raise ValueError(f"{name} must be a finite number {allowed}; got {value!r}.")
    return value


def check_epsilon(value: object, name: str = "ε (epsilon)") -> float:
    """The meta step size ε: finite, > 0; ε > 1 is allowed but warned about (it overshoots θ̃)."""
    eps = check_positive(name, value)
    if eps > 1:
        warnings.warn(
            f"{name}={eps:g} > 1: the outer step overshoots past the adapted parameters θ̃. "
            "Reptile normally uses 0 < ε ≤ 1.",
            stacklevel=3,
        )
    return eps


def check_choice(name: str, value: object, choices: tuple[str, ...] | list[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value  # type: ignore[return-value]
