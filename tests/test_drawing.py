"""The drawing demo without a browser: strokes → 28×28 (where ink lands, the ink convention, the data's
format), the three networks on synthetic drawings, the cache, and an empty pad."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from reptile_edu import builtin_alphabets, drawing
from reptile_edu.characters import CharacterSet
from reptile_edu.drawing import (
    DrawingStyle,
    EmptyDrawingError,
    ink_boxes,
    measure_style,
    reference_shapes,
    shifted,
    stroke_widths,
    strokes_to_image,
)
from reptile_edu.drawing_networks import DEMO_SETTINGS, NETWORKS, cache_key, data_digest, demo_networks
from reptile_edu.i18n import set_language, tr

STYLE = DrawingStyle(box=20.0, centre=(14.0, 14.0), pen=2.5)


@pytest.fixture(scope="module")
def chars() -> CharacterSet:
    return builtin_alphabets()


@pytest.fixture(scope="module")
def networks(chars, tmp_path_factory):
    """The demo's smoke networks (a few seconds of training), cached in a folder of the test's own."""
    return demo_networks(chars, budget="smoke", device="cpu", cache=tmp_path_factory.mktemp("cache"), progress=False)


def hand_drawn(shape: str, rng: np.random.Generator) -> list[list[tuple[float, float]]]:
    """A new drawing of one of ``reference_shapes`` on a 160-pixel pad, as a hand would make it."""
    return drawing.hand_drawn(reference_shapes()[shape], rng)


# -- the conversion -------------------------------------------------------------------------


def test_a_horizontal_stroke_lands_on_the_middle_row_as_ink_255():
    img = strokes_to_image([[(10, 50), (90, 50)]], STYLE)
    assert img.dtype == torch.uint8 and img.shape == (28, 28)
    ink = img >= 128
    rows = torch.nonzero(ink.any(1)).flatten().tolist()
    cols = torch.nonzero(ink.any(0)).flatten().tolist()
    assert img.max() == 255 and img[0, 0] == 0  # ink = 255 on paper = 0, as CharacterSet.images
    assert set(rows) <= {12, 13, 14, 15} and len(rows) in (2, 3)  # a pen 2.5 pixels wide, centred at y = 14
    assert cols[0] == 4 and cols[-1] == 23  # 20 pixels from ink edge to ink edge, centred at x = 14
    assert img[13:15, 8:20].float().mean() > 200  # solid ink along the stroke


def test_y_grows_downwards_and_x_to_the_right():
    # An "L": down the left side, then along the bottom (pad coordinates, y downwards).
    img = strokes_to_image([[(20, 20), (20, 80), (60, 80)]], STYLE).float()
    assert img[:, :14].sum() > 2 * img[:, 14:].sum()  # the long vertical stroke is on the left
    assert img[20:, :].sum() > 2 * img[:8, :].sum()  # the foot is at the bottom


def test_place_and_size_on_the_pad_do_not_matter():
    stroke = [[(10, 10), (40, 30), (25, 60)]]
    small = strokes_to_image(stroke, STYLE)
    big_elsewhere = strokes_to_image([[(3 * x + 200, 3 * y + 50) for x, y in stroke[0]]], STYLE)
    assert (small.int() - big_elsewhere.int()).abs().max() <= 2


def test_the_aspect_ratio_is_kept():
    img = strokes_to_image([[(0, 0), (100, 0), (100, 50), (0, 50), (0, 0)]], STYLE)  # a 2:1 rectangle
    ink = img >= 128
    width = int(ink.any(0).sum())
    height = int(ink.any(1).sum())
    assert width == 20 and abs(height - (10 + 1.25)) <= 1.5  # centre lines 17.5 × 8.75 apart, plus the pen


def test_drawings_take_the_datas_place_size_and_stroke_width(chars):
    """Drawings of simple shapes have the data's ink box (size, centre) and stroke width, measured the same way."""
    style = measure_style(chars)
    data = chars.images[:, :4].flatten(0, 1)
    data_side, data_centre = ink_boxes(data)
    rng = np.random.default_rng(0)
    drawn = torch.stack([strokes_to_image(hand_drawn(s, rng), style) for s in reference_shapes() for _ in range(4)])
    side, centre = ink_boxes(drawn)
    assert abs(float(side.median()) - float(data_side.median())) <= 1
    assert (centre - centre.new_tensor(style.centre)).abs().max() <= 1
    assert (centre.median(0).values - data_centre.median(0).values).abs().max() <= 1
    width, data_width = float(stroke_widths(drawn).median()), float(stroke_widths(data).median())
    assert abs(width - data_width) / data_width < 0.25, (width, data_width)


