"""Where and how a lesson runs: the device, the seed and the budget.

The budget is the one switch between the quick *smoke* setting that CI uses
to run every notebook in seconds, and the *full* setting a learner gets.
It is read from the environment variable ``REPTILE_EDU_BUDGET``
(``smoke`` or ``full``; unset means ``full``).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from ._checks import check_choice, check_int
from .messages import message

BUDGET_ENV = "REPTILE_EDU_BUDGET"
BUDGETS = ("smoke", "full")

T = TypeVar("T")


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return ``cuda`` when a GPU is available, else ``cpu``.

    ``prefer`` overrides the choice (``"cpu"``, ``"cuda"``, ``"cuda:1"``, …); asking for
    CUDA on a machine without it is an error, not a silent fall-back.
    The environment variable ``REPTILE_EDU_DEVICE`` does the same as ``prefer``.
    """
    prefer = prefer if prefer is not None else os.environ.get("REPTILE_EDU_DEVICE") or None
    if prefer is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(prefer)
    except (RuntimeError, TypeError) as err:
        raise ValueError(message("device_unknown", value=prefer)) from err
    if device.type not in ("cpu", "cuda"):
        raise ValueError(message("device_unknown", value=prefer))
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(message("no_cuda", value=prefer))
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise ValueError(message("cuda_index", value=prefer, count=count, last=count - 1))
    return device


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and CUDA); return a CPU ``torch.Generator`` seeded the same."""
    seed = check_int("seed", seed, low=0, high=2**63 - 1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@dataclass(frozen=True)
class Budget:
    """The active budget: ``smoke`` (CI, seconds) or ``full`` (what a learner runs)."""

    name: str

    @property
    def smoke(self) -> bool:
        """True in the quick smoke setting."""
        return self.name == "smoke"

    def pick(self, *, full: T, smoke: T) -> T:
        """Return ``smoke`` in the smoke setting, ``full`` otherwise."""
        return smoke if self.smoke else full

    def __str__(self) -> str:
        from .i18n import tr  # the learner's language; i18n imports nothing from here

        return tr("budget_smoke", env=BUDGET_ENV) if self.smoke else tr("budget_full")


def budget(name: str | None = None) -> Budget:
    """Read the budget: ``name`` if given, else ``$REPTILE_EDU_BUDGET``, else ``full``."""
    if name is None:
        name = os.environ.get(BUDGET_ENV, "").strip().lower() or "full"
        if name not in BUDGETS:
            raise ValueError(message("env_one_of", env=BUDGET_ENV, choices=BUDGETS, value=name))
    return Budget(check_choice("budget", name, BUDGETS))
