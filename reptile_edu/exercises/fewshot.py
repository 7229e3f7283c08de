"""Lessons 06 and 07: a confidence interval for an accuracy, and reading a measured table."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .core import MESSAGES, Check, call_learner, message

MESSAGES.update(
    {
        "best_right": (
            "Right: {answer} has the {which} value, {value:.4g}.",
            "Doğru: en {which_tr} değer, {value:.4g} ile {answer} yönteminde.",
            "正确：{answer} 的值最{which_zh}，为 {value:.4g}。",
        ),
        "best_wrong": (
            "Not {answer} ({got:.4g}): look again at the numbers; another method has a {which} value.",
            "Cevap {answer} değil ({got:.4g}): sayılara yeniden bakın; başka bir yöntemin değeri daha {which_tr}.",
            "不是 {answer}（{got:.4g}）：请再看看这些数字，另有一种方法的值更{which_zh}。",
        ),
        "best_unknown": (
            "{answer!r} is not one of {names}.",
            "{answer!r} şu seçenekler arasında yok: {names}.",
            "{answer!r} 不在可选项 {names} 之中。",
        ),
        "ci_population_std": (
            "Almost: use the sample standard deviation (divide by T − 1, torch's default std()), not the population one.",
            "Neredeyse: kitle değil örneklem standart sapmasını kullanın (T − 1'e bölen, torch'un varsayılan std()'si).",
            "差一点：请使用样本标准差（除以 T − 1，即 torch 默认的 std()），而不是总体标准差。",
        ),
    }
)


def check_best(answer: object, scores: dict[str, float], *, lower_is_better: bool = True) -> Check:
    """Lesson 07: is ``answer`` the name with the lowest (or highest) score in the measured ``scores``?"""
    names = sorted(scores)
    if answer not in scores:
        return Check(False, message("best_unknown", answer=answer, names=", ".join(names)))
    best = (min if lower_is_better else max)(scores, key=scores.__getitem__)
    which, which_tr, which_zh = ("lowest", "düşük", "低") if lower_is_better else ("highest", "yüksek", "高")
    fields = {"which": which, "which_tr": which_tr, "which_zh": which_zh}
    if scores[answer] == scores[best]:
        return Check(True, message("best_right", answer=answer, value=scores[answer], **fields))
    return Check(False, message("best_wrong", answer=answer, got=scores[answer], **fields))


def check_confidence_interval(fn: Callable[[torch.Tensor], tuple[float, float]]) -> Check:
    """Lesson 06: ``fn(accuracies)`` → (mean, 1.96·s/√T) with s the sample standard deviation."""
    acc = (torch.rand(200, generator=torch.Generator().manual_seed(6)) < 0.7).float()
    got, crash = call_learner(fn, acc.clone())
    if crash is not None:
        return crash
    want = (acc.mean().item(), 1.96 * acc.std().item() / len(acc) ** 0.5)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return Check(False, message("shape", got=type(got).__name__, want="(mean, half_width)"))
    try:
        mean, half = float(got[0]), float(got[1])
    except (TypeError, ValueError):
        return Check(False, message("number", got=repr(got)))
    if abs(mean - want[0]) > 1e-6:
        return Check(False, message("wrong_value", error=abs(mean - want[0]) / want[0]))
    if abs(half - 1.96 * acc.std(correction=0).item() / len(acc) ** 0.5) < 1e-9:
        return Check(False, message("ci_population_std"))
    if abs(half - want[1]) > 1e-6:
        return Check(False, message("wrong_value", error=abs(half - want[1]) / want[1]))
    return Check(True, message("right"))


MESSAGES.update(
    {
        "episodes_right": (
            "Right: T = {n} episodes give a 95 % interval of ±{half:.5f} (target ±{target:g}).",
            "Doğru: T = {n} bölüm, %95'lik aralığı ±{half:.5f} yapar (hedef ±{target:g}).",
            "正确：T = {n} 个情节给出的 95% 置信区间为 ±{half:.5f}（目标 ±{target:g}）。",
        ),
        "episodes_no_square": (
            "With T = {n} the interval is ±{half:.5f}, far wider than ±{target:g}. The half-width shrinks like "
            "1/√T, so T grows with the square of 1.96·s/h, not with 1.96·s/h itself.",
            "T = {n} ile aralık ±{half:.5f}, yani ±{target:g} hedefinden çok daha geniş. Yarı genişlik 1/√T gibi "
            "küçülür; bu yüzden T, 1.96·s/h'nin kendisiyle değil karesiyle büyür.",
            "T = {n} 时区间为 ±{half:.5f}，远宽于 ±{target:g}。半宽按 1/√T 缩小，所以 T 随 1.96·s/h 的平方增长，"
            "而不是随 1.96·s/h 本身增长。",
        ),
        "episodes_no_z": (
            "With T = {n} the interval is ±{half:.5f}: one standard error s/√T, a 68 % interval. A 95 % interval "
            "needs 1.96 standard errors.",
            "T = {n} ile aralık ±{half:.5f}: bu tek bir standart hata, s/√T, yani %68'lik bir aralık. %95'lik "
            "aralık 1.96 standart hata ister.",
            "T = {n} 时区间为 ±{half:.5f}：这只是一个标准误 s/√T，也就是 68% 的区间。95% 的区间需要 1.96 个标准误。",
        ),
        "episodes_too_few": (
            "With T = {n} the interval is ±{half:.5f}, wider than ±{target:g}: more episodes are needed.",
            "T = {n} ile aralık ±{half:.5f}, yani ±{target:g} hedefinden geniş: daha çok bölüm gerekiyor.",
            "T = {n} 时区间为 ±{half:.5f}，宽于 ±{target:g}：需要更多的情节。",
        ),
        "episodes_too_many": (
            "T = {n} works (±{half:.5f}), but fewer episodes suffice: find the smallest T with 1.96·s/√T ≤ {target:g}.",
            "T = {n} yeterli (±{half:.5f}), ama daha az bölüm de yeter: 1.96·s/√T ≤ {target:g} koşulunu sağlayan "
            "en küçük T'yi bulun.",
            "T = {n} 可以（±{half:.5f}），但更少的情节就够了：请找出满足 1.96·s/√T ≤ {target:g} 的最小 T。",
        ),
        "episodes_integer": (
            "Give a whole number of episodes ≥ 2, not {got}.",
            "2 ya da daha büyük bir tam sayı girin; {got} değil.",
            "请给出一个不小于 2 的整数个情节，而不是 {got}。",
        ),
    }
)


def episodes_needed(std: float, half_width: float, z: float = 1.96) -> int:
    """The smallest T with z·s/√T ≤ h: T = ⌈(z·s/h)²⌉ (s the standard deviation of one episode's accuracy)."""
    return max(2, math.ceil((z * std / half_width) ** 2 - 1e-9))


def check_episodes_needed(n: object, *, std: float, half_width: float) -> Check:
    """Lesson 06: the number of test episodes T for a 95 % interval of ±``half_width`` when one episode's
    accuracy has standard deviation s = ``std``: the smallest T with 1.96·s/√T ≤ h (up to 5 % more accepted)."""
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        return Check(False, message("episodes_integer", got=repr(n)))
    need = episodes_needed(std, half_width)
    half = 1.96 * std / math.sqrt(n)
    fields = {"n": n, "half": half, "target": half_width}
    if need <= n <= math.ceil(1.05 * need):
        return Check(True, message("episodes_right", **fields))
    if n > need:
        return Check(False, message("episodes_too_many", **fields))
    if abs(n - 1.96 * std / half_width) <= 1.0:
        return Check(False, message("episodes_no_square", **fields))
    if abs(n - (std / half_width) ** 2) <= 0.01 * (std / half_width) ** 2 + 1:
        return Check(False, message("episodes_no_z", **fields))
    return Check(False, message("episodes_too_few", **fields))
