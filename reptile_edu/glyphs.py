"""Glyph images: a character rendered from a font, then redrawn with a pen the way hands differ.

The built-in alphabets (``reptile_edu.alphabets``) are made of these. A glyph is rendered
from one of the font faces that ship with matplotlib (``FACES``), scaled into a _BOX square
on a _CANVAS × _CANVAS canvas, and thinned to its centre lines (``skeleton``): a bold and a
light face then give the same pen path, as one person's strokes would. Each instance is that
path drawn with a round pen (``pen_strokes``), warped by a random affine map and a smooth
elastic field, given a random pen width (a threshold of the blurred path), **fitted into the
frame** (shrunk and moved only as much as needed so no stroke reaches the outer
``Distortion.margin`` of the image) and area-downsampled to 28×28. ``Distortion`` holds how
strong each of these is. Which characters a font has is read with fontTools, which matplotlib
itself depends on.
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
#: instance is drawn in a random face that has its character. No bold faces: every stroke is redrawn
#: with a pen of random width, so a bold face would only repeat its regular face's centre lines.
FACES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Italic.ttf",
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
    pen: float = 1.5  # σ of the Gaussian pen, in pixels of the 56×56 canvas
    threshold: tuple[float, float] = (0.25, 0.6)  # pen width: 2σ·√(2 ln(1/t)), about 2.5 to 1.5 pixels at 28×28
    margin: int = 2  # pixels at 28×28 left free of ink on every side
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


def as_array(img: Image.Image) -> np.ndarray:
    """A float [0, 1] array of ``img`` (ink = 1)."""
    return np.asarray(img, dtype=np.float32) / 255


def _deletable(first: bool) -> torch.Tensor:
    """Zhang–Suen's rule as a table over the 256 neighbourhoods: may the centre pixel go?

    Neighbours p2 … p9 run clockwise from north, bit i − 2 set when p_i is ink. The pixel may
    go when it has 2 to 6 ink neighbours, exactly one paper → ink step around the ring (so
    removing it splits nothing), and, in the first sub-iteration, p2·p4·p6 = p4·p6·p8 = 0 (it
    lies on a south or east edge or a north-west corner), in the second p2·p4·p8 = p2·p6·p8 = 0.
    """
    table = torch.zeros(256, dtype=torch.bool)
    for code in range(256):
        p = [(code >> i) & 1 for i in range(8)]  # p[0] = p2 (north) … p[7] = p9 (north-west)
        b = sum(p)
        a = sum(p[i] == 0 and p[(i + 1) % 8] == 1 for i in range(8))
        p2, p4, p6, p8 = p[0], p[2], p[4], p[6]
        edge = (p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0) if first else (p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0)
        table[code] = 2 <= b <= 6 and a == 1 and edge
    return table


def _neighbourhood_codes(x: torch.Tensor) -> torch.Tensor:
    """The 8-bit code of every pixel's neighbourhood in binary images ``[n, H, W]`` (uint8, paper outside):
    bit 0 is the north neighbour p2, then clockwise to bit 7, the north-west neighbour p9."""
    p = F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]
    code = torch.zeros_like(x)
    for bit, (dy, dx) in enumerate(((0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0), (0, 0))):
        code |= p[:, dy : dy + h, dx : dx + w] << bit
    return code


def skeleton(ink: torch.Tensor, max_iterations: int = 100) -> torch.Tensor:
    """The centre lines of binary images ``[n, H, W]`` (Zhang & Suen 1984 thinning): strokes peeled one
    pixel at a time from their edges until one pixel wide, never split. Returns a bool tensor."""
    x = ink.to(torch.uint8).clone()
    tables = (_deletable(True), _deletable(False))
    active = torch.arange(len(x))  # the images still being thinned
    for _ in range(max_iterations):
        if len(active) == 0:
            break
        part = x[active]
        changed = torch.zeros(len(active), dtype=torch.bool)
        for table in tables:
            remove = table[_neighbourhood_codes(part).long()] & (part > 0)
            changed |= remove.flatten(1).any(1)
            part = part.masked_fill(remove, 0)
        x[active] = part
        active = active[changed]
    return x > 0


def _gaussian(sigma: float) -> torch.Tensor:
    radius = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    return k / k.sum()


def _blur(x: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Images ``[n, H, W]`` convolved with the separable kernel k ⊗ k."""
    r = len(k) // 2
    x = F.conv2d(x.unsqueeze(1), k.view(1, 1, 1, -1), padding=(0, r))
    return F.conv2d(x, k.view(1, 1, -1, 1), padding=(r, 0)).squeeze(1)


