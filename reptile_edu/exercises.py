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

from .episodes import Episodes
from .evaluation import evaluate
from .i18n import get_language
from .meta import maml_meta_gradient, reptile_outer_step
from .methods import DivergenceError
from .models import MLP
from .sine import SINE_PRESETS, SineFamily

# key → (English, Türkçe, 中文)
MESSAGES: dict[str, tuple[str, str, str]] = {
    "right": ("Right.", "Doğru.", "正确。"),
    "crashed": (
        "Your code raised {error}. Read the message, fix the cell and run the check again.",
        "Kodunuz bir hata verdi: {error}. Hata mesajını okuyun, hücreyi düzeltip denetimi yeniden çalıştırın.",
        "你的代码抛出了 {error}。请阅读错误信息，修改单元格后再运行一次检查。",
    ),
    "shape": (
        "The result has shape {got}; it should have shape {want}.",
        "Sonucun şekli {got}, oysa {want} olmalı.",
        "结果的形状是 {got}，应当是 {want}。",
    ),
    "sign": (
        "The step goes the wrong way: θ should move toward θ̃ (and down the gradient), not away.",
        "Adım ters yöne gidiyor: θ, θ̃'ya doğru (yani gradyanın ters yönünde) ilerlemeli, ondan uzaklaşmamalı.",
        "这一步走反了：θ 应当朝 θ̃ 移动（即沿梯度下降的方向），而不是远离它。",
    ),
    "first_task_only": (
        "Only the first task moved θ. Average θ̃ − θ over all n tasks (the first dimension).",
        "θ'yı yalnızca ilk görev hareket ettirdi. θ̃ − θ farkının ortalamasını n görevin tamamı üzerinden (ilk boyut boyunca) alın.",
        "只有第一个任务参与了 θ 的更新。请在全部 n 个任务上（即第一维）对 θ̃ − θ 求平均。",
    ),
    "sum_not_mean": (
        "You summed over the tasks; Reptile averages, so the step does not grow with n.",
        "Görevler üzerinden toplam aldınız; Reptile ise ortalama alır, böylece adım n ile birlikte büyümez.",
        "你把各任务的差值加起来了；Reptile 取的是平均，这样步长才不会随 n 增大。",
    ),
    "no_epsilon": (
        "θ jumped all the way (ε = 1); scale the step by ε.",
        "θ yolun tamamını tek adımda aldı (sanki ε = 1); adımı ε ile ölçekleyin.",
        "θ 一步跳到了终点（相当于 ε = 1）；请用 ε 缩放这一步。",
    ),
    "wrong_value": (
        "Not yet: off by {error:.3g} (relative). Compare with the formula in the lesson.",
        "Henüz değil: göreli sapma {error:.3g}; bu dersteki formülle karşılaştırın.",
        "还不对：相对误差为 {error:.3g}。请对照本课中的公式。",
    ),
    "first_order": (
        "This is the first-order gradient (∇L at θ̃). Keep the graph of the inner step: create_graph=True.",
        "Bu, birinci dereceden gradyan (∇L'nin θ̃'daki değeri). İç adımın hesaplama grafiğini koruyun: create_graph=True.",
        "这是一阶梯度（θ̃ 处的 ∇L）。请保留内循环步骤的计算图：create_graph=True。",
    ),
    "not_tasks": (
        "Expected the batch of tasks that SineFamily.sample returns, got {got}.",
        "SineFamily.sample'ın döndürdüğü türden bir görev yığını bekleniyordu; gelen ise {got}.",
        "这里需要 SineFamily.sample 返回的任务批次，但得到的是 {got}。",
    ),
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
    "number": ("Give a number, not {got}.", "Bir sayı girin; {got} bir sayı değil.", "请给出一个数字，而不是 {got}。"),
    "eta_slow": (
        "With η = {eta:g} the MSE after {k} steps is {mse:.3f}, above the target {target}: η is too small.",
        "η = {eta:g} ile {k} adımdan sonra ortalama kare hata {mse:.3f}; bu, hedef olan {target} değerinin üstünde: η çok küçük.",
        "η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}，高于目标 {target}：η 太小了。",
    ),
    "eta_diverges": (
        "With η = {eta:g} the fit blows up (MSE {mse:.3g}): η is too large.",
        "η = {eta:g} ile uydurma ıraksıyor (ortalama kare hata {mse:.3g}): η çok büyük.",
        "η = {eta:g} 时拟合发散（均方误差 {mse:.3g}）：η 太大了。",
    ),
    "eta_ok": (
        "Right: with η = {eta:g} the MSE after {k} steps is {mse:.3f} (target < {target}).",
        "Doğru: η = {eta:g} ile {k} adımdan sonra ortalama kare hata {mse:.3f} (hedef < {target}).",
        "正确：η = {eta:g} 时，{k} 步后的均方误差为 {mse:.3f}（目标 < {target}）。",
    ),
    "gae_no_dones": (
        "Almost: your advantages look past the end of an episode. Multiply the bootstrap γ·V(s_{{t+1}}) and the carried A_{{t+1}} by (1 − d_t).",
        "Neredeyse: avantajlarınız bölümün sonunun ötesine bakıyor. γ·V(s_{{t+1}}) ön yüklemesini ve taşınan A_{{t+1}}'i (1 − d_t) ile çarpın.",
        "差一点：你的优势越过了情节的结尾。请把自举项 γ·V(s_{{t+1}}) 和向前传递的 A_{{t+1}} 都乘以 (1 − d_t)。",
    ),
    "gae_no_lambda": (
        "The recursion carries A_{{t+1}} with γ only; GAE(λ) carries it with γ·λ.",
        "Özyineleme A_{{t+1}}'i yalnızca γ ile taşıyor; GAE(λ) onu γ·λ ile taşır.",
        "递推只用 γ 传递 A_{{t+1}}；GAE(λ) 用的是 γ·λ。",
    ),
    "gae_td_only": (
        "These are the one-step TD errors δ_t (λ = 0). Add the discounted advantage of the next step: A_t = δ_t + γλ(1 − d_t)·A_{{t+1}}.",
        "Bunlar tek adımlık TD hataları δ_t (λ = 0). Sonraki adımın indirimli avantajını ekleyin: A_t = δ_t + γλ(1 − d_t)·A_{{t+1}}.",
        "这些是单步 TD 误差 δ_t（相当于 λ = 0）。请加上下一步的折扣优势：A_t = δ_t + γλ(1 − d_t)·A_{{t+1}}。",
    ),
    "gae_targets": (
        "You returned A + V, the critic's targets. Return the advantages A themselves.",
        "A + V'yi, yani eleştirmenin hedeflerini döndürdünüz. Avantajların kendisini, A'yı döndürün.",
        "你返回的是 A + V，也就是评论家的目标值。请返回优势 A 本身。",
    ),
    "gae_forward": (
        "The recursion runs forward in time; A_t needs A_{{t+1}}, so go backward, from the last step to the first.",
        "Özyineleme zamanda ileri gidiyor; A_t için A_{{t+1}} gerekir, bu yüzden son adımdan ilk adıma doğru geriye gidin.",
        "你的递推是沿时间正向进行的；A_t 需要 A_{{t+1}}，所以应从最后一步倒着算到第一步。",
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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
        return Check(False, message("number", got=repr(value)))
    if abs(expected) < 1e-9:  # the mean is 0: compare absolutely
        ok = abs(float(value)) < 1e-3
        return Check(ok, message("right") if ok else message("wrong_value", error=abs(float(value))))
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


# ---------------------------------------------------------------------------
# Lesson 05: the Taylor expansion of the Reptile update

MESSAGES.update(
    {
        "taylor_first_order": (
            "This is only the first-order part η·Σ ḡ_i. Add the second-order term −η²·Σ_{{j<i}} H̄_i ḡ_j.",
            "Bu yalnızca birinci dereceden kısım η·Σ ḡ_i. İkinci dereceden terimi ekleyin: −η²·Σ_{{j<i}} H̄_i ḡ_j.",
            "这只是一阶部分 η·Σ ḡ_i。请加上二阶项 −η²·Σ_{{j<i}} H̄_i ḡ_j。",
        ),
        "taylor_sign": (
            "The second-order term has the wrong sign. Before step i, θ has moved by −η·Σ_{{j<i}} ḡ_j, so step i's gradient changes by −η·H̄_i Σ_{{j<i}} ḡ_j.",
            "İkinci dereceden terimin işareti yanlış. i. adımdan önce θ, −η·Σ_{{j<i}} ḡ_j kadar kaymıştır; bu yüzden i. adımın gradyanı −η·H̄_i Σ_{{j<i}} ḡ_j kadar değişir.",
            "二阶项的符号反了。在第 i 步之前，θ 已经移动了 −η·Σ_{{j<i}} ḡ_j，所以第 i 步的梯度改变了 −η·H̄_i Σ_{{j<i}} ḡ_j。",
        ),
        "taylor_order": (
            "The Hessian and the gradient are swapped: the Hessian H̄_i of step i multiplies the gradients ḡ_j of the earlier steps j < i, not the other way round.",
            "Hessian matrisi ile gradyan yer değiştirmiş: i. adımın Hessian matrisi H̄_i, önceki adımların (j < i) gradyanları ḡ_j ile çarpılır; tersi değil.",
            "黑塞矩阵与梯度的位置颠倒了：第 i 步的黑塞矩阵 H̄_i 乘以之前各步（j < i）的梯度 ḡ_j，而不是反过来。",
        ),
        "taylor_all_pairs": (
            "You summed over all pairs i ≠ j. Only the earlier steps j < i have moved θ before step i.",
            "Tüm i ≠ j çiftleri üzerinden topladınız. i. adımdan önce θ'yı yalnızca önceki adımlar (j < i) hareket ettirmiştir.",
            "你对所有满足 i ≠ j 的数对求了和。在第 i 步之前，只有之前的各步（j < i）移动过 θ。",
        ),
        "taylor_diagonal": (
            "Leave out j = i: the gradient of step i is taken before step i moves θ.",
            "j = i terimlerini çıkarın: i. adımın gradyanı, bu adım θ'yı hareket ettirmeden önce alınır.",
            "去掉 j = i 的项：第 i 步的梯度是在这一步移动 θ 之前计算的。",
        ),
        "taylor_eta": (
            "The second term is of order η², not η: one η for how far the earlier steps moved θ, one for step i itself.",
            "İkinci terim η değil η² mertebesindedir: bir η önceki adımların θ'yı ne kadar kaydırdığından, bir η de i. adımın kendisinden gelir.",
            "第二项是 η² 阶，而不是 η 阶：一个 η 来自之前各步使 θ 移动的距离，另一个来自第 i 步本身。",
        ),
        "taylor_general": (
            "Right for k = 3, but not for k = {k}: write the sums for any number of minibatches, len(grads).",
            "k = 3 için doğru, ama k = {k} için değil: toplamları herhangi bir mini-yığın sayısı (len(grads)) için yazın.",
            "k = 3 时正确，但 k = {k} 时不对：请把求和写成对任意数量（len(grads)）的小批量都成立的形式。",
        ),
    }
)


def _taylor_problem(k: int, seed: int = 5) -> tuple[list[torch.Tensor], Callable[[int, torch.Tensor], torch.Tensor]]:
    """k minibatch gradients ḡ_i at θ (flat, float64) of one sine task, and v ↦ H̄_i v by double backward."""
    torch.manual_seed(seed)
    model = MLP((8, 8), "tanh").double()
    tasks = SineFamily("reptile").sample(1, 4 * k, torch.Generator().manual_seed(seed))
    x, y = tasks.x[0].double(), tasks.y[0].double()
    params = list(model.parameters())

    def grad(i: int, create_graph: bool = False) -> torch.Tensor:
        loss = ((model(x[4 * i : 4 * i + 4]) - y[4 * i : 4 * i + 4]) ** 2).mean()
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, create_graph=create_graph)])

    def hvp(i: int, v: torch.Tensor) -> torch.Tensor:
        return torch.cat([h.reshape(-1) for h in torch.autograd.grad(grad(i, True) @ v.detach(), params)]).detach()

    return [grad(i).detach() for i in range(k)], hvp


