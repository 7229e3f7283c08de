"""Common mistakes in Reptile code, as find-the-bug exercises (lessons 04 and 05).

Each checker runs the learner's repaired loop on a small problem where the right answer is known,
accepts the fix, and otherwise names the mistake the result shows:

* ``check_reptile_step_in_place``: a saved ``state_dict()`` that aliases the live parameters (the
  "restored" θ moved with the model, so the step lands on θ̃), and an interpolation applied after the
  weights already moved (θ̃ + ε(θ̃ − θ), past θ̃);
* ``check_not_fine_tuning``: ε = 1 with one task per outer step, which is fine-tuning on one task
  after another, not meta-learning;
* ``check_within_task_alignment``: Reptile's second term measured between tasks instead of between
  minibatches of one task.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..dynamics import alignment, off_diagonal_mean
from ..inner import adapt
from ..landscape import ToyTasks
from ..models import MLP
from ..sine import SineFamily
from .core import MESSAGES, Check, call_learner, close, first_match, is_number, message, relative_error

MESSAGES.update(
    {
        "step_aliased": (
            "The model ended at θ̃, as if ε = 1: the outer step did not pull it back. If you saved θ with "
            "state_dict() or parameters(), you saved the live tensors, not copies; the inner loop changed them, "
            "so θ̃ − θ was 0 when you used it. Save a copy: {{n: p.detach().clone() for n, p in "
            "model.named_parameters()}} or copy.deepcopy(model.state_dict()).",
            "Model θ̃ noktasında kaldı, sanki ε = 1: dış adım onu geri çekmedi. θ'yı state_dict() ya da "
            "parameters() ile sakladıysanız kopyayı değil, canlı tensörlerin kendisini sakladınız; iç döngü onları "
            "değiştirdi ve kullandığınız anda θ̃ − θ sıfırdı. Bir kopya saklayın: {{n: p.detach().clone() for n, p "
            "in model.named_parameters()}} ya da copy.deepcopy(model.state_dict()).",
            "模型停在了 θ̃，相当于 ε = 1：外循环步没有把它拉回来。如果你用 state_dict() 或 parameters() "
            "保存 θ，保存的是正在使用的张量本身，而不是副本；内循环修改了它们，所以用到时 θ̃ − θ 已经是 0。"
            "请保存一份副本：{{n: p.detach().clone() for n, p in model.named_parameters()}} 或 "
            "copy.deepcopy(model.state_dict())。",
        ),
        "step_overshoot": (
            "The model went past θ̃, to θ̃ + ε(θ̃ − θ): the interpolation started from the weights after the inner "
            "loop, which already are θ̃. Start from the saved θ: θ + ε(θ̃ − θ), for example p.copy_(p0 + ε·(p − p0)).",
            "Model θ̃'nın da ötesine, θ̃ + ε(θ̃ − θ) noktasına gitti: ara değer, iç döngüden sonraki ağırlıklardan, "
            "yani zaten θ̃ olan ağırlıklardan başlatılmış. Saklanan θ'dan başlayın: θ + ε(θ̃ − θ), örneğin "
            "p.copy_(p0 + ε·(p − p0)).",
            "模型越过了 θ̃，到了 θ̃ + ε(θ̃ − θ)：插值是从内循环之后的权重出发的，而它们已经是 θ̃。"
            "请从保存的 θ 出发：θ + ε(θ̃ − θ)，例如 p.copy_(p0 + ε·(p − p0))。",
        ),
        "step_not_moved": (
            "The model is back at θ: the inner loop's progress was thrown away. Restoring θ is half the outer step; "
            "then move it toward θ̃ by ε(θ̃ − θ), in place, in the model's own parameters.",
            "Model yeniden θ'da: iç döngünün ilerlemesi çöpe gitti. θ'yı geri yüklemek dış adımın yalnızca yarısı; "
            "ardından onu θ̃'ya doğru ε(θ̃ − θ) kadar, yerinde, modelin kendi parametrelerinde ilerletin.",
            "模型回到了 θ：内循环的进展被丢掉了。恢复 θ 只是外循环步的一半；接着要在模型自己的参数上原地把它"
            "朝 θ̃ 移动 ε(θ̃ − θ)。",
        ),
        "tune_not_moved": (
            "θ did not move: the loop must still take outer steps toward the tasks' θ̃.",
            "θ hiç hareket etmedi: döngü, görevlerin θ̃ değerlerine doğru dış adımlar atmaya devam etmeli.",
            "θ 完全没有移动：循环仍然要朝各任务的 θ̃ 迈出外循环步。",
        ),
        "fine_tuning": (
            "The last task decides where θ ends: changing only the last task of the stream moves the final θ by "
            "{ratio:.0%} of the distance between the tasks' θ̃. With ε = 1 and one task per outer step, each step "
            "replaces θ by one task's θ̃: that is fine-tuning on one task after another, and θ remembers only the "
            "latest. Take a smaller ε (or anneal it), or average θ̃ − θ over several tasks per outer step.",
            "θ'nın nerede biteceğine son görev karar veriyor: akıştaki yalnızca son görevi değiştirince son θ, "
            "görevlerin θ̃ değerleri arasındaki uzaklığın %{ratio_pct:.0f} oranında kayıyor. ε = 1 ve dış adım "
            "başına tek görevle her adım θ'yı bir görevin θ̃'sıyla değiştirir: bu, bir görevden ötekine art arda "
            "yapılan ince ayardır (fine-tuning) ve θ yalnızca en son görevi hatırlar. Daha küçük bir ε seçin (ya da onu zamanla "
            "küçültün) veya θ̃ − θ farkının ortalamasını dış adım başına birkaç görev üzerinden alın.",
            "θ 最终停在哪里由最后一个任务决定：只换掉任务流中的最后一个任务，最终的 θ 就移动了各任务 θ̃ 之间"
            "距离的 {ratio:.0%}。当 ε = 1 且每个外循环步只用一个任务时，每一步都把 θ 换成某个任务的 θ̃："
            "这是在一个又一个任务上依次微调，θ 只记得最近的那个任务。请取更小的 ε（或让它逐渐衰减），"
            "或者在每个外循环步中对多个任务的 θ̃ − θ 求平均。",
        ),
        "fine_tuning_partly": (
            "Better, but the last task alone still moves the final θ by {ratio:.0%} of the distance between the "
            "tasks' θ̃: θ is mostly the last few tasks. Use a smaller ε, anneal it, or average over more tasks per "
            "outer step (the check asks for 25% or less).",
            "Daha iyi, ama son görev tek başına son θ'yı hâlâ görevlerin θ̃ değerleri arasındaki uzaklığın "
            "%{ratio_pct:.0f} oranında kaydırıyor: θ büyük ölçüde son birkaç görevden ibaret. Daha küçük bir ε "
            "seçin, onu zamanla küçültün ya da dış adım başına daha çok görevin ortalamasını alın (denetim en fazla "
            "%25 istiyor).",
            "好一些了，但仅最后一个任务仍会让最终的 θ 移动各任务 θ̃ 之间距离的 {ratio:.0%}：θ 主要由最后几个任务"
            "决定。请取更小的 ε、让它逐渐衰减，或在每个外循环步中对更多任务求平均（检查要求不超过 25%）。",
        ),
        "meta_learning_ok": (
            "Right: changing only the last task now moves the final θ by {ratio:.0%} of the distance between the "
            "tasks' θ̃ (with ε = 1 and one task per step: 100%). θ stays where many tasks pull it.",
            "Doğru: artık yalnızca son görevi değiştirince son θ, görevlerin θ̃ değerleri arasındaki uzaklığın "
            "yalnızca %{ratio_pct:.0f} oranında kayıyor (ε = 1 ve adım başına tek görevle: %100). θ, pek çok görevin "
            "çektiği yerde duruyor.",
            "正确：现在只换掉最后一个任务，最终的 θ 只移动各任务 θ̃ 之间距离的 {ratio:.0%}"
            "（ε = 1 且每步一个任务时是 100%）。θ 停在许多任务共同拉向的位置。",
        ),
        "align_between_tasks": (
            "This compares gradients of different tasks. Reptile's second term, AvgGradInner, is about two "
            "minibatches of the same task: ḡ_{{t,i}}·ḡ_{{t,j}} with i ≠ j. Different tasks may well pull apart; what "
            "Reptile rewards is a θ where a step on one part of a task's data also helps on the rest of that task.",
            "Bu, farklı görevlerin gradyanlarını karşılaştırıyor. Reptile'ın ikinci terimi AvgGradInner ise aynı "
            "görevin iki mini-yığınıyla ilgilidir: i ≠ j için ḡ_{{t,i}}·ḡ_{{t,j}}. Farklı görevler pekâlâ ayrı "
            "yönlere çekebilir; Reptile'ın ödüllendirdiği, bir görevin verisinin bir parçasında atılan adımın o "
            "görevin geri kalanında da işe yaradığı bir θ'dır.",
            "这里比较的是不同任务的梯度。Reptile 的第二项 AvgGradInner 说的是同一个任务的两个小批量："
            "i ≠ j 时的 ḡ_{{t,i}}·ḡ_{{t,j}}。不同任务完全可以朝不同方向拉；Reptile 奖励的是这样的 θ："
            "在任务的一部分数据上走一步，也能改善这个任务其余的数据。",
        ),
        "align_with_self": (
            "The pairs i = j are in: ḡ_{{t,i}}·ḡ_{{t,i}} = ‖ḡ_{{t,i}}‖² is a gradient's size, not an agreement between "
            "two minibatches. Average over i ≠ j only.",
            "i = j çiftleri de girmiş: ḡ_{{t,i}}·ḡ_{{t,i}} = ‖ḡ_{{t,i}}‖² bir gradyanın büyüklüğüdür, iki mini-yığın "
            "arasındaki bir uyum değil. Yalnızca i ≠ j üzerinden ortalama alın.",
            "包含了 i = j 的数对：ḡ_{{t,i}}·ḡ_{{t,i}} = ‖ḡ_{{t,i}}‖² 是梯度的大小，而不是两个小批量之间的一致程度。"
            "请只对 i ≠ j 求平均。",
        ),
        "align_cosine": (
            "This is the cosine of the angle. AvgGradInner is the gradient of the inner product ḡ_i·ḡ_j itself: "
            "return the mean inner product, without dividing by the norms.",
            "Bu, açının kosinüsü. AvgGradInner, doğrudan ḡ_i·ḡ_j iç çarpımının gradyanıdır: normlara bölmeden iç "
            "çarpımların ortalamasını döndürün.",
            "这是夹角的余弦。AvgGradInner 是内积 ḡ_i·ḡ_j 本身的梯度：请返回内积的平均值，不要除以范数。",
        ),
        "align_one_pair": (
            "Only minibatches 0 and 1 are compared. Average over every pair i ≠ j of each task.",
            "Yalnızca 0. ve 1. mini-yığınlar karşılaştırılmış. Her görevin tüm i ≠ j çiftleri üzerinden ortalama alın.",
            "只比较了第 0 个和第 1 个小批量。请对每个任务的所有 i ≠ j 数对求平均。",
        ),
        "align_sum": (
            "This is the sum over the pairs; return the mean, so that the number does not grow with T and m.",
            "Bu, çiftler üzerinden toplam; ortalamayı döndürün ki sayı T ve m ile büyümesin.",
            "这是对各数对的求和；请返回平均值，这样结果不会随 T 和 m 增大。",
        ),
    }
)


# -------------------------------------------------------------------------------- bugs 1 and 2: the outer step


def _one_task(seed: int = 11) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A small float64 tanh MLP and one sine task's 10 points ``[10, 1]``."""
    torch.manual_seed(seed)
    model = MLP((16, 16), "tanh").double()
    task = SineFamily("reptile").sample(1, 10, torch.Generator().manual_seed(seed))
    return model, task.x[0].double(), task.y[0].double()


