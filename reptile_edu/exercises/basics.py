"""Lessons 00–02: tasks as tensors, a learning rate η for one task, the average sine wave."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..episodes import Episodes
from ..evaluation import evaluate
from ..methods import DivergenceError
from ..sine import SINE_PRESETS, SineFamily
from .core import MESSAGES, Check, call_learner, check_number, first_match, is_number, message, relative_error

MESSAGES.update(
    {
        "not_tasks": (
            "Expected the batch of tasks that SineFamily.sample returns, got {got}.",
            "SineFamily.sample'ın döndürdüğü türden bir görev yığını bekleniyordu; gelen ise {got}.",
            "这里需要 SineFamily.sample 返回的任务批次，但得到的是 {got}。",
        ),
        "not_tensor": (
            "Expected a tensor, got {got}.",
            "Bir tensör bekleniyordu; gelen ise {got}.",
            "这里需要一个张量，但得到的是 {got}。",
        ),
        "sine_broadcast": (
            "The result has shape {got}, not {want}. The amplitude and the phase are [T], one number per task, while "
            "x is [T, N, 1]: give them two trailing dimensions, [T, 1, 1], so that each task's A and φ meet its own "
            "points.",
            "Sonucun şekli {got}, {want} değil: genlik ve faz [T] şeklinde, her görev için tek sayı; x ise [T, N, 1]. "
            "Onlara sonda iki boyut ekleyip [T, 1, 1] yapın; böylece her görevin A ve φ değeri kendi noktalarıyla "
            "eşleşir.",
            "结果的形状是 {got}，而不是 {want}：振幅和相位的形状是 [T]，每个任务一个数，而 x 是 [T, N, 1]。"
            "请在它们末尾添加两个维度，变成 [T, 1, 1]，让每个任务的 A 和 φ 对应它自己的点。",
        ),
        "sine_plus_phase": (
            "The wave is shifted the wrong way: the course's tasks are A·sin(x − φ), with a minus.",
            "Dalga ters yöne kaymış: dersin görevleri A·sin(x − φ), yani eksi işaretiyle.",
            "波形平移的方向反了：本课程的任务是 A·sin(x − φ)，是减号。",
        ),
        "sine_no_amplitude": (
            "Every wave has amplitude 1: multiply by each task's amplitude A.",
            "Her dalganın genliği 1 çıkıyor: her görevin kendi A genliğiyle çarpın.",
            "每条波的振幅都是 1：请乘以每个任务自己的振幅 A。",
        ),
        "sine_first_task": (
            "Every task got the first task's A and φ: index the amplitude and phase per task, not with [0].",
            "Her göreve ilk görevin A ve φ değeri gitmiş: genliği ve fazı [0] ile değil, görev görev kullanın.",
            "每个任务都用了第一个任务的 A 和 φ：请按任务取振幅和相位，而不是用 [0]。",
        ),
        "eta_slow": (
            "With η = {eta:g} the MSE after {k} steps is {mse:.3f}, above the target {target}: η is too small.",
            "η = {eta:g} ile {k} adımdan sonra ortalama kare hata {mse:.3f}; bu, hedef olan {target} değerinin üstünde: η çok küçük.",
            "η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}，高于目标 {target}：η 太小了。",
        ),
        "eta_diverges": (
            "With η = {eta:g} the fit blows up (MSE {mse:.3g}): η is too large.",
            "η = {eta:g} ile model uyumu ıraksıyor (ortalama kare hata {mse:.3g}): η çok büyük.",
            "η = {eta:g} 时拟合发散（均方误差 {mse:.3g}）：η 太大了。",
        ),
        "eta_ok": (
            "Right: with η = {eta:g} the MSE after {k} steps is {mse:.3f} (target < {target}).",
            "Doğru: η = {eta:g} ile {k} adımdan sonra ortalama kare hata {mse:.3f} (hedef < {target}).",
            "正确：η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}（目标 < {target}）。",
        ),
    }
)


def check_task_batch(tasks: object, *, num_tasks: int, num_points: int) -> Check:
    """Lesson 00: a ``SineTasks`` batch of T tasks with N points each, ``x`` and ``y`` shaped ``[T, N, 1]``."""
    x, y = getattr(tasks, "x", None), getattr(tasks, "y", None)
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or not callable(getattr(tasks, "fn", None)):
        return Check(False, message("not_tasks", got=type(tasks).__name__))
    want = (num_tasks, num_points, 1)
    for t in (x, y):
        if tuple(t.shape) != want:
            return Check(False, message("shape", got=tuple(t.shape), want=want))
    if not torch.allclose(tasks.fn(x), y):
        return Check(False, message("wrong_value", error=relative_error(tasks.fn(x), y)))
    return Check(True, message("right"))


def check_sine_values(fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]) -> Check:
    """Lesson 00: ``fn(amplitude [T], phase [T], x [T, N, 1])`` → y = A·sin(x − φ) for every task's points,
    ``[T, N, 1]``, by broadcasting (one A and one φ per task)."""
    tasks = SineFamily("reptile").sample(4, 6, torch.Generator().manual_seed(0))
    amp, phase, x = tasks.amplitude, tasks.phase, tasks.x
    got, crash = call_learner(fn, amp.clone(), phase.clone(), x.clone())
    if crash is not None:
        return crash
    want = tasks.y
    if not isinstance(got, torch.Tensor):
        return Check(False, message("not_tensor", got=type(got).__name__))
    if got.shape != want.shape:
        return Check(False, message("sine_broadcast", got=tuple(got.shape), want=tuple(want.shape)))
    got = got.detach().to(want.dtype)
    a, f = amp.view(-1, 1, 1), phase.view(-1, 1, 1)
    variants = {
        "right": want,
        "sine_plus_phase": a * torch.sin(x + f),
        "sine_no_amplitude": torch.sin(x - f),
        "sine_first_task": amp[0] * torch.sin(x - phase[0]),
    }
    mistake = first_match(got, variants)
    if mistake == "right":
        return Check(True, message("right"))
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got, want)))


def check_eta(eta: object, model: torch.nn.Module, episodes: Episodes, *, k: int, target: float) -> Check:
    """Lessons 01 and 04: does η adapt ``model`` to these tasks within k SGD steps, to a query MSE below ``target``?"""
    if not is_number(eta) or not float(eta) > 0:
        return Check(False, message("number", got=repr(eta)))
    try:
        mse = evaluate(model, episodes, k=k, eta=float(eta)).final
    except DivergenceError:
        mse = math.inf
    if not math.isfinite(mse) or mse > 1e3:
        return Check(False, message("eta_diverges", eta=eta, mse=mse))
    if mse >= target:
        return Check(False, message("eta_slow", eta=eta, k=k, mse=mse, target=target))
    return Check(True, message("eta_ok", eta=eta, k=k, mse=mse, target=target))


def check_average_sine(value: object, *, preset: str, x: float) -> Check:
    """Lesson 02: E[A·sin(x − φ)] over a preset's task distribution, at the point ``x``.

    With A and φ independent and uniform: E[A]·E[sin(x − φ)], and
    E[sin(x − φ)] = (cos(x − φ_max) − cos(x − φ_min)) / (φ_max − φ_min).
    """
    p = SINE_PRESETS[preset]
    (a0, a1), (f0, f1) = p.amplitude, p.phase
    expected = (a0 + a1) / 2 * (math.cos(x - f1) - math.cos(x - f0)) / (f1 - f0)
    if not is_number(value):
        return Check(False, message("number", got=repr(value)))
    if abs(expected) < 1e-9:  # the mean is 0: compare absolutely
        ok = abs(float(value)) < 1e-3
        return Check(ok, message("right") if ok else message("wrong_value", error=abs(float(value))))
    return check_number(value, expected)
