"""Inner-loop recipes: how a method adapts θ to one task, written once so every method gets the same.

A recipe fixes the inner loop, an ``InnerLoop`` (the optimiser: plain SGD or Adam with β1 = 0;
the inner learning rate η; the number of steps k; the minibatch of each step), once for
meta-training and once for evaluation. Any method takes it as keyword arguments::

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

from .inner import InnerLoop


def keywords(loop: InnerLoop) -> dict[str, object]:
    """An ``InnerLoop`` as the keyword arguments every method takes: k, eta, batch_size, inner_optimizer."""
    return {"k": loop.k, "eta": loop.eta, "batch_size": loop.batch_size, "inner_optimizer": loop.optimizer}


@dataclass(frozen=True)
class InnerRecipe:
    """The inner loop of meta-training (``train``) and of evaluation (``test``), each an ``InnerLoop``
    (k steps of η on minibatches of ``batch_size``, SGD or Adam with β1 = 0)."""

    name: str
    train: InnerLoop
    test: InnerLoop

    def training(self) -> dict[str, object]:
        """Keyword arguments for ``reptile``, ``maml`` or ``fomaml``: k, η, batch_size, inner_optimizer."""
        return keywords(self.train)

    def evaluation(self) -> dict[str, object]:
        """Keyword arguments for ``evaluate`` (or ``adapt``): k, η, batch_size, inner_optimizer."""
        return keywords(self.test)

    def with_test(self, **changes: object) -> InnerRecipe:
        """The same recipe with the evaluation loop changed, e.g. ``PAPER_OMNIGLOT.with_test(eta=3e-3)``."""
        return replace(self, test=replace(self.test, **changes))  # type: ignore[arg-type]

    def with_train(self, **changes: object) -> InnerRecipe:
        """The same recipe with the meta-training loop changed, e.g. ``PAPER_OMNIGLOT.with_train(batch_size=20)``."""
        return replace(self, train=replace(self.train, **changes))  # type: ignore[arg-type]


#: The Reptile paper's Omniglot recipe (Nichol et al. 2018): Adam β1 = 0, η = 0.001; 5 steps on
#: minibatches of 10 in meta-training, 50 steps on minibatches of 5 in evaluation.
PAPER_OMNIGLOT = InnerRecipe(
    "Reptile paper (Omniglot)",
    train=InnerLoop(k=5, eta=1e-3, batch_size=10, optimizer="adam"),
    test=InnerLoop(k=50, eta=1e-3, batch_size=5, optimizer="adam"),
)
