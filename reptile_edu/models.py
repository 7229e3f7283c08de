"""Models, and how to run one model with a different parameter vector per task.

Meta-learning keeps one initialisation θ and, for every task t, adapted
parameters θ̃_t. ``batched_call(model, params, x)`` evaluates f(θ̃_t; x_t) for all
T tasks in one computation: parameters carry a leading task dimension ``[T, ...]``.

The ``MLP`` also carries its SGD step with the gradient written out by hand
(``MLP.sgd_steps``), beside the forward pass it differentiates. With h₀ = x,
zᵢ = hᵢ₋₁Wᵢᵀ + bᵢ, hᵢ = σ(zᵢ) and the output z_L, for the mean squared error L over N points:

    d_L = ∂L/∂z_L = 2(z_L − y)/(N·out)
    ∂L/∂Wᵢ = dᵢᵀ hᵢ₋₁,   ∂L/∂bᵢ = Σ_points dᵢ
    dᵢ₋₁ = (dᵢ Wᵢ) ⊙ σ'(zᵢ₋₁),   tanh' = 1 − h²,   relu' = [h > 0]

for every task at once with batched matmuls, with the step θ̃ ← θ̃ − η∇L fused into the
weight-gradient matmul. On a CPU, where these matrices are tiny, skipping autograd's
bookkeeping makes an inner step several times faster; the arithmetic is autograd's. The inner
loop (``reptile_edu.inner.InnerLoop``) uses it only where ``MLP.has_hand_derived_sgd()`` says the
forward pass is this one, and only when asked to (its ``implementation``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vmap

from ._checks import check_choice, check_int
from .messages import message

Params = dict[str, torch.Tensor]

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}


def _relu_backward(back: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return back * (h > 0)  # relu'(z) = [h > 0]


def _tanh_backward(back: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return torch.addcmul(back, back * h, h, value=-1)  # tanh'(z) = 1 − h²


#: back ⊙ σ'(z), written with the activation's output h = σ(z): what ``MLP.sgd_steps`` knows.
ACTIVATION_BACKWARD: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "relu": _relu_backward,
    "tanh": _tanh_backward,
}

#: The two published sine networks: MAML's 1-40-40-1 ReLU and Reptile's 1-64-64-1 tanh (demo).
MLP_PRESETS = {"maml": ((40, 40), "relu"), "reptile": ((64, 64), "tanh")}


class MLP(nn.Module):
    """A fully connected network ``in → hidden[0] → … → out`` with one activation between layers."""

    def __init__(
        self,
        hidden: Sequence[int] = (40, 40),
        activation: str = "relu",
        in_features: int = 1,
        out_features: int = 1,
    ) -> None:
        super().__init__()
        widths = [check_int("in_features", in_features)]
        widths += [check_int(f"hidden[{i}]", h) for i, h in enumerate(hidden)]
        widths += [check_int("out_features", out_features)]
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self._act = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.input_shape = (widths[0],)

    @classmethod
    def preset(cls, name: str) -> MLP:
        """``MLP.preset("maml")`` (40-40 ReLU) or ``MLP.preset("reptile")`` (64-64 tanh)."""
        hidden, act = MLP_PRESETS[check_choice("name", name, tuple(MLP_PRESETS))]
        return cls(hidden, act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = self._act(x)
        return x

    def batched_forward(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """f(θ_t; x_t) for all tasks with batched matmuls: params ``[T, ...]``, x ``[T, N, in]``."""
        n = len(self.layers)
        for i in range(n):
            w, b = params[f"layers.{i}.weight"], params[f"layers.{i}.bias"]
            x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
            if i < n - 1:
                x = self._act(x)
        return x

    def has_hand_derived_sgd(self) -> bool:
        """Whether ``sgd_steps`` computes this network's gradient: the forward pass is the one written in
        ``MLP`` (not overridden) and its activation σ is one whose derivative ``ACTIVATION_BACKWARD`` knows."""
        cls = type(self)
        return (
            cls.forward is MLP.forward
            and cls.batched_forward is MLP.batched_forward
            and cls.sgd_steps is MLP.sgd_steps
            and self.activation in ACTIVATION_BACKWARD
            and self._act is ACTIVATIONS.get(self.activation)
        )

    @torch.no_grad()
    def sgd_steps(self, params: Params, x: torch.Tensor, y: torch.Tensor, eta: float, batches: list[slice]) -> Params:
        """θ̃: one SGD step θ̃ ← θ̃ − η∇L_t(θ̃) on the mean squared error per entry of ``batches`` (the support
        points each inner step uses), on every task at once, with the gradient written out by hand.

        ``params`` are ``[T, ...]`` (not changed), ``x`` is ``[T, N, in]``, ``y`` is ``[T, N, out]``. Only valid
        when ``has_hand_derived_sgd()``; ``reptile_edu.inner.InnerLoop`` checks that before calling it.
        """
        check_input(self, x)
        n = len(self.layers)
        act, act_backward = self._act, ACTIVATION_BACKWARD[self.activation]
        # Own contiguous copies of θ̃_t; bias views [T, 1, out] share their storage and broadcast in baddbmm.
        ws = [params[f"layers.{i}.weight"].clone(memory_format=torch.contiguous_format) for i in range(n)]
        bs = [params[f"layers.{i}.bias"].clone(memory_format=torch.contiguous_format) for i in range(n)]
        bs3 = [b.unsqueeze(1) for b in bs]
        for sl in batches:
            hs = [x[:, sl]]  # the input of each layer
            for i in range(n):
                z = torch.baddbmm(bs3[i], hs[-1], ws[i].transpose(1, 2))
                hs.append(act(z) if i < n - 1 else z)
            d = hs.pop() - y[:, sl]  # [T, B, out]
            d = d * (2.0 / (d.shape[1] * d.shape[2]))  # d_L = ∂L/∂z_L
            for i in range(n - 1, -1, -1):
                h = hs[i]
                if i > 0:
                    back = act_backward(torch.bmm(d, ws[i]), h)  # d_{i−1}, through θ̃ before this step's update
                ws[i].baddbmm_(d.transpose(1, 2), h, alpha=-eta)  # W ← W − η dᵀh
                bs[i].sub_(d.sum(1), alpha=eta)  # b ← b − η Σ d
                if i > 0:
                    d = back
        out = {}
        for i in range(n):
            out[f"layers.{i}.weight"], out[f"layers.{i}.bias"] = ws[i], bs[i]
        return out


class ConvNet(nn.Module):
    """The Reptile paper's Omniglot network (also MAML's): 4 blocks, then a linear layer.

    Each block is conv 3×3 with ``channels`` (64) filters, stride 2, padding 1 → batch norm →
    ReLU, so a 28×28 image shrinks 14 → 7 → 4 → 2; the 64·2·2 features go to a linear layer
    with ``ways`` outputs (the N of N-way). Inputs are ``[B, 1, 28, 28]``.

    **Batch norm always uses the statistics of the batch it is given** (mean and variance per
    channel over the images and pixels of that batch; ``track_running_stats=False``), as in the
    papers' code. There are no running averages, so nothing changes during a forward pass and
    the model can run with per-task parameters under ``batched_call``. What "the batch" is at
    test time makes two ways to evaluate:

    * **transductive**: all query images of a task go through the network together, so the
      batch-norm statistics, and hence each prediction, depend on the other query images. The
      Reptile and MAML papers report this setting by default; it is slightly optimistic.
    * **non-transductive**: each query image is classified on its own, in a batch made of the
      support set plus that one image, so no prediction sees another query image. The Reptile
      paper reports this too (a little lower; e.g. 5-way 1-shot Omniglot 95.4 % vs 97.7 %).

    ``evaluate(..., transductive=False)`` does the second, batched over all query images.
    """

    def __init__(
        self, ways: int = 5, *, channels: int = 64, blocks: int = 4, in_channels: int = 1, image_size: int = 28
    ) -> None:
        super().__init__()
        self.ways = check_int("ways", ways)
        channels = check_int("channels", channels)
        blocks = check_int("blocks", blocks)
        size = check_int("image_size", image_size)
        widths = [check_int("in_channels", in_channels)] + [channels] * blocks
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(widths[:-1], widths[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm2d(channels, track_running_stats=False) for _ in range(blocks))
        self.input_shape = (widths[0], size, size)
        for _ in range(blocks):
            size = (size + 1) // 2
        self.features = channels * size * size
        self.head = nn.Linear(self.features, self.ways)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = torch.relu(norm(conv(x)))
        return self.head(x.flatten(1))

    def batched_forward(self, params: Params, x: torch.Tensor) -> torch.Tensor:
        """f(θ_t; x_t) for all tasks at once: params ``[T, ...]``, x ``[T, B, C, H, W]`` → ``[T, B, ways]``.

        The T tasks become T groups of a grouped convolution; batch norm over the ``T·channels``
        channels then normalises each task's channels with that task's own batch statistics.
        """
        t, b = x.shape[:2]
        h = x.transpose(0, 1).reshape(b, t * x.shape[2], *x.shape[3:])  # [B, T·C, H, W]
        for i in range(len(self.convs)):
            w = params[f"convs.{i}.weight"]
            h = F.conv2d(
                h, w.reshape(-1, *w.shape[2:]), params[f"convs.{i}.bias"].reshape(-1), stride=2, padding=1, groups=t
            )
            gamma, beta = params[f"norms.{i}.weight"].reshape(-1), params[f"norms.{i}.bias"].reshape(-1)
            h = F.batch_norm(h, None, None, weight=gamma, bias=beta, training=True, eps=self.norms[i].eps)
            h = torch.relu(h)
        h = h.reshape(b, t, -1).transpose(0, 1)  # [T, B, features]
        return torch.baddbmm(params["head.bias"].unsqueeze(1), h, params["head.weight"].transpose(1, 2))


def parameters_of(model: nn.Module) -> Params:
    """θ as a name → tensor dict (the model's own tensors, not copies)."""
    return dict(model.named_parameters())


def expand_params(params: Params, num_tasks: int) -> Params:
    """θ repeated for T tasks, ``[T, ...]`` (a view: gradients flow back to θ)."""
    return {n: p.unsqueeze(0).expand(num_tasks, *p.shape) for n, p in params.items()}


def check_model(model: object) -> nn.Module:
    """``model`` if it is a ``torch.nn.Module`` with parameters to meta-learn; a clear error otherwise."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module (e.g. MLP()); got {type(model).__name__}.")
    if not any(True for _ in model.parameters()):
        raise ValueError("model has no parameters to meta-learn.")
    return model


def check_input(model: nn.Module, x: torch.Tensor) -> None:
    """Raise a ``ValueError`` naming both shapes when ``x`` (``[T, N, ...]``) is not what ``model`` takes.

    Models that declare ``input_shape`` (one example's shape, e.g. ``(1,)`` for the sine MLP,
    ``(1, 28, 28)`` for the ConvNet) are checked; others are passed through.
    """
    expected = getattr(model, "input_shape", None)
    if expected is None or (x.dim() >= 2 and tuple(x.shape[2:]) == tuple(expected)):
        return
    raise ValueError(
        message(
            "input_shape_mismatch",
            model=type(model).__name__,
            expected="[T, N, " + ", ".join(map(str, expected)) + "]",
            got="[" + ", ".join(map(str, x.shape)) + "]",
        )
    )


def batched_call(model: nn.Module, params: Params, x: torch.Tensor) -> torch.Tensor:
    """Evaluate ``model`` with parameters ``params[t]`` on inputs ``x[t]`` for every task t: f(θ_t; x_t).

    Uses the model's own ``batched_forward`` when it has one (fast batched matmuls),
    otherwise ``torch.func.vmap`` over ``functional_call``. Inputs of the wrong shape for the
    model raise a ``ValueError`` that names both shapes.
    """
    check_input(model, x)
    fast = getattr(model, "batched_forward", None)
    if fast is not None:
        return fast(params, x)
    return vmap(lambda p, xt: functional_call(model, p, (xt,)))(params, x)