def _reptile_taylor(
    grads: list[torch.Tensor], hvp: Callable[[int, torch.Tensor], torch.Tensor], eta: float
) -> torch.Tensor:
    """θ − θ̃ to second order in η for k SGD steps on minibatches 1 … k (Nichol et al. 2018, §5.1):

    η·Σ_i ḡ_i − η²·Σ_{j<i} H̄_i ḡ_j, with ḡ_i = ∇L_i(θ) (``grads[i]``) and H̄_i v = ``hvp(i, v)``.
    """
    out = eta * torch.stack(list(grads)).sum(0)
    for i in range(len(grads)):
        for j in range(i):
            out = out - eta**2 * hvp(i, grads[j])
    return out


def _taylor_variant(
    grads: list[torch.Tensor],
    hvp: Callable[[int, torch.Tensor], torch.Tensor],
    eta: float,
    pairs: list[tuple[int, int]],
    scale: float,
) -> torch.Tensor:
    """η·Σ_i ḡ_i − scale·Σ_{(i, j) in pairs} H̄_i ḡ_j: the right answer and the usual slips."""
    out = eta * torch.stack(grads).sum(0)
    for i, j in pairs:
        out = out - scale * hvp(i, grads[j])
    return out


def check_reptile_taylor(
    fn: Callable[[list[torch.Tensor], Callable[[int, torch.Tensor], torch.Tensor], float], torch.Tensor],
) -> Check:
    """Lesson 05: ``fn(grads, hvp, eta)`` → θ − θ̃ to second order in η, for any number k = ``len(grads)``.

    ``grads[i]`` is ḡ_i = ∇L_i(θ) of minibatch i (flat), ``hvp(i, v)`` is H̄_i v. The answer is
    η·Σ_i ḡ_i − η²·Σ_{j<i} H̄_i ḡ_j (``_reptile_taylor``); the usual slips are named.
    """
    eta = 0.1
    for k in (3, 2, 4):
        grads, hvp = _taylor_problem(k)
        got, crash = _call(fn, [g.clone() for g in grads], hvp, eta)
        if crash is not None:
            return crash
        want = _reptile_taylor(grads, hvp, eta)
        if not isinstance(got, torch.Tensor):
            return Check(False, message("shape", got=type(got).__name__, want=tuple(want.shape)))
        if got.shape != want.shape:
            return Check(False, message("shape", got=tuple(got.shape), want=tuple(want.shape)))
        got = got.detach()
        if _close(got, want):
            continue
        if k != 3:
            return Check(False, message("taylor_general", k=k))
        below = [(i, j) for i in range(k) for j in range(i)]
        diagnoses = {
            "taylor_first_order": (below, 0.0),
            "taylor_sign": (below, -(eta**2)),
            "taylor_order": ([(j, i) for i, j in below], eta**2),
            "taylor_all_pairs": ([(i, j) for i in range(k) for j in range(k) if i != j], eta**2),
            "taylor_diagonal": ([(i, j) for i in range(k) for j in range(i + 1)], eta**2),
            "taylor_eta": (below, eta),
        }
        for key, (pairs, scale) in diagnoses.items():
            if _close(got, _taylor_variant(grads, hvp, eta, pairs, scale)):
                return Check(False, message(key))
        return Check(False, message("wrong_value", error=float((got - want).norm() / want.norm())))
    return Check(True, message("right"))


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
    got, crash = _call(fn, acc.clone())
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


