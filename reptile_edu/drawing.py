"""A drawing becomes a character image: pen strokes → 28×28 in the built-in alphabets' format.

A learner draws on a pad (``reptile_edu.drawing_demo``); the pad records the pen's path as
**strokes**, each a list of points ``(x, y)`` in the pad's pixels (y grows downwards), one stroke
per pen-down … pen-up. ``strokes_to_image`` turns them into an image the networks know, the way
the data was made:

* **ink convention**: ``uint8`` ``[28, 28]``, ink = 255, paper = 0 (``CharacterSet.images``);
* **scaled like the data**: the drawing's bounding box is scaled, keeping its aspect ratio, so
  that its longer side (ink edge to ink edge, stroke width included) is the data's typical one;
* **centred like the data**: the box's centre goes where the data's boxes are centred;
* **drawn with the data's pen**: strokes get the data's typical stroke width, round ends and
  joins, drawn at 4× and area-downsampled (as the glyphs are rendered at 2× and downsampled).

The three numbers (box size, centre, stroke width) are not written in here: ``measure_style``
measures them on the character set itself (medians over its images), so the conversion follows
the data if the glyph rendering ever changes.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .characters import IMAGE_SIZE, CharacterSet
from .messages import message

Point = tuple[float, float]
Strokes = Sequence[Sequence[Point]]

#: Pixels at which strokes are drawn before area-downsampling to 28×28.
_OVERSAMPLE = 4
#: A pixel is ink, for measuring shapes, from this grey level on (half of 255).
_INK_LEVEL = 128


class EmptyDrawingError(ValueError):
    """A drawing without any ink (no stroke, or strokes without points)."""


@dataclass(frozen=True)
class DrawingStyle:
    """How the data's characters sit in their 28×28 frame, in pixels (medians over the data's images).

    ``box``: the longer side of the ink's bounding box; ``centre``: (x, y) of the box's centre, measured
    from the image's top-left corner (the middle of a 28×28 image is (14, 14)); ``pen``: the stroke width.
    """

    box: float
    centre: tuple[float, float]
    pen: float


def ink_boxes(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ink's bounding box of each image ``[M, H, W]`` (``uint8``, ink = 255): its longer side ``[M]``
    and its centre (x, y) ``[M, 2]``, in pixels from the top-left corner (ink from grey level 128)."""
    ink = images >= _INK_LEVEL
    sides, centres = [], []
    for axis in (1, 2):  # along x: any ink in a column; along y: any ink in a row
        seen = ink.any(axis)
        size = seen.shape[1]
        first = seen.float().argmax(1)
        last = size - 1 - seen.flip(1).float().argmax(1)
        sides.append((last - first + 1).float())
        centres.append((first + last + 1).float() / 2)
    has_ink = ink.flatten(1).any(1)
    side = torch.maximum(sides[0], sides[1]).masked_fill(~has_ink, 0)
    return side, torch.stack(centres, 1)


def stroke_widths(images: torch.Tensor) -> torch.Tensor:
    """The mean stroke width of each image ``[M, H, W]`` (``uint8``): 2·area / perimeter of its ink.

    A stroke of length L and width w covers L·w pixels and has a boundary about 2L long, so twice the
    area over the perimeter (edges between ink and paper, the frame counting as paper) is about w.
    """
    ink = F.pad((images >= _INK_LEVEL).float(), (1, 1, 1, 1))
    area = ink.flatten(1).sum(1)
    edges_y = (ink[:, 1:, :] != ink[:, :-1, :]).flatten(1).sum(1)
    edges_x = (ink[:, :, 1:] != ink[:, :, :-1]).flatten(1).sum(1)
    perimeter = edges_x + edges_y
    return 2 * area / perimeter.clamp_min(1)


def reference_shapes(size: float = 200) -> dict[str, list[list[Point]]]:
    """A few simple drawings on a ``size`` × ``size`` pad: a circle, a cross, a vertical bar, a zigzag and a
    hook (``measure_style`` draws them to match the data's stroke width; the lesson draws with them)."""
    turn = np.linspace(0, 2 * np.pi, 49)
    circle = np.stack([100 + 70 * np.cos(turn), 100 + 70 * np.sin(turn)], 1)
    arc = np.linspace(0, np.pi, 25)
    bowl = np.stack([100 - 40 * np.cos(arc), 120 + 40 * np.sin(arc)], 1)
    hook = np.concatenate([[[60.0, 20.0], [60.0, 120.0]], bowl])
    shapes = {
        "circle": [circle],
        "cross": [[(30, 30), (170, 170)], [(170, 30), (30, 170)]],
        "bar": [[(100, 20), (100, 180)]],
        "zigzag": [[(20, 40), (180, 40), (20, 160), (180, 160)]],
        "hook": [hook],
    }
    scale = size / 200
    return {
        name: [[(float(x) * scale, float(y) * scale) for x, y in stroke] for stroke in strokes]
        for name, strokes in shapes.items()
    }


def hand_drawn(strokes: Strokes, rng: np.random.Generator, size: float = 160) -> list[list[Point]]:
    """A new drawing of ``strokes`` (drawn on a 200-pixel pad, as ``reference_shapes()``) as a hand would make
    it on a ``size``-pixel pad: somewhere on the pad, at some size, a little rotated and slanted, with the
    points a mouse reports (every few pixels) and a wobbly pen. For tests and benchmarks of the demo."""
    scale = rng.uniform(0.35, 0.7) * size / 200
    angle, slant = rng.uniform(-0.2, 0.2), rng.uniform(-0.15, 0.15)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) @ [[1, slant], [0, 1]]
    offset = rng.uniform(0.3, 0.7, 2) * size
    out = []
    for stroke in strokes:
        pts = np.asarray(stroke, dtype=np.float64).reshape(-1, 2)
        dense = [pts[0]]
        for a, b in zip(pts[:-1], pts[1:]):
            steps = max(1, int(np.linalg.norm(b - a) / 8))
            dense += [a + (b - a) * (i / steps) for i in range(1, steps + 1)]
        moved = (np.asarray(dense) - 100) @ turn.T * scale + offset + rng.normal(0, 1.2, (len(dense), 2))
        out.append([(float(x), float(y)) for x, y in moved])
    return out


