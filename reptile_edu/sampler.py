"""N-way K-shot episodes of character classification, batched as tensors.

One *episode* (task) draws N classes (N-way) at random, gives them the labels 0 … N−1 in a
random order, and takes K instances of each for the support set (K-shot) and Q more for
the query set. ``EpisodeSampler.episodes(T)`` returns T episodes at once as ``Episodes``
with ``loss="ce"``: images ``[T, N·K, 1, 28, 28]`` and integer labels ``[T, N·K]``
(queries ``[T, N·Q, …]``), so every algorithm of the package runs on them exactly as on
sine tasks. Everything is drawn from a ``torch.Generator``: a seed fixes
every episode.

With ``rotations=True`` each class also appears rotated by 90°, 180° and 270° as three
new classes (4·C classes in all), the augmentation of the MAML and Reptile papers.
"""

from __future__ import annotations

import torch

from ._checks import check_int
from .characters import CharacterSet
from .episodes import Episodes
from .i18n import tr
from .messages import message, sentence_end


class EpisodeSampler:
    """N-way K-shot episodes from a ``CharacterSet`` (or a ``uint8``/float tensor ``[C, I, H, W]``).

    ``ways`` is N, ``shots`` is K (support instances per class), ``queries`` is Q (query
    instances per class); K + Q must not exceed the instances per class. ``rotations`` adds
    the 90°/180°/270° rotations of every class as new classes. ``shuffle`` puts the support
    and query examples of each episode in a random order (so minibatches of the support set
    mix classes); otherwise they are grouped by label.
    """

    loss = "ce"

    def __init__(
        self,
        characters: CharacterSet | torch.Tensor,
        *,
        ways: int = 5,
        shots: int = 1,
        queries: int = 1,
        rotations: bool = False,
        shuffle: bool = True,
    ) -> None:
        images = characters.images if isinstance(characters, CharacterSet) else characters
        if not isinstance(images, torch.Tensor) or images.dim() != 4:
            raise TypeError(
                "characters must be a CharacterSet (e.g. builtin_alphabets('train')) or a tensor [C, I, H, W]; "
                f"got {type(characters).__name__}{tuple(images.shape) if isinstance(images, torch.Tensor) else ''}."
            )
        self.characters = characters
        self.images = images
        self.rotations = bool(rotations)
        self.shuffle = bool(shuffle)
        num_classes, instances = images.shape[:2]
        total = num_classes * (4 if self.rotations else 1)
        if total < 2 or instances < 2:
            raise ValueError(message("at_least_two_characters", classes=num_classes, instances=instances))
        classes = message("reason_classes_rotated" if self.rotations else "reason_classes", total=total)
        self.ways = _check_int_with_reason("ways", ways, 2, total, classes)
        self.queries = _check_int_with_reason(
            "queries", queries, 1, instances - 1, message("reason_queries", instances=instances)
        )
        self.shots = _check_int_with_reason(
            "shots",
            shots,
            1,
            instances - self.queries,
            message("reason_shots", instances=instances, queries=self.queries),
        )

    @property
    def num_classes(self) -> int:
        """The number of classes episodes draw from (4·C with rotations)."""
        return self.images.shape[0] * (4 if self.rotations else 1)

    def __repr__(self) -> str:
        rot = ", rotations=True" if self.rotations else ""
        return (
            f"EpisodeSampler({self.ways}-way {self.shots}-shot, queries={self.queries}{rot}; "
            f"{self.num_classes} classes × {self.images.shape[1]} instances)"
        )

    def __str__(self) -> str:
        """What ``print(sampler)`` shows a learner, in the language of ``set_language()``."""
        return tr(
            "episode_sampler",
            ways=self.ways,
            shots=self.shots,
            queries=self.queries,
            classes=self.num_classes,
            instances=self.images.shape[1],
            rotations=tr("rotations_as_classes") if self.rotations else "",
        )

    def episodes(
        self, num_tasks: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Episodes:
        """T episodes: support images ``[T, N·K, 1, H, W]``, labels ``[T, N·K]``; query ``[T, N·Q, ...]``."""
        t = check_int("num_tasks", num_tasks)
        n, k, q = self.ways, self.shots, self.queries
        base, instances = self.images.shape[:2]
        # N distinct classes per episode, K + Q distinct instances per class (random keys, sorted).
        classes = torch.rand(t, self.num_classes, generator=generator).argsort(1)[:, :n]  # [T, N]
        inst = torch.rand(t, n, instances, generator=generator).argsort(2)[:, :, : k + q]  # [T, N, K+Q]
        labels = torch.rand(t, n, generator=generator).argsort(1)  # label of the n-th drawn class
        x = self.images[(classes % base).unsqueeze(-1), inst]  # [T, N, K+Q, H, W]
        if self.rotations:
            turns = classes // base
            for r in (1, 2, 3):
                sel = turns == r
                if sel.any():
                    x[sel] = torch.rot90(x[sel], r, dims=(-2, -1))
        x = x.unsqueeze(3)  # [T, N, K+Q, 1, H, W]
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        y = labels.unsqueeze(-1).expand(t, n, k + q)
        xs, ys = x[:, :, :k].flatten(1, 2), y[:, :, :k].flatten(1, 2)
        xq, yq = x[:, :, k:].flatten(1, 2), y[:, :, k:].flatten(1, 2)
        if self.shuffle:
            xs, ys = _shuffle(xs, ys, generator)
            xq, yq = _shuffle(xq, yq, generator)
        return Episodes(xs, ys.contiguous(), xq, yq.contiguous(), "ce").to(device)


def _shuffle(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.rand(y.shape, generator=generator).argsort(1)
    idx = order.view(*order.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, idx), y.gather(1, order)


def _check_int_with_reason(name: str, value: object, low: int, high: int, reason: str) -> int:
    if high < low:
        raise ValueError(message("cannot_choose", name=name, reason=reason))
    try:
        return check_int(name, value, low=low, high=high)
    except ValueError as err:
        raise ValueError(message("with_reason", error=sentence_end(str(err)), reason=reason)) from None
