"""The playground's callbacks, called as plain functions (no browser), and the language setting."""

import matplotlib
import pytest
import torch

from reptile_edu import i18n
from reptile_edu.sine_playground import ReptilePlayground

matplotlib.use("Agg")


def small_playground(**kw):
    return ReptilePlayground(steps=20, update_every=10, device="cpu", **kw)


def test_run_trains_updates_the_figure_progress_and_status():
    pg = small_playground()
    before_png = pg.image.value
    before = [p.detach().clone() for p in pg.model.parameters()]
    history = pg.run()
    assert history is not None and len(history) == 20
    assert pg.progress.value == 20 and pg.progress.max == 20
    assert pg.image.value != before_png and pg.image.value[:4] == b"\x89PNG"
    assert pg.status.value.startswith("Done: 20 outer steps")
    assert any(not torch.equal(a, b) for a, b in zip(before, pg.model.parameters()))
    # Run again continues from θ and the curve keeps growing.
    pg.run(5)
    assert pg.history.step[-1] == 25


def test_sliders_drive_the_training_settings():
    pg = small_playground()
    pg.k.value, pg.eta.value, pg.epsilon.value, pg.meta_batch.value = 1, 0.01, 0.5, 3
    seen = {}
    import reptile_edu.playground as w

    original = w.reptile

    def spy(model, source, **kw):
        seen.update(kw)
        return original(model, source, **kw)

    w.reptile = spy
    try:
        pg.run(2)
    finally:
        w.reptile = original
    assert (seen["k"], seen["eta"], seen["epsilon"], seen["meta_batch"]) == (1, 0.01, 0.5, 3)


def test_divergent_eta_shows_the_message_and_puts_theta_back_where_the_run_started():
    pg = small_playground()
    pg.run(10)
    theta = [p.detach().clone() for p in pg.model.parameters()]
    steps, curve = list(pg.history.step), list(pg.held_out_mse)
    pg.eta.value, pg.epsilon.value, pg.k.value = 10.0, 1.0, 10
    assert pg.run(50) is None
    assert pg.error is not None
    assert "Training diverged at outer step" in pg.status.value and "Lower η (now 10)" in pg.status.value
    assert "θ is back where it was before this run" in pg.status.value
    assert all(torch.equal(a, b) for a, b in zip(theta, pg.model.parameters()))
    assert pg.history.step == steps and pg.held_out_mse == curve
    # Lower η and run again: training goes on from there, as the message promises.
    pg.eta.value = 0.02
    history = pg.run(10)
    assert history is not None and pg.history.step[-1] == 20
    assert all(torch.isfinite(p).all() for p in pg.model.parameters())


def test_stop_button_stops_a_threaded_run_after_a_whole_step():
    pg = small_playground()
    pg.stop()  # a stop pressed before Run does not carry over
    pg.start()
    pg.stop()
    pg.wait(60)
    assert pg.history.step, "the run should have taken at least one step"
    assert len(pg.history.step) < 20 and pg.status.value.startswith("Stopped at outer step")
    assert not pg.run_button.disabled and pg.stop_button.disabled


def test_reset_restores_the_seeded_start():
    pg = small_playground()
    first = [p.detach().clone() for p in pg.model.parameters()]
    pg.run(3)
    pg.reset()
    assert all(torch.equal(a, b) for a, b in zip(first, pg.model.parameters()))
    assert pg.history.step == []


@pytest.mark.parametrize(
    ("lang", "k_label", "run_label"),
    [("en", "k inner steps", "Run"), ("tr", "k iç adım sayısı", "Çalıştır"), ("zh", "k 内循环步数", "运行")],
)
def test_widget_labels_follow_the_language(lang, k_label, run_label):
    i18n.set_language(lang)
    pg = small_playground()
    assert pg.k.description == k_label and pg.run_button.description == run_label
    pg.eta.value = 10.0
    pg.k.value = 10
    pg.run(30)
    assert {"en": "diverged", "tr": "ıraksadı", "zh": "发散"}[lang] in pg.status.value


def test_language_comes_from_the_notebook_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("REPTILE_EDU_LANG", raising=False)
    assert i18n.set_language(notebook_dir=tmp_path / "notebooks" / "tr") == "tr"
    assert i18n.set_language(notebook_dir=tmp_path / "elsewhere") == "en"
    monkeypatch.setenv("REPTILE_EDU_LANG", "zh")  # after the folder (tests/test_notebook_language.py)
    assert i18n.set_language(notebook_dir=tmp_path / "notebooks" / "tr") == "tr"
    assert i18n.set_language(notebook_dir=tmp_path / "elsewhere") == "zh"
    with pytest.raises(ValueError, match="^lang .*'en', 'tr', 'zh'.*'de'"):  # in the language set just before
        i18n.set_language("de")


def test_every_text_exists_in_all_three_languages_with_the_same_fields():
    import string

    for key, texts in i18n.STRINGS.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in texts]
        assert fields[0] == fields[1] == fields[2], key
        assert all(t.strip() for t in texts), key


def test_few_shot_playground_trains_switches_n_and_reports_accuracy():
    from _fewshot import alphabets

    from reptile_edu.fewshot_playground import FewShotPlayground

    full = alphabets()
    test_names = sorted(full.test_alphabets)[:2]
    train_names = [a for a in full.alphabets if a not in full.test_alphabets][:2]
    chars = full.subset(torch.cat([full.classes_of(a)[:3] for a in train_names + test_names]))
    pg = FewShotPlayground(
        chars, steps=4, update_every=2, eval_tasks=4, eval_k=2, channels=8, train_shots=4, batch_size=4, device="cpu"
    )
    before = pg.image.value
    assert pg.ways.description == "N classes (N-way)" and pg.shots.description == "K shots per class"
    assert pg.run() is not None
    assert pg.image.value != before and pg.status.value.startswith("Done: 4 outer steps")
    assert "5-way 1-shot accuracy" in pg.status.value and " ± " in pg.status.value
    _, mean, half, shots = pg.accuracy[-1]
    assert shots == 1 and 0 < half < 1  # a 95 % interval over the held-out episodes, drawn as error bars
    # Train once, test at another K: the same network and θ, new held-out episodes, a point at the same step.
    model, theta = pg.model, [p.detach().clone() for p in pg.model.parameters()]
    pg.shots.value = 3
    assert pg.model is model and all(torch.equal(a, b) for a, b in zip(theta, model.parameters()))
    assert pg.accuracy[-1][0] == 4 and pg.accuracy[-1][3] == 3 and pg.test_episodes.x_support.shape[1] == 5 * 3
    assert pg.status.value.startswith("Tested the same θ at 5-way 3-shot, without training")
    from matplotlib.figure import Figure

    fig = Figure()
    pg.draw(fig)
    assert len(fig.axes[0].containers) == 2  # one error-bar series per K tested: 1-shot and 3-shot
    pg.ways.value = 3
    pg.run(2)
    assert pg.model.ways == 3 and "3-way 3-shot" in pg.status.value