def measure_style(characters: CharacterSet, sample: int = 4000, seed: int = 0) -> DrawingStyle:
    """The data's ``DrawingStyle``: medians over ``sample`` of its images (drawn at random with ``seed``).

    ``box`` and ``centre`` are the medians of the ink boxes' longer sides and centres. ``pen`` is the pen
    width at which ``reference_shapes`` get the same median ``stroke_widths`` as the data's images: the
    estimate is biased (a diagonal stroke's pixel staircase counts as longer boundary), so the pen is found
    by measuring drawings made with it, not read off the estimate.
    """
    images = characters.images
    key = (id(images), sample, seed)
    if key not in _MEASURED:
        _MEASURED[key] = _measure(images, sample, seed)
        weakref.finalize(images, _MEASURED.pop, key, None)  # forgotten with the images
    return _MEASURED[key]


#: Styles already measured, per images tensor (by id, while it lives), sample and seed: measured once.
_MEASURED: dict[tuple[int, int, int], DrawingStyle] = {}


def _measure(images: torch.Tensor, sample: int, seed: int) -> DrawingStyle:
    images = images.flatten(0, 1)
    if len(images) > sample:
        images = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:sample]]
    side, centre = ink_boxes(images)
    keep = side > 0
    if not bool(keep.any()):
        raise ValueError(message("no_ink"))
    box = float(side[keep].median())
    middle = (float(centre[keep, 0].median()), float(centre[keep, 1].median()))
    target = float(stroke_widths(images[keep]).median())
    shapes = list(reference_shapes().values())

    def drawn_width(pen: float) -> float:
        style = DrawingStyle(box, middle, pen)
        return float(stroke_widths(torch.stack([strokes_to_image(s, style) for s in shapes])).median())

    low, high = 0.5, box / 2  # the drawn width grows with the pen: bisect
    for _ in range(14):
        mid = (low + high) / 2
        low, high = (mid, high) if drawn_width(mid) < target else (low, mid)
    return DrawingStyle(box=box, centre=middle, pen=round((low + high) / 2, 3))


def _points(strokes: Strokes) -> list[np.ndarray]:
    """The strokes as float arrays ``[P, 2]``, without empty strokes; a clear error for what is not a point."""
    out = []
    for i, stroke in enumerate(strokes):
        arr = np.asarray(stroke, dtype=np.float64).reshape(-1, 2) if len(stroke) else np.zeros((0, 2))
        if not np.isfinite(arr).all():
            raise ValueError(message("stroke_not_finite", i=i))
        if len(arr):
            out.append(arr)
    return out


def strokes_to_image(strokes: Strokes, style: DrawingStyle) -> torch.Tensor:
    """The drawing ``strokes`` (lists of (x, y) points, pad pixels) as a ``uint8`` [28, 28] image, ink = 255.

    Scaled (aspect kept) so that its ink box's longer side is ``style.box``, centred at ``style.centre``,
    drawn with a round pen ``style.pen`` pixels wide. A drawing with no point raises ``EmptyDrawingError``.
    """
    from PIL import Image, ImageDraw

    paths = _points(strokes)
    if not paths:
        raise EmptyDrawingError(message("drawing_empty"))
    allpts = np.concatenate(paths)
    lo, hi = allpts.min(0), allpts.max(0)
    extent = float((hi - lo).max())
    scale = max(style.box - style.pen, 0.0) / extent if extent > 0 else 0.0  # the path's box, inside the ink box
    centre = np.asarray(style.centre)
    r = _OVERSAMPLE
    canvas = Image.new("L", (IMAGE_SIZE * r, IMAGE_SIZE * r))
    draw = ImageDraw.Draw(canvas)
    width = style.pen * r
    for path in paths:
        p = ((path - (lo + hi) / 2) * scale + centre) * r  # pad pixels → 28×28 pixels → the 4× canvas
        xy = [tuple(q) for q in p.tolist()]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (xy[0], xy[-1]) if len(xy) > 1 else xy:  # round ends (and a dot for a single point)
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    big = torch.from_numpy(np.asarray(canvas, dtype=np.float32))
    small = F.avg_pool2d(big.view(1, 1, *big.shape), r).view(IMAGE_SIZE, IMAGE_SIZE)
    return small.round().clamp(0, 255).to(torch.uint8)


def shifted(
    images: torch.Tensor, copies: int, max_shift: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Augmentation by small random shifts: ``copies`` versions of each image ``[M, H, W]``, each moved by a random
    whole number of pixels in [−max_shift, max_shift] along x and y (paper comes in at the edges). Returns
    ``[M, copies, H, W]``; copy 0 is the image itself."""
    m, h, w = images.shape
    out = images.new_zeros(m, copies, h, w)
    shifts = torch.randint(-max_shift, max_shift + 1, (m, copies, 2), generator=generator)
    shifts[:, 0] = 0
    pad = max_shift
    padded = F.pad(images, (pad, pad, pad, pad))
    for i in range(m):
        for c in range(copies):
            dx, dy = shifts[i, c].tolist()
            out[i, c] = padded[i, pad - dy : pad - dy + h, pad - dx : pad - dx + w]
    return out
