"""Draw your own characters: a few-shot demo with drawing pads, in JupyterLab or as a Voilà page.

The learner draws one character on each of N class pads (N from 2 to 5) and a new drawing of
one of them on the query pad, then presses Classify. Three networks of the same shape adapt to
the drawings with k steps of SGD (η), from Reptile's θ, from a random θ and from all-class
pre-training (``reptile_edu.drawing_networks``), and each shows the query's class probabilities
as bars: what meta-learning adds is the difference between the columns.

The pads are ipycanvas canvases that record the pen's path (mouse or touch) in Python, so the
drawing becomes a 28×28 image in the data's format exactly as ``reptile_edu.drawing`` describes.
Every button callback is a plain method (``classify``, ``DrawingPad.clear``) and every pad can
be drawn on from code (``DrawingPad.draw``), so a test needs no browser.
"""

from __future__ import annotations

import html
import io

import ipywidgets as W
import numpy as np
import torch

from .characters import CharacterSet
from .drawing import DrawingStyle, Strokes, measure_style, strokes_to_image
from .drawing_networks import DEFAULT_ETA, DEFAULT_K, NETWORKS, DemoNetworks, demo_networks
from .i18n import tr
from .playground import slider
from .runtime import Budget

#: Stroke and bar colour of each class pad (matplotlib's first five), and the query pad's.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
QUERY_COLOUR = "#222222"
MAX_WAYS = 5
#: The label key of each network's column.
NETWORK_LABELS = {"reptile": "reptile_theta", "random": "random_theta", "pretrained": "pretrained_theta"}


