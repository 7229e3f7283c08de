"""Lesson 04's playground compares runs: overlaid curves with their settings, a method switch, annealing,
and evaluation with the training η. Called through its callbacks, as the buttons would."""

import matplotlib
from matplotlib.figure import Figure

import reptile_edu.playground as base
import reptile_edu.sine_playground as w
from reptile_edu.sine_playground import ReptilePlayground

matplotlib.use("Agg")


def small_playground(**kw):
    return ReptilePlayground(steps=4, update_every=2, device="cpu", **kw)


def legend_texts(pg):
    fig = Figure()
    pg.draw(fig)
    return [t.get_text() for t in fig.axes[1].get_legend().get_texts()]


def spy(monkeypatch, name):
    """Record the keyword arguments of the next call of ``reptile`` (the playgrounds' base calls it), ``maml``
    or ``fomaml`` (the sine playground calls them)."""
    seen = {}
    module = base if name == "reptile" else w
    original = getattr(module, name)

    def wrapper(model, source, **kw):
        seen.update(kw, called=name)
        return original(model, source, **kw)

    monkeypatch.setattr(module, name, wrapper)
    return seen


def test_reset_starts_a_new_curve_and_keeps_the_old_one_with_its_settings():
    pg = small_playground()
    pg.reset()  # an untrained curve is not kept
    assert pg.old_curves == []
    pg.run()
    first = pg.curve_label
    assert first == "Reptile · k=5 · η=0.02 · ε=1 · n=10"
    pg.reset()
    assert [c.label for c in pg.old_curves] == [first] and len(pg.old_curves[0].points) == 3
    assert len(pg.scores) == 1 and pg.history.step == []
    pg.k.value = 2
    pg.run()
    assert pg.scores[-1][0] == 4  # the new curve starts again at outer step 0
    texts = legend_texts(pg)
    assert first in texts and "Reptile · k=2 · η=0.02 · ε=1 · n=10" in texts
    # Run again with other settings continues this curve; its label says what changed.
    pg.epsilon.value = 0.5
    pg.run(2)
    assert pg.curve_label == "Reptile · k=2 · η=0.02 · ε=1 · n=10 → ε=0.5" and pg.history.step[-1] == 6
    pg.clear()
    assert pg.old_curves == [] and len(legend_texts(pg)) == 2  # the current curve and its training loss


def test_method_switch_trains_maml_and_fomaml_with_their_own_step_size(monkeypatch):
    pg = small_playground()
    assert not pg.epsilon.disabled and pg.meta_lr.disabled
    pg.method_switch.value = "maml"
    assert pg.epsilon.disabled and not pg.meta_lr.disabled
    pg.meta_lr.value = 0.002
    seen = spy(monkeypatch, "maml")
    assert pg.run() is not None
    assert seen["called"] == "maml" and seen["meta_lr"] == 0.002 and seen["k"] == 5 and "epsilon" not in seen
    assert pg.history.method == "MAML" and pg.curve_label.startswith("MAML · k=5 · η=0.02 · β=2e-03")
    pg.reset()
    pg.method_switch.value = "fomaml"
    seen = spy(monkeypatch, "fomaml")
    pg.run()
    assert seen["called"] == "fomaml" and pg.old_curves[0].label.startswith("MAML")
    assert pg.curve_label.startswith("FOMAML")
    # A divergence names β, the step size in use, not ε.
    pg.eta.value, pg.k.value = 10.0, 10
    assert pg.run(10) is None and "β (now 0.002)" in pg.status.value


def test_anneal_toggle_and_the_evaluation_eta(monkeypatch):
    pg = small_playground()
    pg.anneal.value = True
    pg.eta.value = 0.01
    seen = spy(monkeypatch, "reptile")
    pg.run()
    assert seen["anneal"] is True and pg.curve_label == "Reptile · k=5 · η=0.01 · ε=1→0 · n=10"
    # Evaluated with the training η, and the status says so.
    assert pg.curve_eval_eta == 0.01 and "MSE after 32 steps with η = 0.01" in pg.status.value
    # With the toggle off, the next curve is evaluated with the fixed eval_eta, and its label says it.
    pg.reset()
    pg.eval_at_train_eta.value = False
    pg.run()
    assert pg.curve_eval_eta == 0.02 and pg.curve_label.endswith("evaluated with η = 0.02")
    assert pg.old_curves[0].eval_eta == 0.01 and pg.old_curves[0].label == "Reptile · k=5 · η=0.01 · ε=1→0 · n=10"
