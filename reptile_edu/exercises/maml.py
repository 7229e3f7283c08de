"""Lesson 03: MAML's meta-gradient for one inner step."""

from __future__ import annotations

from collections.abc import Callable

import torch

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
            "This is ∇L_q(θ̃), FOMAML's direction: it treats θ̃ as if it did not depend on θ. But θ̃ = θ − η∇L_s(θ) "
            "does, through the Jacobian I − η·H_s: multiply by it.",
            "Bu ∇L_q(θ̃), yani FOMAML'ın yönü: θ̃'yı θ'ya bağlı değilmiş gibi ele alıyor. Oysa θ̃ = θ − η∇L_s(θ), "
            "I − η·H_s Jacobian matrisi üzerinden θ'ya bağlıdır: onunla çarpın.",
            "这是 ∇L_q(θ̃)，也就是 FOMAML 的方向：它把 θ̃ 当作与 θ 无关。但 θ̃ = θ − η∇L_s(θ) 通过雅可比矩阵 "
            "I − η·H_s 依赖于 θ：请乘上它。",
        ),
        "chain_sign": (
            "The Hessian term has the wrong sign: the Jacobian of θ − η∇L_s(θ) is I − η·H_s, with a minus.",
            "Hessian teriminin işareti yanlış: θ − η∇L_s(θ) ifadesinin Jacobian matrisi I − η·H_s, yani eksi işaretli.",
            "黑塞项的符号反了：θ − η∇L_s(θ) 的雅可比矩阵是 I − η·H_s，是减号。",
        ),
        "chain_no_eta": (
            "η is missing from the Hessian term: differentiating θ − η∇L_s(θ) gives I − η·H_s.",
            "Hessian teriminde η eksik: θ − η∇L_s(θ) ifadesinin türevi I − η·H_s olur.",
            "黑塞项里少了 η：对 θ − η∇L_s(θ) 求导得到 I − η·H_s。",
        ),
        "chain_no_identity": (
            "Only the Hessian term is left: the Jacobian I − η·H_s also has the identity, which carries ∇L_q(θ̃) "
            "itself.",
            "Geriye yalnızca Hessian terimi kalmış: I − η·H_s Jacobian matrisinde birim matris de var ve o, "
            "∇L_q(θ̃)'nın kendisini taşır.",
            "只剩下了黑塞项：雅可比矩阵 I − η·H_s 里还有单位矩阵，它带来 ∇L_q(θ̃) 本身。",
        ),
    }
)


def check_maml_chain_rule(
    fn: Callable[[torch.Tensor, Callable[[torch.Tensor], torch.Tensor], float], torch.Tensor],
) -> Check:
    """Lesson 03: ``fn(grad_query, hvp_support, eta)`` → MAML's meta-gradient for one inner step, by the chain
    rule: with θ̃ = θ − η∇L_s(θ), ∇_θ L_q(θ̃) = (I − η·H_s(θ))·∇L_q(θ̃) (H_s is symmetric).

    ``grad_query`` is ∇L_q at θ̃ (a vector), ``hvp_support(v)`` is H_s(θ)·v. The checker builds both for a
    small network and one sine task, and compares with the package's autograd ``maml_meta_gradient``."""
    torch.manual_seed(3)
    model = MLP((16, 16), "tanh").double()
    ep = SineFamily("maml", shots=10, queries=10).episodes(1, torch.Generator().manual_seed(5)).task(0)
    for name in ("x_support", "y_support", "x_query", "y_query"):
        setattr(ep, name, getattr(ep, name).double())
    eta = 0.1
    names = [n for n, _ in model.named_parameters()]
    params = list(model.parameters())

    def support_grad(create_graph: bool) -> torch.Tensor:
        loss = torch.nn.functional.mse_loss(model(ep.x_support[0]), ep.y_support[0])
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params, create_graph=create_graph)])

    def hvp_support(v: torch.Tensor) -> torch.Tensor:
        hv = torch.autograd.grad(support_grad(True) @ v.detach(), params)
        return torch.cat([h.reshape(-1) for h in hv]).detach()

    fo, _ = maml_meta_gradient(model, ep, k=1, eta=eta, first_order=True)
    want_d, _ = maml_meta_gradient(model, ep, k=1, eta=eta)
    g_q = torch.cat([fo[n].reshape(-1) for n in names])
    want = torch.cat([want_d[n].reshape(-1) for n in names])
    got, crash = call_learner(fn, g_q.clone(), hvp_support, eta)
    if crash is not None:
        return crash
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return Check(False, message("shape", got=shape, want=tuple(want.shape)))
    got = got.detach().to(torch.float64)
    if close(got, want):
        return Check(True, message("right"))
    h_g = hvp_support(g_q)
    mistake = first_match(
        got,
        {
            "chain_first_order": g_q,
            "chain_sign": g_q + eta * h_g,
            "chain_no_eta": g_q - h_g,
            "chain_no_identity": -eta * h_g,
        },
    )
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got, want)))
