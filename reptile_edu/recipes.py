"""Inner-loop recipes: how a method adapts θ to one task, written once so every method gets the same.

A recipe fixes the inner loop: the optimiser (plain SGD, or Adam with β1 = 0), the inner
learning rate η, the number of steps k and the minibatch of each step, once for meta-training
and once for evaluation. Any method takes it as keyword arguments::

    reptile(model, source, steps=1000, epsilon=1.0, meta_batch=5, anneal=True, **PAPER_OMNIGLOT.training())
    evaluate(model, episodes, **PAPER_OMNIGLOT.evaluation())                       # Reptile's θ
    evaluate(with_new_head(pretrained, 5), episodes, **PAPER_OMNIGLOT.evaluation())  # pre-training's body

``PAPER_OMNIGLOT`` is the Reptile paper's Omniglot recipe (Nichol et al. 2018, appendix):
Adam with β1 = 0 and η = 0.001, k = 5 steps on minibatches of 10 in meta-training (10 examples
per class), k = 50 steps on minibatches of 5 in evaluation. One difference from the paper's
code remains: there, Adam's second-moment estimates carry over from task to task; here every
task starts Adam afresh, as adaptation to a new task should.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._checks import check_choice, check_int, check_positive

#: The inner optimisers a recipe can name: plain SGD, or Adam with β1 = 0 (the Reptile paper's).
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class InnerRecipe:
    """The inner loop of meta-training and of evaluation.

    ``optimizer`` is ``"sgd"`` or ``"adam"`` (β1 = 0, β2 = 0.999); ``eta`` is η; ``k`` and
    ``batch_size`` are the steps and the points per step in meta-training (``None``: the whole
    support set each step); ``eval_k`` and ``eval_batch_size`` the same in evaluation (the
    batch size must divide the support set's size). ``eval_eta`` is η in evaluation (default: η).
    """

    name: str
    optimizer: str
    eta: float
    k: int
    batch_size: int | None
    eval_k: int
    eval_batch_size: int | None
    eval_eta: float | None = None

    def __post_init__(self) -> None:
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive("η (eta)", self.eta)
        check_int("k (inner steps)", self.k)
        check_int("eval_k (inner steps in evaluation)", self.eval_k)
        for name in ("batch_size", "eval_batch_size"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name))
        if self.eval_eta is not None:
            check_positive("eval_eta (η in evaluation)", self.eval_eta)

    def training(self) -> dict[str, object]:
        """Keyword arguments for ``reptile``, ``maml`` or ``fomaml``: k, η, batch_size, inner_optimizer."""
        return {"k": self.k, "eta": self.eta, "batch_size": self.batch_size, "inner_optimizer": self.optimizer}

    def evaluation(self) -> dict[str, object]:
        """Keyword arguments for ``evaluate`` (or ``adapt`` with ``k=``): k, η, batch_size, inner_optimizer."""
        eta = self.eta if self.eval_eta is None else self.eval_eta
        return {"k": self.eval_k, "eta": eta, "batch_size": self.eval_batch_size, "inner_optimizer": self.optimizer}

    def with_changes(self, **changes: object) -> InnerRecipe:
        """The same recipe with some fields changed, e.g. ``PAPER_OMNIGLOT.with_changes(eval_eta=3e-3)``."""
        return replace(self, **changes)  # type: ignore[arg-type]


#: The Reptile paper's Omniglot recipe (Nichol et al. 2018): Adam β1 = 0, η = 0.001; 5 steps on
#: minibatches of 10 in meta-training, 50 steps on minibatches of 5 in evaluation.
PAPER_OMNIGLOT = InnerRecipe("Reptile paper (Omniglot)", "adam", 1e-3, k=5, batch_size=10, eval_k=50, eval_batch_size=5)
