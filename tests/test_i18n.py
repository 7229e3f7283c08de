"""Chinese plot text: a CJK font when one is installed, English labels otherwise, never empty boxes."""

import string
import warnings

import matplotlib
import pytest

from reptile_edu import i18n

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def restore():
    yield
    i18n._state.pop("warned", None)
    i18n.set_language("en")


def test_without_a_cjk_font_chinese_plots_fall_back_to_english(monkeypatch):
    monkeypatch.setattr(i18n, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="No CJK font found"):
        i18n.set_language("zh")
    assert i18n.plot_language() == "en"
    assert i18n.plot_text("accuracy") == "accuracy"
    assert i18n.tr("accuracy") == "准确率"  # widgets (HTML, the browser's fonts) stay Chinese


def test_with_a_cjk_font_chinese_plots_use_it(monkeypatch):
    monkeypatch.setattr(i18n, "cjk_font", lambda: "Some CJK Sans")
    i18n.set_language("zh")
    assert i18n.plot_language() == "zh" and i18n.plot_text("accuracy") == "准确率"
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", "Some CJK Sans"]
    i18n.set_language("en")
    assert i18n.plot_text("accuracy") == "accuracy"


def test_an_installed_cjk_font_renders_every_chinese_label_without_missing_glyphs(caplog):
    i18n.cjk_font.cache_clear()
    if i18n.cjk_font() is None:
        pytest.skip("no CJK font installed (e.g. apt install fonts-noto-cjk); the fallback test covers this machine")
    i18n.set_language("zh")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.subplots()
    for texts in i18n.STRINGS.values():  # every Chinese text, placeholders filled (θ̃ labels included)
        names = {f for _, f, _, _ in string.Formatter().parse(texts[2]) if f}
        ax.text(0, 0, texts[2].format(**dict.fromkeys(names, 1.5)))
    # A box shows up as a warning ("Glyph … missing from font(s)") for plain text, and as a logged
    # message ("Font 'default' does not have a glyph for …") for mathtext ($…$): catch both.
    with warnings.catch_warnings(), caplog.at_level("WARNING", logger="matplotlib"):
        warnings.simplefilter("error")
        FigureCanvasAgg(fig).draw()
    boxes = [r.getMessage() for r in caplog.records if "glyph" in r.getMessage().lower()]
    assert not boxes, boxes


def test_chinese_plots_draw_digits_and_minus_signs_exactly_like_english_ones():
    """A log axis' tick "6×10⁻¹" once showed its minus as a box with a CJK font first in the list."""
    i18n.cjk_font.cache_clear()
    if i18n.cjk_font() is None:
        pytest.skip("no CJK font installed (e.g. apt install fonts-wqy-zenhei); the fallback test covers this machine")
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def draw(lang):
        i18n.set_language(lang)
        fig = Figure(figsize=(2, 1), dpi=100)
        fig.text(0.1, 0.4, r"$\mathdefault{6\times10^{-1}}$ −0.25 θ̃ η ε")
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba()).copy()

    try:
        english, chinese = draw("en"), draw("zh")
    finally:
        i18n.set_language("en")
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
    assert english.shape == chinese.shape
    assert (english != chinese).any(axis=-1).sum() == 0