class DrawingPad:
    """A square canvas that records strokes drawn with the mouse or a finger, with a title and a Clear button.

    ``strokes`` holds the drawing: one list of (x, y) points (canvas pixels) per pen-down … pen-up.
    ``title`` is shown above the pad; ``name`` (default: the title) is what messages call it.
    """

    def __init__(self, title: str, name: str | None = None, *, size: int = 160, colour: str = QUERY_COLOUR) -> None:
        from ipycanvas import Canvas

        self.title, self.name, self.size, self.colour = title, name or title, size, colour
        self.strokes: list[list[tuple[float, float]]] = []
        self._pen_down = False
        self.canvas = Canvas(width=size, height=size, layout=W.Layout(width=f"{size}px", height=f"{size}px"))
        self.canvas.add_class("reptile-edu-pad")
        self.canvas.on_mouse_down(self.pen_down)
        self.canvas.on_mouse_move(self.pen_move)
        self.canvas.on_mouse_up(self.pen_up)
        self.canvas.on_mouse_out(self.pen_up)
        self.canvas.on_touch_start(lambda touches: self.pen_down(*touches[0]))
        self.canvas.on_touch_move(lambda touches: self.pen_move(*touches[0]))
        self.canvas.on_touch_end(lambda touches: self.pen_up())
        self.canvas.on_touch_cancel(lambda touches: self.pen_up())
        # A canvas shown later (or shown again, or in a reloaded page) starts blank: paint it when it is ready.
        self.canvas.on_client_ready(self.repaint)
        self.label = W.HTML(f"<b style='color:{colour}'>{html.escape(title)}</b>")
        self.clear_button = W.Button(description=tr("clear_pad"), icon="eraser", layout=W.Layout(width=f"{size}px"))
        self.clear_button.on_click(self.clear)
        self.widget = W.VBox([self.label, self.canvas, self.clear_button], layout=W.Layout(margin="0 8px 0 0"))
        self.widget.add_class("reptile-edu-pad-box")
        self.clear()

    def _paper(self) -> None:
        self.canvas.clear()
        self.canvas.fill_style = "white"
        self.canvas.fill_rect(0, 0, self.size, self.size)
        self.canvas.stroke_style = "#bbbbbb"
        self.canvas.line_width = 1
        self.canvas.stroke_rect(0.5, 0.5, self.size - 1, self.size - 1)
        self.canvas.stroke_style = self.colour
        self.canvas.fill_style = self.colour
        self.canvas.line_width = max(4, self.size // 20)
        self.canvas.line_cap = "round"
        self.canvas.line_join = "round"

    def clear(self, _button: object = None) -> None:
        """The Clear button: forget the strokes and blank the canvas."""
        self.strokes = []
        self._pen_down = False
        self._paper()

    def repaint(self) -> None:
        """Paint the paper and the strokes again (when the canvas appears in a page)."""
        self._paper()
        for stroke in self.strokes:
            x0, y0 = stroke[0]
            self.canvas.fill_circle(x0, y0, self.canvas.line_width / 2)
            if len(stroke) > 1:
                self.canvas.stroke_lines(stroke)

    def pen_down(self, x: float, y: float) -> None:
        """Mouse button or finger down: a new stroke starts at (x, y), drawn as a dot."""
        self._pen_down = True
        self.strokes.append([(float(x), float(y))])
        self.canvas.fill_circle(x, y, self.canvas.line_width / 2)

    def pen_move(self, x: float, y: float) -> None:
        """The pen moves: while it is down, the stroke goes on to (x, y)."""
        if not self._pen_down or not self.strokes:
            return
        x0, y0 = self.strokes[-1][-1]
        self.strokes[-1].append((float(x), float(y)))
        self.canvas.stroke_line(x0, y0, x, y)

    def pen_up(self, *_args: object) -> None:
        """Mouse button or finger up (or the pointer leaves the pad): the stroke ends."""
        self._pen_down = False

    def draw(self, strokes: Strokes) -> None:
        """Draw ``strokes`` (lists of (x, y) points) as if with the pen: for exercises and tests."""
        for stroke in strokes:
            points = list(stroke)
            if not points:
                continue
            self.pen_down(*points[0])
            for point in points[1:]:
                self.pen_move(*point)
            self.pen_up()

    def is_empty(self) -> bool:
        """Whether the pad holds no ink."""
        return not any(self.strokes)


def _png_strip(images: list[torch.Tensor], gap_before_last: bool = True, zoom: int = 3) -> tuple[bytes, int]:
    """The 28×28 images side by side as a PNG, ink dark on white (as the lessons plot characters), and its width."""
    from PIL import Image

    tiles = [np.pad(255 - img.numpy(), 1, constant_values=160) for img in images]  # a grey frame around each
    parts = []
    for i, tile in enumerate(tiles):
        if i:
            gap = 12 if (gap_before_last and i == len(tiles) - 1) else 3
            parts.append(np.full((tile.shape[0], gap), 255, np.uint8))
        parts.append(tile)
    strip = np.concatenate(parts, 1)
    img = Image.fromarray(strip).resize((strip.shape[1] * zoom, strip.shape[0] * zoom), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="png")
    return buf.getvalue(), img.width


class DrawingDemo:
    """Draw N characters and a query; Classify adapts three θ to them and shows the query's class probabilities.

    ``networks`` defaults to ``demo_networks(characters, budget=budget, device=device)`` (trained on first
    use, then cached); ``characters`` to ``builtin_alphabets()``. ``ways`` (N), ``k`` and ``eta`` (η) are
    the sliders' starting values (k and η: lesson 06's adaptation). After ``classify()``, ``probabilities``
    holds ``[3, N]`` (rows in ``NETWORKS`` order) and ``prediction`` Reptile's class (0-based).
    """

    def __init__(
        self,
        networks: DemoNetworks | None = None,
        characters: CharacterSet | None = None,
        *,
        ways: int = 3,
        k: int = DEFAULT_K,
        eta: float = DEFAULT_ETA,
        pad_size: int = 160,
        budget: Budget | str | None = None,
        device: str | torch.device | None = None,
    ) -> None:
        if characters is None:
            from .alphabets import builtin_alphabets

            characters = builtin_alphabets()
        self.style: DrawingStyle = measure_style(characters)
        self.networks = networks if networks is not None else demo_networks(characters, budget=budget, device=device)
        top = self.networks.settings.ways
        self.ways = slider(W.IntSlider, min(max(ways, 2), top), 2, min(MAX_WAYS, top), label="ways")
        self.k = slider(W.IntSlider, k, 1, 20, label="k")
        self.eta = slider(W.FloatLogSlider, eta, label="eta", base=10, min=-3, max=0, step=0.1, readout_format=".3g")
        self.pads = [DrawingPad(tr("class_n", c=i + 1), size=pad_size, colour=COLOURS[i]) for i in range(MAX_WAYS)]
        self.query = DrawingPad(tr("query_pad"), tr("query_name"), size=pad_size, colour=QUERY_COLOUR)
        self.query.widget.add_class("reptile-edu-query")
        self.classify_button = W.Button(description=tr("classify"), button_style="primary", icon="question")
        self.classify_button.on_click(self.classify)
        scores = self.networks.record.get("held_out_3way_1shot", {})
        self.ready_message = tr("demo_ready", **{name: 100 * scores.get(name, float("nan")) for name in NETWORKS})
        self.status = W.HTML()
        self.status.add_class("reptile-edu-status")
        self.message = ""
        self.say(self.ready_message)
        self.seen = W.Image(format="png")
        self.seen_box = W.VBox([W.HTML(f"<i>{html.escape(tr('demo_seen'))}</i>"), self.seen])
        self.seen_box.layout.display = "none"
        self.columns = W.HBox([])
        self.probabilities: torch.Tensor | None = None
        self.prediction: int | None = None
        self.ways.observe(self._show_pads, names="value")
        self.query.widget.layout.margin = "0 0 0 32px"  # the query pad stands apart from the class pads
        self.pad_row = W.HBox([pad.widget for pad in (*self.pads, self.query)])
        self._show_pads()

    # -- what the buttons do ---------------------------------------------------------------
    def active_pads(self) -> list[DrawingPad]:
        """The N class pads in use."""
        return self.pads[: self.ways.value]

    def _show_pads(self, _change: object = None) -> None:
        for i, pad in enumerate(self.pads):
            pad.widget.layout.display = "" if i < self.ways.value else "none"

    def images(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The drawings as the networks see them: support ``[N, 28, 28]`` and query ``[28, 28]`` (``uint8``)."""
        support = torch.stack([strokes_to_image(pad.strokes, self.style) for pad in self.active_pads()])
        return support, strokes_to_image(self.query.strokes, self.style)

    def classify(self, _button: object = None) -> torch.Tensor | None:
        """The Classify button: adapt the three θ to the class drawings and show the query's class probabilities.

        An empty pad gets a message naming it (and no prediction). Returns ``[3, N]`` or ``None``.
        """
        empty = [pad.name for pad in (*self.active_pads(), self.query) if pad.is_empty()]
        if empty:
            self.probabilities, self.prediction = None, None
            self.columns.children = ()
            self.seen_box.layout.display = "none"
            self.say(tr("pad_empty", pads=tr("list_separator").join(empty)), error=True)
            return None
        self.classify_button.disabled = True
        self.say(tr("classifying"))
        try:
            support, query = self.images()
            probs = self.networks.classify(support, query, k=self.k.value, eta=self.eta.value)
        finally:
            self.classify_button.disabled = False
        self.probabilities = probs
        self.prediction = int(probs[0].argmax())
        self.seen.value, width = _png_strip([*support, query])
        self.seen.layout.width = f"{width}px"
        self.seen_box.layout.display = ""
        self.columns.children = [self._column(name, p) for name, p in zip(NETWORKS, probs)]
        best = tr("class_n", c=self.prediction + 1)
        self.say(tr("demo_says", name=tr("reptile_theta"), c=best, p=100 * float(probs[0].max())))
        return probs

    def say(self, text: str, error: bool = False) -> None:
        """Show ``text`` in the status line (in red for an ``error``); ``message`` keeps it as plain text."""
        self.message = text
        style = "color:#b00;font-weight:bold" if error else ""
        self.status.value = f"<span style='{style}'>{html.escape(text)}</span>"

    def report(self) -> str:
        """The last classification as text, one line per network: each class's probability and the most likely one."""
        if self.probabilities is None:
            return self.message
        lines = []
        for name, probs in zip(NETWORKS, self.probabilities):
            bars = " · ".join(
                f"{tr('class_n', c=c + 1)} {tr('percent', p=100 * p)}" for c, p in enumerate(probs.tolist())
            )
            best = tr("class_n", c=int(probs.argmax()) + 1)
            lines.append(tr("demo_report_line", name=tr(NETWORK_LABELS[name]), bars=bars, best=best))
        return "\n".join(lines)

    def _column(self, name: str, probs: torch.Tensor) -> W.Widget:
        """One network's bars: the probability of each class, the most likely one in bold."""
        best = int(probs.argmax())
        rows = []
        for c, p in enumerate(probs.tolist()):
            bar = W.FloatProgress(value=p, min=0.0, max=1.0, layout=W.Layout(width="150px"))
            bar.style.bar_color = COLOURS[c]
            weight = "bold" if c == best else "normal"
            label = W.HTML(f"<span style='font-weight:{weight}'>{html.escape(tr('class_n', c=c + 1))}</span>")
            label.layout.width = "80px"
            rows.append(
                W.HBox([label, bar, W.HTML(f"<span style='font-weight:{weight}'>{tr('percent', p=100 * p)}</span>")])
            )
        verdict = W.HTML(f"<b>→ {html.escape(tr('class_n', c=best + 1))}</b>")
        verdict.add_class(f"reptile-edu-prediction-{name}")
        title = W.HTML(f"<b>{html.escape(tr(NETWORK_LABELS[name]))}</b>")
        return W.VBox([title, *rows, verdict], layout=W.Layout(margin="0 24px 0 0"))

    # -- the panel ---------------------------------------------------------------------------
    @property
    def widget(self) -> W.Widget:
        """The whole demo, ready to display."""
        help_text = W.HTML(f"<p style='max-width:900px'>{html.escape(tr('demo_help'))}</p>")
        controls = W.HBox([W.VBox([self.ways, self.k, self.eta]), self.classify_button])
        box = W.VBox([help_text, self.pad_row, controls, self.status, self.seen_box, self.columns])
        box.add_class("reptile-edu-drawing-demo")
        return box

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