def _flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def check_reptile_step_in_place(
    fn: Callable[[nn.Module, torch.Tensor, torch.Tensor, int, float, float], object],
) -> Check:
    """Lesson 04: ``fn(model, x, y, k, eta, epsilon)`` takes one Reptile outer step on one task, in place:
    k SGD steps of size η on the points ``x``, ``y`` ([N, 1], mean squared error) give θ̃, and the model's
    parameters become θ + ε(θ̃ − θ). Names two classic slips: a saved θ that aliases the live parameters
    (the model ends at θ̃) and an interpolation that starts from θ̃ (it ends at θ̃ + ε(θ̃ − θ))."""
    model, x, y = _one_task()
    k, eta, eps = 3, 0.05, 0.25
    theta = _flat(model)
    tilde_params = adapt(model, x.unsqueeze(0), y.unsqueeze(0), k=k, eta=eta)
    tilde = torch.cat([tilde_params[n][0].reshape(-1) for n, _ in model.named_parameters()])
    _, crash = call_learner(fn, model, x, y, k, eta, eps)
    if crash is not None:
        return crash
    got = _flat(model)
    want = theta + eps * (tilde - theta)
    if close(got, want):
        return Check(True, message("right"))
    mistake = first_match(
        got,
        {
            "step_aliased": tilde,
            "step_overshoot": tilde + eps * (tilde - theta),
            "step_not_moved": theta,
            "sign": theta - eps * (tilde - theta),
        },
    )
    if mistake is not None:
        return Check(False, message(mistake))
    return Check(False, message("wrong_value", error=relative_error(got - theta, want - theta)))