def test_the_style_is_measured_on_the_data_so_it_follows_new_glyphs():
    """Data drawn bigger and with a thicker pen gives a bigger box and a thicker pen."""
    shapes = list(reference_shapes().values())

    def data_like(style: DrawingStyle) -> CharacterSet:
        images = torch.stack([strokes_to_image(s, style) for s in shapes]).view(len(shapes), 1, 28, 28)
        alphabet_of = torch.zeros(len(shapes), dtype=torch.long)
        return CharacterSet(images.repeat(1, 2, 1, 1), alphabet_of, ("a",), tuple("vwxyz"))

    thin = measure_style(data_like(DrawingStyle(16.0, (14.0, 14.0), 1.5)))
    thick = measure_style(data_like(DrawingStyle(24.0, (14.0, 13.0), 3.5)))
    assert thin.box == 16 and thick.box == 24
    assert thick.centre == (14.0, 13.0)
    assert abs(thin.pen - 1.5) < 0.5 and abs(thick.pen - 3.5) < 0.6, (thin.pen, thick.pen)


def test_shifted_copies_move_the_ink_by_whole_pixels():
    img = torch.zeros(1, 28, 28, dtype=torch.uint8)
    img[0, 10, 12] = 255
    copies = shifted(img, 20, 2, torch.Generator().manual_seed(0))
    assert copies.shape == (1, 20, 28, 28) and torch.equal(copies[0, 0], img[0])
    where = [torch.nonzero(c).flatten().tolist() for c in copies[0]]
    assert all(len(w) == 2 and abs(w[0] - 10) <= 2 and abs(w[1] - 12) <= 2 for w in where)
    assert len({tuple(w) for w in where}) > 5  # they really move


def test_an_empty_drawing_is_a_clear_error():
    for empty in ([], [[]], [[], []]):
        with pytest.raises(EmptyDrawingError, match="empty"):
            strokes_to_image(empty, STYLE)
    with pytest.raises(ValueError, match=r"strokes\[1\]"):
        strokes_to_image([[(1, 2)], [(float("nan"), 3)]], STYLE)
    set_language("tr")
    try:
        with pytest.raises(EmptyDrawingError, match="boş"):
            strokes_to_image([], STYLE)
    finally:
        set_language("en")


def test_a_single_tap_is_a_dot_in_the_middle():
    img = strokes_to_image([[(40, 40)]], STYLE)
    ink = torch.nonzero(img >= 128).float()
    assert len(ink) > 0 and (ink.mean(0) - 13.5).abs().max() < 1


# -- the networks ---------------------------------------------------------------------------


def test_the_three_networks_tell_a_circle_a_cross_and_a_bar_apart(networks, chars):
    """One drawing of each shape as support; new drawings of each as queries: Reptile's θ gets them right."""
    style = measure_style(chars)
    rng = np.random.default_rng(1)
    shapes = ("circle", "cross", "bar")
    support = torch.stack([strokes_to_image(hand_drawn(s, rng), style) for s in shapes])
    queries = torch.stack([strokes_to_image(hand_drawn(s, rng), style) for s in shapes for _ in range(3)])
    probs = networks.classify(support, queries)
    assert probs.shape == (len(NETWORKS), 9, 3)
    assert torch.allclose(probs.sum(-1), torch.ones(len(NETWORKS), 9), atol=1e-5)
    truth = torch.arange(3).repeat_interleave(3)
    reptile = probs[NETWORKS.index("reptile")].argmax(-1)
    assert (reptile == truth).float().mean() >= 8 / 9, reptile.tolist()
    # Without adaptation steps worth the name, the zero output layer of pre-training says "don't know".
    flat = networks.classify(support, queries[0], k=1, eta=1e-6)
    assert torch.allclose(flat[NETWORKS.index("pretrained")], torch.full((3,), 1 / 3), atol=1e-3)


def test_classify_checks_its_arguments(networks):
    support = torch.zeros(3, 28, 28, dtype=torch.uint8)
    with pytest.raises(ValueError, match="k"):
        networks.classify(support, support[0], k=0)
    with pytest.raises(ValueError, match="η"):
        networks.classify(support, support[0], eta=-1.0)
    with pytest.raises(ValueError, match="ways"):
        networks.classify(torch.zeros(6, 28, 28, dtype=torch.uint8), support[0])
    set_language("zh")
    try:
        with pytest.raises(ValueError, match="形状"):
            networks.classify(support, torch.zeros(2, 2, 28, 28, dtype=torch.uint8))
        with pytest.raises(ValueError, match="内循环步数"):
            networks.classify(support, support[0], k=0)
    finally:
        set_language("en")