def _gae_variant(r: torch.Tensor, v: torch.Tensor, d: torch.Tensor, gamma: float, carry: float, cut: bool,
                 backward: bool = True) -> torch.Tensor:
    """GAE-like recursions for the diagnoses: ``carry`` multiplies A_{t+1}; ``cut=False`` ignores the ends."""
    keep = 1.0 - d if cut else torch.ones_like(d)
    nxt = torch.cat([v[:, 1:], torch.zeros_like(v[:, :1])], 1)
    delta = r + gamma * nxt * keep - v
    out, running = torch.zeros_like(delta), torch.zeros_like(delta[:, 0])
    order = reversed(range(r.shape[1])) if backward else range(r.shape[1])
    for t in order:
        running = delta[:, t] + carry * keep[:, t] * running
        out[:, t] = running
    return out


def check_gae(fn: Callable[..., torch.Tensor]) -> Check:
    """Lesson 08: ``fn(rewards, values, dones, gamma, lam)`` on ``[N, H]`` tensors → the GAE(λ) advantages ``[N, H]``."""
    from .rl.buffer import gae

    g = torch.Generator().manual_seed(8)
    r, v = torch.randn(4, 12, generator=g, dtype=torch.float64), torch.randn(4, 12, generator=g, dtype=torch.float64)
    d = torch.zeros(4, 12, dtype=torch.float64)
    d[:, -1], d[0, 3], d[1, 7], d[2, 5] = 1.0, 1.0, 1.0, 1.0  # episodes that end inside the row
    gamma, lam = 0.9, 0.8
    got, crash = _call(fn, r.clone(), v.clone(), d.clone(), gamma, lam)
    if crash is not None:
        return crash
    want, targets = gae(r, v, d, gamma=gamma, lam=lam)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return Check(False, message("shape", got=shape, want=tuple(want.shape)))
    got = got.detach().double()
    if _close(got, want):
        return Check(True, message("right"))
    diagnoses = {
        "gae_targets": targets,
        "gae_no_dones": _gae_variant(r, v, d, gamma, gamma * lam, cut=False),
        "gae_no_lambda": _gae_variant(r, v, d, gamma, gamma, cut=True),
        "gae_td_only": _gae_variant(r, v, d, gamma, 0.0, cut=True),
        "gae_forward": _gae_variant(r, v, d, gamma, gamma * lam, cut=True, backward=False),
    }
    for key, wrong in diagnoses.items():
        if _close(got, wrong):
            return Check(False, message(key))
    return Check(False, message("wrong_value", error=float((got - want).norm() / want.norm())))