# ------------------------------------------------------------------------- bug 3: ε = 1 with one task per step


def check_not_fine_tuning(
    fn: Callable[[ToyTasks, torch.Tensor, Sequence[int], int, float], torch.Tensor], *, threshold: float = 0.25
) -> Check:
    """Lesson 04: ``fn(toy, theta, stream, k, eta)`` meta-trains on the two-parameter toy tasks (``ToyTasks``)
    from ``theta``, one outer step per entry of ``stream`` (task indices), and returns the final θ ``[2]``.

    Meta-learning averages many tasks; fine-tuning one task after another (ε = 1, one task per outer step)
    ends wherever the last task pulled θ. The check changes only the last task of the stream and measures how
    far the final θ moves, relative to how far apart the tasks' θ̃ are from the same point: 100 % for
    sequential fine-tuning, ε for Reptile with one task per step. It accepts ``threshold`` (25 %) or less.
    """
    toy = ToyTasks.random(5, seed=3)
    k, eta = 5, 0.5
    start = torch.zeros(2, dtype=torch.float64)
    stream = torch.randint(toy.num_tasks, (60,), generator=torch.Generator().manual_seed(4)).tolist()

    def run(tasks: list[int]) -> tuple[torch.Tensor | None, Check | None]:
        got, crash = call_learner(fn, toy, start.clone(), list(tasks), k, eta)
        if crash is not None:
            return None, crash
        if not isinstance(got, torch.Tensor) or got.numel() != 2:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            return None, Check(False, message("shape", got=shape, want=(2,)))
        got = got.detach().to(torch.float64).reshape(2)
        if not torch.isfinite(got).all():
            return None, Check(False, message("number", got=repr(got.tolist())))
        return got, None

    final, verdict = run(stream)
    if verdict is not None:
        return verdict
    before, verdict = run(stream[:-1])
    if verdict is not None:
        return verdict
    tildes = toy.adapt(before, k, eta)  # [T, 2]: every task's θ̃ from the θ before the last step
    if float((final - start).norm()) < 1e-6 * float((tildes - start).norm(dim=-1).mean()):
        return Check(False, message("tune_not_moved"))
    last = stream[-1]
    ratios = []
    for other in range(toy.num_tasks):
        if other == last:
            continue
        moved, verdict = run(stream[:-1] + [other])
        if verdict is not None:
            return verdict
        ratios.append(float((moved - final).norm() / (tildes[other] - tildes[last]).norm()))
    ratio = max(ratios)
    fields = {"ratio": ratio, "ratio_pct": 100 * ratio}
    if ratio <= threshold:
        return Check(True, message("meta_learning_ok", **fields))
    return Check(False, message("fine_tuning" if ratio > 0.9 else "fine_tuning_partly", **fields))


