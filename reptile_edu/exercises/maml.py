"""Lesson 03: MAML's meta-gradient, through autograd or by the chain rule through k inner steps."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import functional_call

from ..meta import maml_meta_gradient
from ..models import MLP
from ..sine import SineFamily
from .core import MESSAGES, Check, call_learner, close, first_match, message, relative_error

MESSAGES.update(
    {
        "first_order": (
            "This is the first-order gradient (∇L at θ̃). Keep the graph of the inner step: create_graph=True.",
            "Bu, birinci dereceden gradyan (∇L'nin θ̃'daki değeri). İç adımın hesaplama grafiğini koruyun: create_graph=True.",
            "这是一阶梯度（θ̃ 处的 ∇L）。请保留内循环步骤的计算图：create_graph=True。",
        ),
    }
)


def check_maml_gradient(fn: Callable[..., dict[str, torch.Tensor]]) -> Check:
    """Lesson 03: ``fn(model, x_s, y_s, x_q, y_q, eta)`` → the MAML meta-gradient for k = 1 on one task."""
    torch.manual_seed(3)
    model = MLP((16, 16), "tanh").double()
    ep = SineFamily("maml", shots=10, queries=10).episodes(1, torch.Generator().manual_seed(3))
    xs, ys, xq, yq = (t[0].double() for t in (ep.x_support, ep.y_support, ep.x_query, ep.y_query))
    got, crash = call_learner(fn, model, xs, ys, xq, yq, 0.1)
    if crash is not None:
        return crash
    ep64 = ep.task(0)
    for name in ("x_support", "y_support", "x_query", "y_query"):
        setattr(ep64, name, getattr(ep64, name).double())
    want, _ = maml_meta_gradient(model, ep64, k=1, eta=0.1)
    fo, _ = maml_meta_gradient(model, ep64, k=1, eta=0.1, first_order=True)
    if not isinstance(got, dict) or set(got) != set(want):
        return Check(False, message("shape", got=type(got).__name__, want="dict " + str(sorted(want))))
    if all(close(got[n].detach(), want[n]) for n in want):
        return Check(True, message("right"))
    if all(close(got[n].detach(), fo[n]) for n in want):
        return Check(False, message("first_order"))

    def flat(d: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([d[n].detach().flatten() for n in sorted(d)])

    return Check(False, message("wrong_value", error=relative_error(flat(got), flat(want))))


MESSAGES.update(
    {
        "chain_first_order": (
            "This is ∇L_q(θ̃), FOMAML's direction: it treats θ̃ as if it did not depend on θ. But every inner step "
            "θ_{{i+1}} = θ_i − η∇L_s(θ_i) does, through its Jacobian I − η·H_i: multiply by them.",
            "Bu ∇L_q(θ̃), yani FOMAML'ın yönü: θ̃'yı θ'ya bağlı değilmiş gibi ele alıyor. Oysa her iç adım, "
            "θ_{{i+1}} = θ_i − η∇L_s(θ_i), Jacobian matrisi I − η·H_i üzerinden θ'ya bağlıdır: bunlarla çarpın.",
            "这是 ∇L_q(θ̃)，也就是 FOMAML 的方向：它把 θ̃ 当作与 θ 无关。但每个内循环步 θ_{{i+1}} = θ_i − η∇L_s(θ_i) "
            "都通过它的雅可比矩阵 I − η·H_i 依赖于 θ：请乘上它们。",
        ),
        "chain_one_step": (
            "Only one step's Jacobian is there. Each of the k inner steps contributes its own factor I − η·H_i, with "
            "H_i the support Hessian at the point θ_i where that step starts.",
            "Yalnızca tek bir adımın Jacobian matrisi var. k iç adımın her biri kendi I − η·H_i çarpanını getirir; "
            "H_i, o adımın başladığı θ_i noktasındaki destek Hessian matrisidir.",
            "这里只有一步的雅可比矩阵。k 个内循环步中的每一步都贡献自己的因子 I − η·H_i，其中 H_i 是该步起点 θ_i "
            "处的支持集黑塞矩阵。",
        ),
        "chain_order": (
            "The factors are applied in the wrong order. The gradient flows backward: ∇L_q(θ̃) meets the last step's "
            "Jacobian first, I − η·H_{{k−1}}, and the first step's, I − η·H_0, last.",
            "Çarpanlar yanlış sırayla uygulanmış. Gradyan geriye doğru akar: ∇L_q(θ̃) önce son adımın Jacobian "
            "matrisiyle, I − η·H_{{k−1}}, en son da ilk adımınkiyle, I − η·H_0, karşılaşır.",
            "各因子的顺序反了。梯度是反向传播的：∇L_q(θ̃) 先遇到最后一步的雅可比矩阵 I − η·H_{{k−1}}，最后才遇到第一步的 "
            "I − η·H_0。",
        ),
        "chain_sum": (
            "Close, but you added the Hessian terms instead of multiplying the factors: (I − ηH_0)(I − ηH_1)v also has "
            "the term η²·H_0 H_1 v. Apply the factors one after the other.",
            "Yaklaştınız, ama çarpanları çarpmak yerine Hessian terimlerini toplamışsınız: (I − ηH_0)(I − ηH_1)v "
            "ifadesinde η²·H_0 H_1 v terimi de vardır. Çarpanları art arda uygulayın.",
            "很接近了，但你把黑塞项加了起来，而不是把各因子相乘：(I − ηH_0)(I − ηH_1)v 里还有 η²·H_0 H_1 v 这一项。"
            "请依次应用这些因子。",
        ),
        "chain_sign": (
            "The Hessian terms have the wrong sign: the Jacobian of θ − η∇L_s(θ) is I − η·H, with a minus.",
            "Hessian terimlerinin işareti yanlış: θ − η∇L_s(θ) ifadesinin Jacobian matrisi I − η·H, yani eksi işaretli.",
            "黑塞项的符号反了：θ − η∇L_s(θ) 的雅可比矩阵是 I − η·H，是减号。",
        ),
        "chain_no_eta": (
            "η is missing from the Hessian terms: differentiating θ − η∇L_s(θ) gives I − η·H.",
            "Hessian terimlerinde η eksik: θ − η∇L_s(θ) ifadesinin türevi I − η·H olur.",
            "黑塞项里少了 η：对 θ − η∇L_s(θ) 求导得到 I − η·H。",
        ),
        "chain_general": (
            "Right for k = 2, but not for k = {k}: write it for any number of inner steps, len(hvps).",
            "k = 2 için doğru, ama k = {k} için değil: herhangi bir iç adım sayısı (len(hvps)) için yazın.",
            "k = 2 时正确，但 k = {k} 时不对：请写成对任意内循环步数（len(hvps)）都成立的形式。",
        ),
    }
)


def _chain_problem(k: int, eta: float, seed: int = 5) -> tuple[torch.Tensor, list[Callable], torch.Tensor]:
    """For a small float64 tanh network and one sine task, k inner SGD steps θ_0 = θ, …, θ_k = θ̃ on the support
    set: the query gradient at θ̃, v ↦ H_i v (the support Hessian at θ_i) for i < k, and the package's autograd
    meta-gradient ``maml_meta_gradient`` as the reference, all flat."""
    torch.manual_seed(3)
    model = MLP((16, 16), "tanh").double()
    ep = SineFamily("maml", shots=10, queries=10).episodes(1, torch.Generator().manual_seed(seed)).task(0)
    for name in ("x_support", "y_support", "x_query", "y_query"):
        setattr(ep, name, getattr(ep, name).double())
    xs, ys, xq, yq = ep.x_support[0], ep.y_support[0], ep.x_query[0], ep.y_query[0]
    names = [n for n, _ in model.named_parameters()]

    def grad(point: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, create_graph: bool = False):
        loss = torch.nn.functional.mse_loss(functional_call(model, point, (x,)), y)
        return torch.autograd.grad(loss, [point[n] for n in names], create_graph=create_graph)

    points = [{n: p.detach().clone().requires_grad_(True) for n, p in model.named_parameters()}]
    for _ in range(k):
        g = grad(points[-1], xs, ys)
        points.append({n: (points[-1][n] - eta * gi).detach().requires_grad_(True) for n, gi in zip(names, g)})
    g_query = torch.cat([g.reshape(-1) for g in grad(points[-1], xq, yq)])

    def hvp_at(point: dict[str, torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
        def hvp(v: torch.Tensor) -> torch.Tensor:
            g = torch.cat([gi.reshape(-1) for gi in grad(point, xs, ys, create_graph=True)])
            return torch.cat([h.reshape(-1) for h in torch.autograd.grad(g @ v.detach(), [point[n] for n in names])])

        return hvp

    want, _ = maml_meta_gradient(model, ep, k=k, eta=eta)
    return g_query, [hvp_at(p) for p in points[:-1]], torch.cat([want[n].reshape(-1) for n in names])


def _chain(
    g: torch.Tensor, hvps: list[Callable], eta: float, order: list[int], sign: float = -1.0, scale: float | None = None
) -> torch.Tensor:
    """Apply the factors I + sign·scale·H_i to g, for i in ``order`` (first listed, first applied)."""
    for i in order:
        g = g + sign * (eta if scale is None else scale) * hvps[i](g)
    return g


def check_maml_chain_rule(
    fn: Callable[[torch.Tensor, list[Callable[[torch.Tensor], torch.Tensor]], float], torch.Tensor],
) -> Check:
    """Lesson 03: ``fn(grad_query, hvps, eta)`` → MAML's meta-gradient through k = ``len(hvps)`` inner SGD steps,
    by the chain rule: ∇_θ L_q(θ̃) = (I − ηH_0)(I − ηH_1)…(I − ηH_{k−1})·∇L_q(θ̃), Hessians symmetric.

    ``grad_query`` is ∇L_q at θ̃ (a vector), ``hvps[i](v)`` is H_i·v, the support Hessian at θ_i, where inner step i
    starts (θ_0 = θ). The checker tries k = 2, 1 and 3 on a small network and compares with the package's
    autograd ``maml_meta_gradient``; the usual slips are named."""
    eta = 0.1
    for k in (2, 1, 3):
        g_query, hvps, want = _chain_problem(k, eta)
        got, crash = call_learner(fn, g_query.clone(), list(hvps), eta)
        if crash is not None:
            return crash
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return Check(False, message("shape", got=shape, want=tuple(want.shape)))
        got = got.detach().to(torch.float64)
        if close(got, want):
            continue
        if k != 2:
            return Check(False, message("chain_general", k=k))
        backward = [1, 0]
        sum_terms = g_query - eta * hvps[0](g_query) - eta * hvps[1](g_query)
        mistake = first_match(
            got,
            {
                "chain_first_order": g_query,
                "chain_one_step": [_chain(g_query, hvps, eta, [0]), _chain(g_query, hvps, eta, [1])],
                "chain_order": _chain(g_query, hvps, eta, [0, 1]),
                "chain_sum": sum_terms,
                "chain_sign": _chain(g_query, hvps, eta, backward, sign=1.0),
                "chain_no_eta": _chain(g_query, hvps, eta, backward, scale=1.0),
            },
        )
        if mistake is not None:
            return Check(False, message(mistake))
        return Check(False, message("wrong_value", error=relative_error(got, want)))
    return Check(True, message("right"))
