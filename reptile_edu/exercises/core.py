"""What every checker shares: the verdict (``Check``), the message table and the comparisons.

A checker takes what the learner wrote (a function or a number), tests it against the package's
reference on fresh seeded inputs, and returns a ``Check`` that displays as ✓ or ✗ with a reason in the
notebook's language. ``bool(check)`` is whether it passed. Each module of ``reptile_edu.exercises`` adds
its own texts to ``MESSAGES`` next to the checkers that use them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..i18n import get_language

# key → (English, Türkçe, 中文). The three texts have the same {placeholders}.
MESSAGES: dict[str, tuple[str, str, str]] = {
    "right": ("Right.", "Doğru.", "正确。"),
    "crashed": (
        "Your code raised {error}. Read the message, fix the cell and run the check again.",
        "Kodunuz bir hata verdi: {error}. Hata mesajını okuyun, hücreyi düzeltip denetimi yeniden çalıştırın.",
        "你的代码抛出了 {error}。请阅读错误信息，修改单元格后再运行一次检查。",
    ),
    "shape": (
        "The result has shape {got}; it should have shape {want}.",
        "Sonucun şekli {got}, oysa {want} olmalı.",
        "结果的形状是 {got}，应当是 {want}。",
    ),
    "wrong_value": (
        "Not yet: off by {error:.3g} (relative). Compare with the formula in the lesson.",
        "Henüz değil: göreli sapma {error:.3g}; bu dersteki formülle karşılaştırın.",
        "还不对：相对误差为 {error:.3g}。请对照本课中的公式。",
    ),
    "number": ("Give a number, not {got}.", "Bir sayı girin; {got} bir sayı değil.", "请给出一个数字，而不是 {got}。"),
}


def message(key: str, **fields: object) -> str:
    """A checker message in the current language."""
    return MESSAGES[key][("en", "tr", "zh").index(get_language())].format(**fields)


@dataclass
class Check:
    """The verdict of a checker: ``ok`` and the reason. Shows as ✓/✗ in a notebook."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.reason

    def _repr_markdown_(self) -> str:
        color = "#1a7f37" if self.ok else "#b00020"
        return f"<span style='color:{color}'><b>{'✓' if self.ok else '✗'}</b> {self.reason}</span>"


def call_learner(fn: Callable[..., object], *args: object) -> tuple[object, Check | None]:
    """``fn(*args)`` and no verdict, or no result and the verdict that the learner's code raised."""
    try:
        return fn(*args), None
    except Exception as err:  # the learner's code: report any error as feedback
        return None, Check(False, message("crashed", error=f"{type(err).__name__}: {err}"))


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape and equal up to float rounding."""
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """‖got − want‖ / ‖want‖."""
    return float((got - want).norm() / want.norm().clamp_min(1e-30))


def is_number(value: object) -> bool:
    """A finite int or float (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(float(value))


def check_number(value: object, expected: float, *, rtol: float = 1e-3) -> Check:
    """A numeric answer against the expected value (relative tolerance ``rtol``)."""
    if not is_number(value):
        return Check(False, message("number", got=repr(value)))
    error = abs(float(value) - expected) / max(abs(expected), 1e-12)
    return Check(True, message("right")) if error <= rtol else Check(False, message("wrong_value", error=error))


def first_match(got: torch.Tensor, variants: dict[str, torch.Tensor | list[torch.Tensor]]) -> str | None:
    """The key of the first wrong variant (or list of variants) that ``got`` equals (a named mistake), or None."""
    for key, wrong in variants.items():
        if any(close(got, w) for w in (wrong if isinstance(wrong, list) else [wrong])):
            return key
    return None