# ---------------------------------------------------------------------------
# Lesson 09: an ε schedule

MESSAGES.update(
    {
        "schedule_off_by_one": (
            "Your schedule reaches the final value on the last step: it counts s/(S − 1). Use s/S, so that the "
            "last step (s = S − 1) still moves θ, as the paper's code does.",
            "Programınız son adımda son değere ulaşıyor: s/(S − 1) kullanıyorsunuz. s/S kullanın; böylece son adım "
            "(s = S − 1) da θ'yı hareket ettirir, makalenin kodunda olduğu gibi.",
            "你的调度在最后一步就到达了终值：你用的是 s/(S − 1)。请用 s/S，这样最后一步（s = S − 1）仍然会移动 θ，"
            "与论文代码的做法一致。",
        ),
        "schedule_linear": (
            "This is the linear schedule. The cosine one follows ½(1 + cos(π·s/S)) between ε and the end value.",
            "Bu doğrusal program. Kosinüs programı ε ile son değer arasında ½(1 + cos(π·s/S)) eğrisini izler.",
            "这是线性调度。余弦调度在 ε 与终值之间按 ½(1 + cos(π·s/S)) 变化。",
        ),
        "schedule_no_half": (
            "The factor ½ is missing: 1 + cos(π·s/S) runs from 2 to 0, so your first step is not ε.",
            "½ çarpanı eksik: 1 + cos(π·s/S) 2'den 0'a iner, bu yüzden ilk adımınız ε olmuyor.",
            "缺少系数 ½：1 + cos(π·s/S) 从 2 降到 0，所以你的第一步不等于 ε。",
        ),
        "schedule_reversed": (
            "Your schedule runs the wrong way: it should start at ε (s = 0) and fall toward the end value.",
            "Programınız ters yönde ilerliyor: ε ile (s = 0) başlayıp son değere doğru azalmalı.",
            "你的调度方向反了：应当从 ε（s = 0）开始，逐渐降向终值。",
        ),
        "schedule_ignores_end": (
            "Your schedule falls to 0 whatever the end value: scale the cosine part by (ε − end) and add end.",
            "Programınız son değer ne olursa olsun 0'a iniyor: kosinüs kısmını (ε − end) ile ölçekleyip end ekleyin.",
            "无论终值是多少，你的调度都降到 0：请把余弦部分乘以 (ε − end)，再加上 end。",
        ),
    }
)