def test_the_networks_are_cached_with_a_checksum_keyed_by_data_and_settings(chars, tmp_path):
    small = chars.subset(torch.arange(0, chars.num_classes, 4))  # another data set: another key
    settings = DEMO_SETTINGS["smoke"]
    assert cache_key(settings, data_digest(small)) != cache_key(settings, data_digest(chars))
    first = demo_networks(small, budget="smoke", cache=tmp_path, progress=False)
    assert first.record["from_cache"] is False and first.record["train_seconds"] > 0
    again = demo_networks(small, budget="smoke", cache=tmp_path, progress=False)
    assert again.record["from_cache"] is True
    for name in ("reptile", "pretrained"):
        for key, value in first.states[name].items():
            assert torch.equal(value, again.states[name][key])
    (folder,) = tmp_path.iterdir()
    assert folder.name == cache_key(settings, data_digest(small))
    weights = folder / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")  # same size, different bytes
    with pytest.warns(UserWarning, match="checksum"):
        retrained = demo_networks(small, budget="smoke", cache=tmp_path, progress=False)
    assert retrained.record["from_cache"] is False


# -- the widget -----------------------------------------------------------------------------


def test_the_demo_names_the_empty_pads_and_then_classifies(networks, chars):
    from reptile_edu.drawing_demo import DrawingDemo

    demo = DrawingDemo(networks, chars, ways=3)
    demo.ways.value = 3
    rng = np.random.default_rng(2)
    demo.pads[0].draw(hand_drawn("circle", rng))
    demo.pads[2].draw(hand_drawn("bar", rng))
    assert demo.classify() is None and demo.prediction is None
    assert tr("class_n", c=2) in demo.status.value and tr("query_name") in demo.status.value
    assert tr("class_n", c=1) not in demo.status.value
    demo.pads[1].draw(hand_drawn("cross", rng))
    demo.query.draw(hand_drawn("cross", rng))
    probs = demo.classify()
    assert probs is not None and probs.shape == (3, 3)
    assert demo.prediction == 1, probs
    assert tr("class_n", c=2) in demo.status.value and len(demo.columns.children) == 3
    assert demo.seen.value[:4] == b"\x89PNG"
    # Clear empties a pad again; fewer ways hide the pads beyond N and ignore them.
    demo.pads[2].clear()
    assert demo.pads[2].is_empty() and demo.classify() is None
    demo.ways.value = 2
    assert demo.pads[2].widget.layout.display == "none"
    assert demo.classify().shape == (3, 2)


def test_the_pads_record_mouse_and_touch_strokes(networks, chars):
    from reptile_edu.drawing_demo import DrawingPad

    pad = DrawingPad("x")
    pad.pen_move(5, 5)  # moving without the button down draws nothing
    assert pad.is_empty()
    pad.pen_down(10, 10)
    pad.pen_move(20, 15)
    pad.pen_up()
    pad.pen_move(40, 40)
    pad.canvas._handle_frontend_event(None, {"event": "touch_start", "touches": [{"x": 50, "y": 50}]}, None)
    pad.canvas._handle_frontend_event(None, {"event": "touch_move", "touches": [{"x": 60, "y": 70}]}, None)
    pad.canvas._handle_frontend_event(None, {"event": "touch_end", "touches": []}, None)
    assert pad.strokes == [[(10.0, 10.0), (20.0, 15.0)], [(50.0, 50.0), (60.0, 70.0)]]
    pad.canvas._handle_frontend_event(None, {"event": "mouse_down", "x": 1, "y": 2}, None)
    pad.canvas._handle_frontend_event(None, {"event": "mouse_move", "x": 3, "y": 4}, None)
    pad.canvas._handle_frontend_event(None, {"event": "mouse_up", "x": 3, "y": 4}, None)
    assert pad.strokes[-1] == [(1.0, 2.0), (3.0, 4.0)]
    pad.clear()
    assert pad.is_empty()


@pytest.mark.parametrize("lang", ["tr", "zh"])
def test_the_demo_speaks_the_learners_language(lang, networks, chars):
    from reptile_edu.drawing_demo import DrawingDemo

    set_language(lang)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no CJK font for plots: irrelevant to widget labels
            demo = DrawingDemo(networks, chars)
        assert demo.classify_button.description == tr("classify", lang) != tr("classify", "en")
        assert demo.pads[0].clear_button.description == tr("clear_pad", lang)
        assert demo.classify() is None and tr("query_name", lang) in demo.status.value
    finally:
        set_language("en")
