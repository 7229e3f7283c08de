"""The one data contract: ``Episodes`` (T tasks' support and query sets) and ``TaskSource``.

Every algorithm of the package consumes ``Episodes``: the sine family (``reptile_edu.sine``)
and the character sampler (``reptile_edu.sampler``) both hand them out through the same
method, ``source.episodes(num_tasks, generator, device)``; that method is all a
``TaskSource`` is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import torch

from ._checks import check_choice


@dataclass
class Episodes:
    """T tasks at once: a support set (to adapt on) and a query set (to measure on).

    ``x_support``/``y_support`` are ``[T, K, ...]``, ``x_query``/``y_query`` are ``[T, Q, ...]``.
    ``loss`` is ``"mse"`` for regression and ``"ce"`` (cross-entropy, integer labels) for classification.
    """

    x_support: torch.Tensor
    y_support: torch.Tensor
    x_query: torch.Tensor
    y_query: torch.Tensor
    loss: str = "mse"

    def __post_init__(self) -> None:
        check_choice("loss", self.loss, ("mse", "ce"))
        xs, ys, xq, yq = self.x_support, self.y_support, self.x_query, self.y_query
        if xs.shape[0] != ys.shape[0] or xs.shape[0] != xq.shape[0] or xq.shape[0] != yq.shape[0]:
            raise ValueError(
                "Episodes: x_support, y_support, x_query and y_query must have the same number of tasks T "
                f"(first dimension); got {xs.shape[0]}, {ys.shape[0]}, {xq.shape[0]}, {yq.shape[0]}."
            )
        if xs.shape[:2] != ys.shape[:2] or xq.shape[:2] != yq.shape[:2]:
            raise ValueError(
                "Episodes: inputs and targets must agree in [T, N]; got "
                f"x_support {tuple(xs.shape)} vs y_support {tuple(ys.shape)}, "
                f"x_query {tuple(xq.shape)} vs y_query {tuple(yq.shape)}."
            )

    @property
    def num_tasks(self) -> int:
        """T, the number of tasks."""
        return self.x_support.shape[0]

    def to(self, device: torch.device | str) -> Episodes:
        """The same episodes on ``device``."""
        return replace(
            self,
            x_support=self.x_support.to(device),
            y_support=self.y_support.to(device),
            x_query=self.x_query.to(device),
            y_query=self.y_query.to(device),
        )

    def tasks(self, start: int, stop: int) -> Episodes:
        """Tasks ``start`` … ``stop − 1``, still with a leading task dimension."""
        sl = slice(start, stop)
        return replace(
            self,
            x_support=self.x_support[sl],
            y_support=self.y_support[sl],
            x_query=self.x_query[sl],
            y_query=self.y_query[sl],
        )

    def task(self, t: int) -> Episodes:
        """Task ``t`` alone, still with a leading task dimension of 1."""
        return self.tasks(t, t + 1)


class TaskSource(Protocol):
    """Anything that hands out meta-batches of tasks, e.g. ``SineFamily`` or ``EpisodeSampler``."""

    def episodes(
        self, num_tasks: int, generator: torch.Generator | None = ..., device: torch.device | str = ...
    ) -> Episodes: ...


def check_source(source: object) -> TaskSource:
    """``source`` if it has an ``.episodes(num_tasks, generator, device)`` method; a clear TypeError otherwise."""
    if not callable(getattr(source, "episodes", None)):
        raise TypeError(
            "source must be a task family with an .episodes(num_tasks, generator, device) method "
            f"(e.g. SineFamily('maml')); got {type(source).__name__}."
        )
    return source  # type: ignore[return-value]
