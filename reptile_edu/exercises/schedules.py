"""Lesson 09: a cosine schedule for the outer step size ε."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ..schedules import Cosine
from .core import MESSAGES, Check, call_learner, message, relative_error

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
    cases = [(10, 1.0, 0.1), (4, 0.5, 0.0), (7, 2.0, 0.5)]
    got_all, want_all = [], []
    for steps, eps, end in cases:
        for s in range(steps):
            got, crash = call_learner(fn, s, steps, eps, end)
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
    return Check(False, message("wrong_value", error=relative_error(got_t, want_t)))
