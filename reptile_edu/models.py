"""Models, and how to run one model with a different parameter vector per task.

Meta-learning keeps one initialisation θ and, for every task t, adapted
parameters θ̃_t. ``batched_call(model, params, x)`` evaluates f(θ̃_t; x_t) for all
T tasks in one computation: parameters carry a leading task dimension ``[T, ...]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call, vmap

from ._checks import check_choice, check_int

Params = dict[str, torch.Tensor]

ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh}

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


def parameters_of(model: nn.Module) -> Params:
    """θ as a name → tensor dict (the model's own tensors, not copies)."""
    return dict(model.named_parameters())


def expand_params(params: Params, num_tasks: int) -> Params:
    """θ repeated for T tasks, ``[T, ...]`` (a view: gradients flow back to θ)."""
    return {n: p.unsqueeze(0).expand(num_tasks, *p.shape) for n, p in params.items()}


def batched_call(model: nn.Module, params: Params, x: torch.Tensor) -> torch.Tensor:
    """Evaluate ``model`` with parameters ``params[t]`` on inputs ``x[t]`` for every task t.

    Uses the model's own ``batched_forward`` when it has one (fast batched matmuls),
    otherwise ``torch.func.vmap`` over ``functional_call``.
    """
    fast = getattr(model, "batched_forward", None)
    if fast is not None:
        return fast(params, x)
    return vmap(lambda p, xt: functional_call(model, p, (xt,)))(params, x)