def pen_strokes(glyphs: torch.Tensor, sigma: float) -> torch.Tensor:
    """The glyphs ``[n, H, W]`` (ink in [0, 1]) redrawn along their centre lines with a round Gaussian pen of σ
    pixels: 1 on the path, falling off as exp(−d²/2σ²) at distance d, so a threshold t draws strokes
    2σ·√(2 ln(1/t)) wide. Stroke ends get round caps of the same width; a dot (it thins to a point) is drawn
    twice as wide, as a pen pressed down for a moment."""
    ink = glyphs > 0.3
    rows, cols = ink.any(0).any(1).nonzero().flatten(), ink.any(0).any(0).nonzero().flatten()
    lines = torch.zeros_like(ink)
    if len(rows):  # thin only the box that holds ink (glyphs sit in the middle _BOX of the canvas)
        top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        lines[:, top:bottom, left:right] = skeleton(ink[:, top:bottom, left:right])
    neighbours = _POPCOUNT[_neighbourhood_codes(lines.to(torch.uint8)).long()]
    k, k_dot = _gaussian(sigma), _gaussian(2 * sigma)
    centre, centre_dot = float(k[len(k) // 2]), float(k_dot[len(k_dot) // 2])
    path = _blur(lines.float(), k) / centre  # a straight line of the path peaks at 1
    caps = _blur((lines & (neighbours == 1)).float(), k) / centre**2  # a stroke's end peaks at 1: a round cap
    dots = _blur((lines & (neighbours == 0)).float(), k_dot) / centre_dot**2  # a dot: twice the pen's width
    return torch.maximum(torch.maximum(path, caps), dots).clamp(max=1.0)


#: How many of the 8 neighbours are ink, for each neighbourhood code.
_POPCOUNT = torch.tensor([bin(code).count("1") for code in range(256)], dtype=torch.uint8)


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


def distort(glyphs: torch.Tensor, r: dict[str, torch.Tensor], d: Distortion, chunk: int = 2048) -> torch.Tensor:
    """Per-instance "handwriting" on pen-stroke glyphs ``[n, 56, 56]``: affine + elastic warp, a random
    threshold (pen width), fitted into the frame and area-downsampled to uint8 ``[n, 28, 28]``. ``r`` holds
    the random numbers.

    The warp is sampled on a window 1.5 times the canvas, so a stroke pushed past the canvas is not lost;
    the frame fit then shrinks (never enlarges) and moves the drawing just enough to keep its ink inside
    the canvas less ``d.margin`` pixels on every side.
    """
    n = glyphs.shape[0]
    rot, shear, log_sc, shift, field, thresh = (
        r[key] for key in ("rot", "shear", "log_scale", "shift", "field", "thresh")
    )
    big = _CANVAS * 3 // 2  # the window [-1.5, 1.5]², at the canvas's pixel pitch
    up = _cubic_upsampling_matrix(d.elastic_grid, big)
    coords = 1.5 * ((torch.arange(big, dtype=torch.float32) * 2 + 1) / big - 1)  # pixel centres in [-1.5, 1.5]
    frame = 1 - 2 * d.margin / IMAGE_SIZE  # ink must stay within [-frame, frame]²
    out = torch.empty(n, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        m = sl.stop - sl.start
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
        # Pen width: a soft threshold (a ramp 0.1 wide) of the blurred pen path at a random level.
        x = ((x - thresh[sl].view(-1, 1, 1, 1)) / 0.1 + 0.5).clamp(0, 1)  # [m, 1, big, big]
        # Fit into the frame: the ink's bounding box per axis, then the scale s ≤ 1 and shift δ that bring it in.
        ink = x[:, 0] > 0.5
        theta = torch.zeros(m, 2, 3)
        scale = torch.ones(m)
        boxes = []
        for axis in (1, 2):  # columns (x), then rows (y)
            seen = ink.any(axis)  # [m, big]
            first = torch.where(seen.any(1), seen.float().argmax(1), big // 2)
            last = torch.where(seen.any(1), big - 1 - seen.flip(1).float().argmax(1), big // 2)
            boxes.append((coords[first] - 1 / _CANVAS, coords[last] + 1 / _CANVAS))
        for lo, hi in boxes:
            scale = torch.minimum(scale, 2 * frame / (hi - lo).clamp_min(1e-6))
        for i, (lo, hi) in enumerate(boxes):
            delta = (frame - scale * hi).clamp(max=0) + (-frame - scale * lo).clamp(min=0)
            # Output o ∈ [-1, 1] reads the window at b = (o − δ)/s, i.e. at b/1.5 in grid_sample's units.
            theta[:, i, i] = 1 / (1.5 * scale)
            theta[:, i, 2] = -delta / (1.5 * scale)
        fit = F.affine_grid(theta, [m, 1, _CANVAS, _CANVAS], align_corners=False)
        x = F.grid_sample(x, fit, mode="bilinear", padding_mode="zeros", align_corners=False).squeeze(1)
        out[sl] = (downsample(x) * 255).round().clamp(0, 255).to(torch.uint8)
    return out
