"""Chinese plot text: a CJK font when one is installed, English labels otherwise, never empty boxes."""

import string
import warnings
from types import SimpleNamespace

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
    with pytest.warns(UserWarning, match="找不到中文（CJK）字体"):
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


class FakeFontManager:
    """matplotlib's font list, as far as ``cjk_font`` uses it: entries with a family name and a file."""

    def __init__(self, fonts: dict[str, str]) -> None:
        self.ttflist = [SimpleNamespace(name=name, fname=path) for path, name in fonts.items()]
        self.files_on_disk = dict(fonts)

    def addfont(self, path: str) -> None:
        self.ttflist.append(SimpleNamespace(name=self.files_on_disk[path], fname=path))


@pytest.fixture
def fonts(monkeypatch):
    """matplotlib's cached list knows DejaVu Sans only; ``on_disk`` is what a rescan of the system finds."""
    from matplotlib import font_manager

    manager = FakeFontManager({"/fonts/DejaVuSans.ttf": "DejaVu Sans"})
    scans = []

    def find_system_fonts():
        scans.append(1)
        return list(manager.files_on_disk)

    monkeypatch.setattr(font_manager, "fontManager", manager)
    monkeypatch.setattr(font_manager, "findSystemFonts", find_system_fonts)
    i18n.cjk_font.cache_clear()
    yield SimpleNamespace(manager=manager, scans=scans)
    i18n.cjk_font.cache_clear()


def test_a_cjk_font_installed_after_matplotlib_cached_its_font_list_is_found_by_a_rescan(fonts):
    fonts.manager.files_on_disk["/fonts/NotoSansCJK-Regular.ttc"] = "Noto Sans CJK SC"  # installed since
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no missing-font warning
        i18n.set_language("zh")
    assert i18n.plot_language() == "zh" and i18n.plot_text("accuracy") == "准确率"
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", "Noto Sans CJK SC"]
    assert len(fonts.scans) == 1


def test_without_any_cjk_font_the_system_is_rescanned_once_then_plots_fall_back_to_english(fonts):
    with pytest.warns(UserWarning, match="找不到中文（CJK）字体"):
        i18n.set_language("zh")
    i18n.set_language("zh")
    assert i18n.plot_language() == "en"
    assert len(fonts.scans) == 1, "the rescan should happen once per session, not at every call"


def test_a_cjk_font_already_in_matplotlibs_list_needs_no_rescan(fonts):
    fonts.manager.files_on_disk["/fonts/wqy-zenhei.ttc"] = "WenQuanYi Zen Hei"
    fonts.manager.addfont("/fonts/wqy-zenhei.ttc")
    assert i18n.cjk_font() == "WenQuanYi Zen Hei" and not fonts.scans
