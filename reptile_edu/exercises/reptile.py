"""Lesson 04: Reptile's outer update, and the learning rate that makes k = 1 joint training."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..meta import reptile_outer_step
from .core import MESSAGES, Check, call_learner, check_number, close, first_match, message, relative_error

MESSAGES.update(
    {
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
    }
)


def check_reptile_update(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> Check:
    """Lesson 04: ``fn(theta [P], theta_tilde [n, P], epsilon) -> new theta [P]`` must be θ + ε·mean(θ̃ − θ)."""
    g = torch.Generator().manual_seed(4)
    theta, theta_tilde, eps = torch.randn(6, generator=g), torch.randn(5, 6, generator=g), 0.3
    got, crash = call_learner(fn, theta.clone(), theta_tilde.clone(), eps)
    if crash is not None:
        return crash
    if not isinstance(got, torch.Tensor):
        return Check(False, message("shape", got=type(got).__name__, want=(6,)))
    want = reptile_outer_step({"p": theta}, {"p": theta_tilde}, eps)["p"]
    if got.shape != want.shape:
        return Check(False, message("shape", got=tuple(got.shape), want=tuple(want.shape)))
    if close(got, want):
        return Check(True, message("right"))
    mistake = first_match(
        got,
        {
            "sign": theta - eps * (theta_tilde - theta).mean(0),
            "first_task_only": theta + eps * (theta_tilde[0] - theta),
            "sum_not_mean": theta + eps * (theta_tilde - theta).sum(0),
            "no_epsilon": theta_tilde.mean(0),
        },
    )
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got, want)))


def check_k1_learning_rate(lr: object, *, eta: float, epsilon: float) -> Check:
    """Lesson 04: the joint-training learning rate that equals Reptile with k = 1 is ε·η."""
    return check_number(lr, epsilon * eta)
