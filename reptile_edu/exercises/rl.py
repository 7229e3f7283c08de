"""Lesson 08: generalised advantage estimation, GAE(λ)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .core import MESSAGES, Check, call_learner, close, first_match, message, relative_error

MESSAGES.update(
    {
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
)


def _gae_variant(
    r: torch.Tensor, v: torch.Tensor, d: torch.Tensor, gamma: float, carry: float, cut: bool, backward: bool = True
) -> torch.Tensor:
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
    from ..rl.buffer import gae

    g = torch.Generator().manual_seed(8)
    r, v = torch.randn(4, 12, generator=g, dtype=torch.float64), torch.randn(4, 12, generator=g, dtype=torch.float64)
    d = torch.zeros(4, 12, dtype=torch.float64)
    d[:, -1], d[0, 3], d[1, 7], d[2, 5] = 1.0, 1.0, 1.0, 1.0  # episodes that end inside the row
    gamma, lam = 0.9, 0.8
    got, crash = call_learner(fn, r.clone(), v.clone(), d.clone(), gamma, lam)
    if crash is not None:
        return crash
    want, targets = gae(r, v, d, gamma=gamma, lam=lam)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return Check(False, message("shape", got=shape, want=tuple(want.shape)))
    got = got.detach().double()
    if close(got, want):
        return Check(True, message("right"))
    mistake = first_match(
        got,
        {
            "gae_targets": targets,
            "gae_no_dones": _gae_variant(r, v, d, gamma, gamma * lam, cut=False),
            "gae_no_lambda": _gae_variant(r, v, d, gamma, gamma, cut=True),
            "gae_td_only": _gae_variant(r, v, d, gamma, 0.0, cut=True),
            "gae_forward": _gae_variant(r, v, d, gamma, gamma * lam, cut=True, backward=False),
        },
    )
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got, want)))
