"""Glyph images: a character rendered from a font, then distorted the way hands differ.

The built-in alphabets (``reptile_edu.alphabets``) are made of these. A glyph is rendered
from one of the font faces that ship with matplotlib (``FACES``), scaled into a _BOX square
on a _CANVAS × _CANVAS canvas, blurred, warped by a random affine map and a smooth elastic
field, thresholded at a random level (stroke thickness) and area-downsampled to 28×28.
``Distortion`` holds how strong each of these is. Which characters a font has is read with
fontTools, which matplotlib itself depends on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from .characters import IMAGE_SIZE

if TYPE_CHECKING:
    from PIL import Image, ImageFont

_CANVAS = 56  # glyphs are rendered and distorted at 2× and then area-downsampled
_BOX = 40  # a glyph is scaled to fit a _BOX × _BOX square in the middle of the canvas

#: Font faces shipped with matplotlib. Classes are chosen among the first face's characters; each
#: instance is drawn in a random face that has its character.
FACES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansMono.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralItalic.ttf",
)


@dataclass(frozen=True)
class Distortion:
    """How much the instances of one character differ ("hands"); ``strength`` scales all of it.

    Angles in radians, shifts and the elastic amplitude in units of half the image width.
    """

    rotation: float = 0.26
    shear: float = 0.26
    log_scale: float = 0.26
    shift: float = 0.16
    elastic: float = 0.105
    elastic_grid: int = 5
    blur: float = 1.4  # pixels of the 56×56 canvas
    threshold: tuple[float, float] = (0.25, 0.6)
    strength: float = 1.0


DEFAULT_DISTORTION = Distortion()


def fonts_dir() -> Path:
    """The folder of the TrueType fonts that ship with matplotlib."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def render(face_path: Path, char: str, size: int = 64) -> Image.Image | None:
    """The glyph of ``char`` scaled to fit a _BOX square, centred on a _CANVAS × _CANVAS canvas (None if blank)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (3 * size, 3 * size))
    ImageDraw.Draw(canvas).text((1.5 * size, 1.5 * size), char, font=font(str(face_path), size), fill=255, anchor="mm")
    bbox = canvas.getbbox()
    if bbox is None:
        return None
    glyph = canvas.crop(bbox)
    w, h = glyph.size
    scale = _BOX / max(w, h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    out = Image.new("L", (_CANVAS, _CANVAS))
    out.paste(glyph.resize((nw, nh), Image.Resampling.BILINEAR), ((_CANVAS - nw) // 2, (_CANVAS - nh) // 2))
    return out


def as_array(img: Image.Image, blur: float = 0.0) -> np.ndarray:
    """A float [0, 1] array of ``img``; with ``blur``, Gaussian-blurred by that many pixels and scaled
    to a peak of 1 (so that a face with hairline strokes still has strokes after thresholding)."""
    from PIL import ImageFilter

    if blur <= 0:
        return np.asarray(img, dtype=np.float32) / 255
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float32)
    return arr / max(float(arr.max()), 1.0)


@lru_cache(maxsize=32)
def font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """The font at ``path`` in ``size`` pixels (loaded once)."""
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


@lru_cache(maxsize=len(FACES))
def coverage(face: str) -> frozenset[int]:
    """The code points the font face ``face`` (a file name in ``fonts_dir()``) has glyphs for."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(fonts_dir() / face, lazy=True).getBestCmap())


def downsample(x: torch.Tensor) -> torch.Tensor:
    """Area-downsample the last two dimensions from _CANVAS to IMAGE_SIZE."""
    shape = x.shape
    y = F.avg_pool2d(x.reshape(-1, 1, _CANVAS, _CANVAS), _CANVAS // IMAGE_SIZE)
    return y.reshape(*shape[:-2], IMAGE_SIZE, IMAGE_SIZE)


def _cubic_upsampling_matrix(g: int, size: int) -> torch.Tensor:
    """M with ``M.T @ f @ M`` = bicubic upsampling of a g×g field ``f`` to size×size (it is separable)."""
    basis = torch.eye(g).view(g, 1, 1, g)
    return F.interpolate(basis, size=(1, size), mode="bicubic", align_corners=True).view(g, size)


def draw_distortions(n: int, generator: torch.Generator, d: Distortion) -> dict[str, torch.Tensor]:
    """The random numbers of n instances' distortions, drawn in a fixed order."""
    s = d.strength

    def sym(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator) * 2 - 1

    lo, hi = d.threshold
    return {
        "rot": sym(n) * d.rotation * s,
        "shear": sym(n) * d.shear * s,
        "log_scale": sym(n, 2) * d.log_scale * s,
        "shift": sym(n, 2) * d.shift * s,
        "field": torch.randn(n, 2, d.elastic_grid, d.elastic_grid, generator=generator) * d.elastic * s,
        "thresh": lo + (hi - lo) * torch.rand(n, generator=generator),
    }


def distort(glyphs: torch.Tensor, r: dict[str, torch.Tensor], d: Distortion, chunk: int = 4096) -> torch.Tensor:
    """Per-instance "handwriting" on blurred glyphs ``[n, 56, 56]``: affine + elastic warp, then a random
    threshold (stroke thickness) and area-downsampling to uint8 ``[n, 28, 28]``. ``r`` holds the random numbers."""
    n = glyphs.shape[0]
    rot, shear, log_sc, shift, field, thresh = (
        r[key] for key in ("rot", "shear", "log_scale", "shift", "field", "thresh")
    )
    up = _cubic_upsampling_matrix(d.elastic_grid, _CANVAS)
    coords = (torch.arange(_CANVAS, dtype=torch.float32) * 2 + 1) / _CANVAS - 1  # pixel centres in [-1, 1]
    out = torch.empty(n, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        cos, sin = torch.cos(rot[sl]), torch.sin(rot[sl])
        sc = torch.exp(log_sc[sl])
        # A = R(rot) · Shear · diag(scale) maps output coordinates (u, v) to input coordinates.
        a11, a12 = cos * sc[:, 0], (cos * shear[sl] - sin) * sc[:, 1]
        a21, a22 = sin * sc[:, 0], (sin * shear[sl] + cos) * sc[:, 1]
        u, v = coords.view(1, 1, -1), coords.view(1, -1, 1)  # u runs along width, v along height
        warp = torch.einsum("gi,ncgh,hj->ncji", up, field[sl], up)  # smooth displacement [m, 2, H, W]
        gx = a11.view(-1, 1, 1) * u + a12.view(-1, 1, 1) * v + shift[sl, 0].view(-1, 1, 1) + warp[:, 0]
        gy = a21.view(-1, 1, 1) * u + a22.view(-1, 1, 1) * v + shift[sl, 1].view(-1, 1, 1) + warp[:, 1]
        grid = torch.stack([gx, gy], -1)
        x = F.grid_sample(glyphs[sl].unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        # Thin or thick strokes: a soft threshold (a ramp 0.1 wide) of the blurred glyph at a random level.
        x = ((x.squeeze(1) - thresh[sl].view(-1, 1, 1)) / 0.1 + 0.5).clamp(0, 1)
        out[sl] = (downsample(x) * 255).round().clamp(0, 255).to(torch.uint8)
    return out
