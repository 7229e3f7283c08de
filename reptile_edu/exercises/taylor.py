"""Lesson 05: the Taylor expansion of Reptile's update, and its exact form for two steps on a quadratic."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..models import MLP
from ..sine import SineFamily
from .core import MESSAGES, Check, call_learner, close, first_match, message, relative_error

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
        got, crash = call_learner(fn, [g.clone() for g in grads], hvp, eta)
        if crash is not None:
            return crash
        want = _reptile_taylor(grads, hvp, eta)
        if not isinstance(got, torch.Tensor):
            return Check(False, message("shape", got=type(got).__name__, want=tuple(want.shape)))
        if got.shape != want.shape:
            return Check(False, message("shape", got=tuple(got.shape), want=tuple(want.shape)))
        got = got.detach()
        if close(got, want):
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
            if close(got, _taylor_variant(grads, hvp, eta, pairs, scale)):
                return Check(False, message(key))
        return Check(False, message("wrong_value", error=relative_error(got, want)))
    return Check(True, message("right"))


# ---------------------------------------------------------------------------------------------------------
# Two SGD steps on a quadratic: the expansion with nothing left over

MESSAGES.update(
    {
        "quad_first_order": (
            "This is η(g₁ + g₂), the first-order part. The second step's gradient is not g₂: the first step has "
            "already moved θ by −η·g₁, and on a quadratic the gradient changes by H₂ times that move.",
            "Bu η(g₁ + g₂), yani birinci dereceden kısım. İkinci adımın gradyanı g₂ değil: ilk adım θ'yı zaten "
            "−η·g₁ kadar kaydırdı ve ikinci dereceden bir fonksiyonda gradyan, bu kaymanın H₂ katı kadar değişir.",
            "这是 η(g₁ + g₂)，只是一阶部分。第二步的梯度并不是 g₂：第一步已经把 θ 移动了 −η·g₁，"
            "而在二次函数上，梯度的变化量正是 H₂ 乘以这段位移。",
        ),
        "quad_swapped": (
            "Hessian and gradient are swapped: the second step's Hessian H₂ acts on the first step's move −η·g₁, "
            "so the term is H₂g₁, not H₁g₂.",
            "Hessian ile gradyan yer değiştirmiş: ikinci adımın Hessian matrisi H₂, ilk adımın −η·g₁ kaymasına "
            "etki eder; yani terim H₁g₂ değil, H₂g₁.",
            "黑塞矩阵与梯度颠倒了：第二步的黑塞矩阵 H₂ 作用在第一步的位移 −η·g₁ 上，所以这一项是 H₂g₁，而不是 H₁g₂。",
        ),
        "quad_sign": (
            "The η² term has the wrong sign. After step 1, θ₁ = θ − η·g₁, so step 2 uses g₂ + H₂(θ₁ − θ) = g₂ − η·H₂g₁.",
            "η² teriminin işareti yanlış. 1. adımdan sonra θ₁ = θ − η·g₁; bu yüzden 2. adım g₂ + H₂(θ₁ − θ) = "
            "g₂ − η·H₂g₁ gradyanını kullanır.",
            "η² 项的符号反了。第 1 步之后 θ₁ = θ − η·g₁，所以第 2 步用的梯度是 g₂ + H₂(θ₁ − θ) = g₂ − η·H₂g₁。",
        ),
        "quad_eta": (
            "The second term needs η twice: one η for how far step 1 moved θ, one for step 2 itself (η², not η).",
            "İkinci terimde η iki kez bulunmalı: biri 1. adımın θ'yı ne kadar kaydırdığından, biri de 2. adımın "
            "kendisinden gelir (η değil, η²).",
            "第二项需要两个 η：一个来自第 1 步移动 θ 的距离，一个来自第 2 步本身（是 η²，不是 η）。",
        ),
        "quad_averaged": (
            "This is the average over both orders of the two minibatches, ½η²(H₁g₂ + H₂g₁), the form that "
            "AvgGradInner takes. One run takes minibatch 1 first: only H₂g₁ appears.",
            "Bu, iki mini-yığının iki sırası üzerinden alınan ortalama, ½η²(H₁g₂ + H₂g₁); AvgGradInner'ın biçimi. "
            "Tek bir çalıştırma önce 1. mini-yığını kullanır, bu yüzden yalnızca H₂g₁ görünür.",
            "这是两个小批量两种顺序的平均 ½η²(H₁g₂ + H₂g₁)，也就是 AvgGradInner 的形式。"
            "一次运行先用第 1 个小批量，所以只出现 H₂g₁。",
        ),
        "quad_both": (
            "Only the second step meets a gradient that has moved: the first step starts at θ. Keep H₂g₁ and drop H₁g₂.",
            "Yalnızca ikinci adım kaymış bir noktada gradyan alır; ilk adım θ'dan başlar. H₂g₁'i tutun, H₁g₂'yi atın.",
            "只有第二步的梯度是在移动后的点上计算的；第一步从 θ 出发。保留 H₂g₁，去掉 H₁g₂。",
        ),
    }
)


def _quadratic_problem(seed: int = 2) -> tuple[torch.Tensor, ...]:
    """Two random quadratic losses L_i(θ) = ½(θ − c_i)ᵀH_i(θ − c_i) in 5 dimensions, a point θ and η, float64."""
    g = torch.Generator().manual_seed(seed)
    dim = 5

    def spd() -> torch.Tensor:
        m = torch.randn(dim, dim, generator=g, dtype=torch.float64)
        return m @ m.T / dim + 0.1 * torch.eye(dim, dtype=torch.float64)

    h1, h2 = spd(), spd()
    theta, c1, c2 = (torch.randn(dim, generator=g, dtype=torch.float64) for _ in range(3))
    return theta, c1, c2, h1, h2


def two_sgd_steps(
    theta: torch.Tensor, c1: torch.Tensor, c2: torch.Tensor, h1: torch.Tensor, h2: torch.Tensor, eta: float
) -> torch.Tensor:
    """θ − θ̃ after one gradient step on L₁ and one on L₂, computed by taking the steps."""
    theta_1 = theta - eta * h1 @ (theta - c1)
    theta_2 = theta_1 - eta * h2 @ (theta_1 - c2)
    return theta - theta_2


def check_two_steps_quadratic(
    fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor],
) -> Check:
    """Lesson 05: ``fn(g1, g2, H1, H2, eta)`` → θ − θ̃ after k = 2 SGD steps, first on L₁ then on L₂, where
    g_i = ∇L_i(θ) and H_i is L_i's (constant) Hessian. On a quadratic the expansion ends at η²:
    θ − θ̃ = η(g₁ + g₂) − η²·H₂g₁, exactly. The checker takes the two steps and compares."""
    theta, c1, c2, h1, h2 = _quadratic_problem()
    g1, g2 = h1 @ (theta - c1), h2 @ (theta - c2)
    eta = 0.3
    got, crash = call_learner(fn, g1.clone(), g2.clone(), h1.clone(), h2.clone(), eta)
    if crash is not None:
        return crash
    want = two_sgd_steps(theta, c1, c2, h1, h2, eta)
    if not isinstance(got, torch.Tensor):
        return Check(False, message("shape", got=type(got).__name__, want=tuple(want.shape)))
    if got.shape != want.shape:
        return Check(False, message("shape", got=tuple(got.shape), want=tuple(want.shape)))
    got = got.detach().to(torch.float64)
    if close(got, want):
        return Check(True, message("right"))
    first = eta * (g1 + g2)
    mistake = first_match(
        got,
        {
            "quad_first_order": first,
            "quad_swapped": first - eta**2 * h1 @ g2,
            "quad_sign": first + eta**2 * h2 @ g1,
            "quad_eta": first - eta * h2 @ g1,
            "quad_averaged": first - 0.5 * eta**2 * (h1 @ g2 + h2 @ g1),
            "quad_both": first - eta**2 * (h1 @ g2 + h2 @ g1),
        },
    )
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got, want)))
