"""The sine-wave family: the regression tasks of the MAML paper and the Reptile demo.

A *task* is one regression problem y = A·sin(x − φ) with its own amplitude A and
phase φ. A batch of T tasks with N points each is stored as tensors shaped
``[T, N, 1]``, sampled from a ``torch.Generator`` so a seed fixes every number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._checks import check_choice, check_int
from .episodes import Episodes


@dataclass(frozen=True)
class SinePreset:
    """Ranges of the sine family: amplitude A, phase φ and inputs x are drawn uniformly from them."""

    amplitude: tuple[float, float]
    phase: tuple[float, float]
    x_range: tuple[float, float]


#: The two published settings: MAML (Finn et al. 2017) and Reptile's sine demo (Nichol et al. 2018).
SINE_PRESETS: dict[str, SinePreset] = {
    "maml": SinePreset(amplitude=(0.1, 5.0), phase=(0.0, math.pi), x_range=(-5.0, 5.0)),
    "reptile": SinePreset(amplitude=(0.1, 5.0), phase=(0.0, 2 * math.pi), x_range=(-5.0, 5.0)),
}


def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape, generator=generator)


@dataclass
class SineTasks:
    """A batch of T sine tasks y = A·sin(x − φ); ``x``/``y`` hold N points per task, ``[T, N, 1]``."""

    amplitude: torch.Tensor  # [T]
    phase: torch.Tensor  # [T]
    x: torch.Tensor  # [T, N, 1]
    y: torch.Tensor  # [T, N, 1]
    preset: SinePreset

    def fn(self, x: torch.Tensor) -> torch.Tensor:
        """The true function of every task at ``x`` (``[T, M, 1]``, or ``[M]`` shared by all tasks)."""
        if x.dim() == 1:
            x = x.view(1, -1, 1).expand(len(self.amplitude), -1, 1)
        if x.dim() != 3 or x.shape[0] != len(self.amplitude):
            raise ValueError(f"x must be [M] or [T={len(self.amplitude)}, M, 1]; got shape {tuple(x.shape)}.")
        amp = self.amplitude.to(x.device).view(-1, 1, 1)
        phase = self.phase.to(x.device).view(-1, 1, 1)
        return amp * torch.sin(x - phase)

    def points(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """N fresh points ``(x, y)`` of the same tasks, each ``[T, N, 1]``."""
        n = check_int("n", n)
        x = _uniform((len(self.amplitude), n, 1), *self.preset.x_range, generator)
        return x, self.fn(x)

    def grid(self, n: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` evenly spaced inputs over the x-range and the true outputs: ``[n]`` and ``[T, n, 1]``."""
        x = torch.linspace(*self.preset.x_range, check_int("n", n, low=2))
        return x, self.fn(x)

    def __len__(self) -> int:
        return len(self.amplitude)


class SineFamily:
    """The distribution over sine tasks.

    ``preset`` is ``"maml"`` (A ∈ [0.1, 5], φ ∈ [0, π], x ∈ [−5, 5]) or ``"reptile"`` (φ ∈ [0, 2π]).
    ``shots`` is K, the support points per task; ``queries`` the query points per task.
    """

    loss = "mse"

    def __init__(self, preset: str = "maml", *, shots: int = 10, queries: int = 10) -> None:
        self.preset_name = check_choice("preset", preset, tuple(SINE_PRESETS))
        self.preset = SINE_PRESETS[preset]
        self.shots = check_int("shots", shots)
        self.queries = check_int("queries", queries)

    def __repr__(self) -> str:
        return f"SineFamily({self.preset_name!r}, shots={self.shots}, queries={self.queries})"

    def sample(self, num_tasks: int, num_points: int, generator: torch.Generator | None = None) -> SineTasks:
        """T tasks with N points each: ``x``, ``y`` shaped ``[T, N, 1]`` (T = ``num_tasks``, N = ``num_points``)."""
        t = check_int("num_tasks", num_tasks)
        n = check_int("num_points", num_points)
        p = self.preset
        amplitude = _uniform((t,), *p.amplitude, generator)
        phase = _uniform((t,), *p.phase, generator)
        x = _uniform((t, n, 1), *p.x_range, generator)
        tasks = SineTasks(amplitude, phase, x, torch.empty(0), p)
        tasks.y = tasks.fn(x)
        return tasks

    def episodes(
        self, num_tasks: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Episodes:
        """T tasks as ``Episodes``: ``shots`` support and ``queries`` query points each."""
        tasks = self.sample(num_tasks, self.shots + self.queries, generator)
        k = self.shots
        return Episodes(tasks.x[:, :k], tasks.y[:, :k], tasks.x[:, k:], tasks.y[:, k:], "mse").to(device)