def check_cosine_schedule(fn: Callable[[int, int, float, float], float]) -> Check:
    """Lesson 09: ``fn(s, S, epsilon, end)`` → ε_s = end + (ε − end)·½(1 + cos(π·s/S)) for s = 0 … S − 1."""
    from .schedules import Cosine

    cases = [(10, 1.0, 0.1), (4, 0.5, 0.0), (7, 2.0, 0.5)]
    got_all, want_all = [], []
    for steps, eps, end in cases:
        for s in range(steps):
            got, crash = _call(fn, s, steps, eps, end)
            if crash is not None:
                return crash
            if isinstance(got, torch.Tensor) and got.numel() == 1:
                got = float(got)
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return Check(False, message("number", got=repr(got)))
            got_all.append(float(got))
            want_all.append(Cosine(eps, end=end)(s, steps))
    got_t, want_t = torch.tensor(got_all, dtype=torch.float64), torch.tensor(want_all, dtype=torch.float64)
    if torch.allclose(got_t, want_t, rtol=1e-6, atol=1e-9):
        return Check(True, message("right"))

    def variant(f: Callable[[int, int, float, float], float]) -> torch.Tensor:
        return torch.tensor([f(s, n, e, z) for n, e, z in cases for s in range(n)], dtype=torch.float64)

    diagnoses = {
        "schedule_off_by_one": lambda s, n, e, z: z + (e - z) * 0.5 * (1 + math.cos(math.pi * s / max(1, n - 1))),
        "schedule_linear": lambda s, n, e, z: e + (z - e) * s / n,
        "schedule_no_half": lambda s, n, e, z: z + (e - z) * (1 + math.cos(math.pi * s / n)),
        "schedule_reversed": lambda s, n, e, z: e + (z - e) * 0.5 * (1 + math.cos(math.pi * s / n)),
        "schedule_ignores_end": lambda s, n, e, z: e * 0.5 * (1 + math.cos(math.pi * s / n)),
    }
    for key, f in diagnoses.items():
        if torch.allclose(got_t, variant(f), rtol=1e-6, atol=1e-9):
            return Check(False, message(key))
    return Check(False, message("wrong_value", error=float((got_t - want_t).norm() / want_t.norm())))