# ------------------------------------------------------------------ bug 4: alignment between tasks, not within


def _alignment_problem(seed: int = 12) -> torch.Tensor:
    """Minibatch gradients ``[T, m, P]`` with a shared direction per task, so that within-task and across-task
    inner products differ."""
    g = torch.Generator().manual_seed(seed)
    t, m, p = 4, 3, 6
    per_task = 2.0 * torch.randn(t, 1, p, generator=g, dtype=torch.float64)
    return per_task + torch.randn(t, m, p, generator=g, dtype=torch.float64)


def check_within_task_alignment(fn: Callable[[torch.Tensor], object]) -> Check:
    """Lesson 05: ``fn(grads)`` with ``grads[t, i]`` = ḡ_{t,i}, the gradient of minibatch i of task t
    (``[T, m, P]``) → the mean inner product ḡ_{t,i}·ḡ_{t,j} over the tasks t and the pairs i ≠ j of one task,
    the quantity whose gradient is AvgGradInner (Nichol et al. 2018, §5.1)."""
    grads = _alignment_problem()
    got, crash = call_learner(fn, grads.clone())
    if crash is not None:
        return crash
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = float(got)
    if not is_number(got):
        return Check(False, message("number", got=repr(got)))
    cos, inner = alignment(grads)
    want = off_diagonal_mean(inner)
    t, m, _ = grads.shape
    flat = grads.reshape(t * m, -1)
    task_of = torch.arange(t).repeat_interleave(m)
    index_of = torch.arange(m).repeat(t)
    all_inner = flat @ flat.T
    across = task_of.unsqueeze(0) != task_of.unsqueeze(1)
    same_index = index_of.unsqueeze(0) == index_of.unsqueeze(1)
    off = ~torch.eye(m, dtype=torch.bool)
    variants = {
        "right": want,
        "align_between_tasks": [
            float(all_inner[across].mean()),
            float(all_inner[across & same_index].mean()),
            float(all_inner[across & (index_of.unsqueeze(0) == 0) & (index_of.unsqueeze(1) == 0)].mean()),
        ],
        "align_with_self": float(inner.mean()),
        "align_cosine": off_diagonal_mean(cos),
        "align_one_pair": float(inner[:, 0, 1].mean()),
        "align_sum": [float(inner[:, off].sum()), float(inner[:, off].sum()) / 2],
    }
    for key, values in variants.items():
        for value in values if isinstance(values, list) else [values]:
            if abs(float(got) - value) <= 1e-6 * max(1.0, abs(value)):
                return Check(True, message("right")) if key == "right" else Check(False, message(key))
    return Check(False, message("wrong_value", error=abs(float(got) - want) / abs(want)))
