"""Checkers for the lessons' exercises: each says right or wrong, and why, in the notebook's language.

A checker takes what the learner wrote (a function or a number), tests it against the
package's reference on fresh seeded inputs, and returns a ``Check`` that displays as
✓ or ✗ with a reason. ``bool(check)`` is whether it passed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .algorithms import DivergenceError, evaluate, maml_meta_gradient, reptile_outer_step
from .i18n import get_language
from .models import MLP
from .tasks import SINE_PRESETS, Episodes, SineFamily

# key → (English, Türkçe, 中文)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "right": ("Right.", "Doğru.", "正确。"),
    "crashed": (
        "Your code raised {error}. Read the message, fix the cell and run the check again.",
        "Kodunuz {error} hatası verdi. Mesajı okuyun, hücreyi düzeltip denetimi yeniden çalıştırın.",
        "你的代码抛出了 {error}。请阅读错误信息，修改单元格后重新检查。",
    ),
    "shape": (
        "The result has shape {got}; it should have shape {want}.",
        "Sonucun boyutu {got}; {want} olmalı.",
        "结果的形状是 {got}，应当是 {want}。",
    ),
    "sign": (
        "The step goes the wrong way: θ should move toward θ̃ (and down the gradient), not away.",
        "Adım ters yöne gidiyor: θ, θ̃'ya doğru (ve gradyanın tersine) gitmeli, uzaklaşmamalı.",
        "方向反了：θ 应当朝 θ̃ 移动（沿负梯度方向），而不是远离。",
    ),
    "first_task_only": (
        "Only the first task moved θ. Average θ̃ − θ over all n tasks (the first dimension).",
        "θ'yı yalnızca ilk görev hareket ettirdi. θ̃ − θ farkının n görevin hepsi (ilk boyut) üzerinden ortalamasını alın.",
        "只有第一个任务影响了 θ。应对全部 n 个任务（第一维）求 θ̃ − θ 的平均。",
    ),
    "sum_not_mean": (
        "You summed over the tasks; Reptile averages, so the step does not grow with n.",
        "Görevler üzerinden topladınız; Reptile ortalama alır, böylece adım n ile büyümez.",
        "你对任务求了和；Reptile 取平均，这样步长不会随 n 增大。",
    ),
    "no_epsilon": (
        "θ jumped all the way (ε = 1); scale the step by ε.",
        "θ sonuna kadar sıçradı (ε = 1 gibi); adımı ε ile ölçekleyin.",
        "θ 一步跳到了终点（相当于 ε = 1）；请用 ε 缩放这一步。",
    ),
    "wrong_value": (
        "Not yet: off by {error:.3g} (relative). Compare with the formula in the lesson.",
        "Henüz değil: göreli fark {error:.3g}. Derslerdeki formülle karşılaştırın.",
        "还不对：相对误差为 {error:.3g}。请对照课程中的公式。",
    ),
    "first_order": (
        "This is the first-order gradient (∇L at θ̃). Keep the graph of the inner step: create_graph=True.",
        "Bu birinci dereceden gradyan (θ̃'daki ∇L). İç adımın grafiğini koruyun: create_graph=True.",
        "这是一阶梯度（θ̃ 处的 ∇L）。请保留内循环步骤的计算图：create_graph=True。",
    ),
    "not_tasks": (
        "Expected the batch of tasks that SineFamily.sample returns, got {got}.",
        "SineFamily.sample'ın döndürdüğü görev yığını bekleniyordu, gelen: {got}.",
        "这里需要 SineFamily.sample 返回的任务批次，但得到的是 {got}。",
    ),
    "number": ("Give a number, not {got}.", "{got} değil, bir sayı verin.", "请给出一个数字，而不是 {got}。"),
    "eta_slow": (
        "With η = {eta:g} the MSE after {k} steps is {mse:.3f}, above the target {target}: η is too small.",
        "η = {eta:g} ile {k} adım sonra ortalama kare hata {mse:.3f}, hedef {target} üstünde: η çok küçük.",
        "η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}，高于目标 {target}：η 太小了。",
    ),
    "eta_diverges": (
        "With η = {eta:g} the fit blows up (MSE {mse:.3g}): η is too large.",
        "η = {eta:g} ile uyum patlıyor (ortalama kare hata {mse:.3g}): η çok büyük.",
        "η = {eta:g} 时拟合发散（均方误差 {mse:.3g}）：η 太大了。",
    ),
    "eta_ok": (
        "Right: with η = {eta:g} the MSE after {k} steps is {mse:.3f} (target < {target}).",
        "Doğru: η = {eta:g} ile {k} adım sonra ortalama kare hata {mse:.3f} (hedef < {target}).",
        "正确：η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}（目标 < {target}）。",
    ),
}


def message(key: str, **fields: object) -> str:
    """A checker message in the current language."""
    return MESSAGES[key][("en", "tr", "zh").index(get_language())].format(**fields)


@dataclass
class Check:
    """The verdict of a checker: ``ok`` and the reason. Shows as ✓/✗ in a notebook."""

    ok: bool
    reason: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.reason

    def _repr_markdown_(self) -> str:
        color = "#1a7f37" if self.ok else "#b00020"
        return f"<span style='color:{color}'><b>{'✓' if self.ok else '✗'}</b> {self.reason}</span>"


def _call(fn: Callable[..., object], *args: object) -> tuple[object, Check | None]:
    try:
        return fn(*args), None
    except Exception as err:  # the learner's code: report any error as feedback
        return None, Check(False, message("crashed", error=f"{type(err).__name__}: {err}"))


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6)


def check_reptile_update(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Check:
    """Lesson 04: ``fn(theta [P], theta_tilde [n, P], epsilon) -> new theta [P]`` must be θ + ε·mean(θ̃ − θ)."""
    g = torch.Generator().manual_seed(4)
    theta, theta_tilde, eps = torch.randn(6, generator=g), torch.randn(5, 6, generator=g), 0.3
    got, crash = _call(fn, theta.clone(), theta_tilde.clone(), eps)
    if crash is not None:
        return crash
    if not isinstance(got, torch.Tensor):
        return Check(False, message("shape", got=type(got).__name__, want=(6,)))
    want = reptile_outer_step({"p": theta}, {"p": theta_tilde}, eps)["p"]
    if got.shape != want.shape:
        return Check(False, message("shape", got=tuple(got.shape), want=tuple(want.shape)))
    if _close(got, want):
        return Check(True, message("right"))
    diagnoses = {
        "sign": theta - eps * (theta_tilde - theta).mean(0),
        "first_task_only": theta + eps * (theta_tilde[0] - theta),
        "sum_not_mean": theta + eps * (theta_tilde - theta).sum(0),
        "no_epsilon": theta_tilde.mean(0),
    }
    for key, wrong in diagnoses.items():
        if _close(got, wrong):
            return Check(False, message(key))
    return Check(False, message("wrong_value", error=float((got - want).norm() / want.norm())))


def check_number(value: object, expected: float, *, rtol: float = 1e-3) -> Check:
    """A numeric answer against the expected value (relative tolerance ``rtol``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return Check(False, message("number", got=repr(value)))
    error = abs(float(value) - expected) / max(abs(expected), 1e-12)
    return Check(True, message("right")) if error <= rtol else Check(False, message("wrong_value", error=error))


def check_k1_learning_rate(lr: object, *, eta: float, epsilon: float) -> Check:
    """Lesson 04: the joint-training learning rate that equals Reptile with k = 1 is ε·η."""
    return check_number(lr, epsilon * eta)


def check_average_sine(value: object, *, preset: str, x: float) -> Check:
    """Lesson 02: E[A·sin(x − φ)] over a preset's task distribution, at the point ``x``.

    With A and φ independent and uniform: E[A]·E[sin(x − φ)], and
    E[sin(x − φ)] = (cos(x − φ_max) − cos(x − φ_min)) / (φ_max − φ_min).
    """
    p = SINE_PRESETS[preset]
    (a0, a1), (f0, f1) = p.amplitude, p.phase
    expected = (a0 + a1) / 2 * (math.cos(x - f1) - math.cos(x - f0)) / (f1 - f0)
    if abs(expected) < 1e-9:
        ok = isinstance(value, (int, float)) and abs(float(value)) < 1e-3
        return Check(bool(ok), message("right") if ok else message("wrong_value", error=abs(float(value or 0))))
    return check_number(value, expected)


def check_maml_gradient(fn: Callable[..., dict[str, torch.Tensor]]) -> Check:
    """Lesson 03: ``fn(model, x_s, y_s, x_q, y_q, eta)`` → the MAML meta-gradient for k = 1 on one task."""
    torch.manual_seed(3)
    model = MLP((16, 16), "tanh").double()
    ep = SineFamily("maml", shots=10, queries=10).episodes(1, torch.Generator().manual_seed(3))
    xs, ys, xq, yq = (t[0].double() for t in (ep.x_support, ep.y_support, ep.x_query, ep.y_query))
    got, crash = _call(fn, model, xs, ys, xq, yq, 0.1)
    if crash is not None:
        return crash
    ep64 = ep.task(0)
    for name in ("x_support", "y_support", "x_query", "y_query"):
        setattr(ep64, name, getattr(ep64, name).double())
    want, _ = maml_meta_gradient(model, ep64, k=1, eta=0.1)
    fo, _ = maml_meta_gradient(model, ep64, k=1, eta=0.1, first_order=True)
    if not isinstance(got, dict) or set(got) != set(want):
        return Check(False, message("shape", got=type(got).__name__, want="dict " + str(sorted(want))))
    if all(_close(got[n].detach(), want[n]) for n in want):
        return Check(True, message("right"))
    if all(_close(got[n].detach(), fo[n]) for n in want):
        return Check(False, message("first_order"))
    flat = lambda d: torch.cat([d[n].detach().flatten() for n in sorted(d)])  # noqa: E731
    return Check(False, message("wrong_value", error=float((flat(got) - flat(want)).norm() / flat(want).norm())))


def check_eta(eta: object, model: torch.nn.Module, episodes: Episodes, *, k: int, target: float) -> Check:
    """Lessons 01 and 04: does η adapt ``model`` to these tasks within k SGD steps, to a query MSE below ``target``?"""
    if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not float(eta) > 0 or not math.isfinite(eta):
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
        return Check(False, message("wrong_value", error=float((tasks.fn(x) - y).norm() / y.norm())))
    return Check(True, message("right"))
