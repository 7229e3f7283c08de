"""Evaluation tells what a mean hides: the median, a high quantile, the worst task, the diverged tasks.

A planted diverging task (its inputs scaled up, so that the curvature of its loss makes η = 0.01 far
too large for it) must be named, counted and kept out of the median.
"""

import math
import warnings

import matplotlib
import numpy as np
import pytest
import torch

from reptile_edu import MLP, DivergedTasksWarning, DivergenceError, Episodes, Evaluation, SineFamily, evaluate, i18n
from reptile_edu.evaluation import EXPLOSION_FACTOR
from reptile_edu.plots import plot_adaptation_curves

matplotlib.use("Agg")

PLANTED = 7


def model():
    torch.manual_seed(0)
    return MLP.preset("maml")


def episodes(scale: float | None = None) -> Episodes:
    """20 sine tasks (5 shots, 20 queries); with ``scale``, task 7's inputs are multiplied by it."""
    ep = SineFamily("maml", shots=5, queries=20).episodes(20, torch.Generator().manual_seed(3))
    if scale is None:
        return ep
    xs, xq = ep.x_support.clone(), ep.x_query.clone()
    xs[PLANTED] *= scale
    xq[PLANTED] *= scale
    return Episodes(xs, ep.y_support, xq, ep.y_query, "mse")


def run(ep: Episodes) -> tuple[Evaluation, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ev = evaluate(model(), ep, k=10, eta=0.01)
    return ev, [w for w in caught if issubclass(w.category, DivergedTasksWarning)]


def test_a_healthy_evaluation_is_the_plain_mean_and_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ev = evaluate(model(), episodes(), k=10, eta=0.01)
    table = ev.loss_per_task.double().numpy()
    assert table.shape == (11, 20)
    np.testing.assert_allclose(ev.loss, table.mean(1), rtol=1e-6)
    np.testing.assert_allclose(ev.median, np.median(table, axis=1), rtol=1e-12)
    np.testing.assert_allclose(ev.quantile(0.9), np.quantile(table, 0.9, axis=1), rtol=1e-12)
    assert ev.diverged == 0 and ev.diverged_tasks == []
    assert ev.worst_task == (int(table[-1].argmax()), pytest.approx(float(table[-1].max())))


def test_a_planted_exploding_task_is_named_counted_and_leaves_the_median_alone():
    healthy, _ = run(episodes())
    ev, caught = run(episodes(scale=30.0))  # finite, but its loss grows by orders of magnitude
    final = ev.final_per_task.double()
    assert math.isfinite(final[PLANTED]) and final[PLANTED] > EXPLOSION_FACTOR * ev.loss_per_task[0, PLANTED]
    assert ev.diverged_tasks == [PLANTED] and ev.diverged == 1
    assert ev.worst_task[0] == PLANTED
    assert ev.final > 1e6  # the mean is ruined by one task ...
    others = torch.cat([final[:PLANTED], final[PLANTED + 1 :]])
    assert ev.median[-1] == pytest.approx(float(np.median(np.append(others.numpy(), np.inf))))
    assert ev.median[-1] < 20 and ev.median[-1] == pytest.approx(healthy.median[-1])  # ... not the median
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "1 of 20 held-out tasks diverged" in message and f"task {PLANTED}:" in message
    assert "median" in message and "eta" not in message and "η (now 0.01)" in message
    assert f"worst task {PLANTED}" in ev.summary() and "1 of 20 tasks diverged" in ev.summary()


def test_a_planted_nan_task_is_left_out_of_the_mean_never_averaged_into_nan():
    ev, caught = run(episodes(scale=1e4))  # overflows to ∞, then NaN
    assert not torch.isfinite(ev.final_per_task[PLANTED])
    assert all(math.isfinite(v) for v in ev.loss + ev.median)
    finite = ev.loss_per_task[-1][torch.arange(20) != PLANTED]
    assert ev.final == pytest.approx(float(finite.mean()))
    assert ev.diverged_tasks == [PLANTED] and ev.worst_task[0] == PLANTED
    assert math.isinf(ev.quantile(1.0)[-1])  # the worst task counts as +∞ in the quantiles
    message = str(caught[0].message)
    assert f"task {PLANTED}:" in message and "left out of the mean" in message


def test_the_warning_and_summary_speak_the_learners_language():
    i18n.set_language("zh")
    _, caught = run(episodes(scale=30.0))
    assert f"最差的是第 {PLANTED} 号任务" in str(caught[0].message)
    i18n.set_language("tr")
    ev, caught = run(episodes(scale=30.0))
    assert f"En kötüsü {PLANTED} numaralı görev" in str(caught[0].message)
    assert "20 görevden 1 tanesi ıraksadı" in ev.summary()


def test_when_most_tasks_diverge_the_evaluation_is_a_clear_error():
    with pytest.raises(DivergenceError, match=r"Adaptation diverged at inner step \d+.*η \(eta=100\)"):
        evaluate(model(), episodes(), k=20, eta=100.0)


def test_diverged_means_non_finite_or_above_the_factor_times_the_loss_before_adaptation():
    table = torch.tensor(
        [
            [1.0, 2.0, 1.0, 3.0],  # before adaptation
            [0.5, 2.0 * 50, 1.0 * 150, math.nan],  # task 1 grows 50× (kept), task 2 150× (diverged), task 3 NaN
        ]
    )
    ev = Evaluation(loss=[1.75, 50.25], accuracy=None, final_per_task=table[-1], loss_per_task=table)
    assert ev.diverged_tasks == [2, 3]
    assert ev.worst_task[0] == 3 and math.isnan(ev.worst_task[1])
    assert ev.median == [1.5, pytest.approx((100.0 + 150.0) / 2)]
    with pytest.raises(ValueError, match=r"^q \(quantile\) must be a number between 0 and 1; got 90\.$"):
        ev.quantile(90)


def test_an_evaluation_with_only_final_numbers_still_reports_them():
    ev = Evaluation(loss=[2.0], accuracy=[0.5], final_per_task=torch.tensor([1.0, 2.0, 3.0]))
    assert ev.median == [2.0] and ev.quantile(0.9) == [pytest.approx(2.8)] and ev.diverged == 0


def test_the_adaptation_plot_draws_the_median_and_says_how_many_tasks_diverged():
    ev, _ = run(episodes(scale=30.0))
    healthy, _ = run(episodes())
    ax = plot_adaptation_curves({"MAML": ev, "Joint training": healthy}, log=True)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["MAML: 1 of 20 tasks diverged", "MAML, median over tasks", "joint training"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), ev.median)
    ax = plot_adaptation_curves({"Joint training": healthy}, median=True)
    assert [line.get_label() for line in ax.get_lines()] == ["joint training", "joint training, median over tasks"]
