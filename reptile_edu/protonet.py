"""Prototypical Networks (Snell et al. 2017): few-shot classification by the distance to class means.

The metric-based family of meta-learning. An embedding network f_φ maps every image to a
vector; here it is the course's ``ConvNet`` whose last linear layer outputs a D-dimensional
embedding instead of N class scores (``embedding_net``). In an episode, each class n gets a
**prototype**, the mean embedding of its support images S_n,

    c_n = (1/|S_n|) Σ_{x ∈ S_n} f_φ(x),

and a query x is classified by a softmax over the negative squared Euclidean distances,

    p(y = n | x) = softmax_n(−‖f_φ(x) − c_n‖²).

Meta-training (``protonet``) minimises the query cross-entropy over training episodes with
Adam. At test time nothing is adapted: there is no inner loop and no η; the support set acts
only through the prototypes (``evaluate_protonet``). Like the other methods, the network sees
each episode as one batch, so batch norm uses the episode's statistics: support and query
images together (transductive, as in Snell et al.'s code), or the support set plus one query
image at a time (``transductive=False``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._checks import check_int, check_positive
from .episodes import Episodes, TaskSource, check_source
from .evaluation import Evaluation
from .losses import task_losses
from .messages import message
from .methods import Callback, History, _commit, _optimizer_step, _run
from .models import ConvNet, batched_call, expand_params, parameters_of

NAME = "Prototypical Networks"


def embedding_net(dim: int | None = None, *, channels: int = 64, blocks: int = 4, image_size: int = 28) -> ConvNet:
    """f_φ: the course's ``ConvNet`` (the Reptile paper's body) with a ``dim``-dimensional output.

    The body's features (64·2·2 = 256 for 28×28 images) go through the last linear layer to a
    D-dimensional embedding; ``dim=None`` keeps D equal to the number of features.
    """
    body = ConvNet(2, channels=channels, blocks=blocks, image_size=image_size)
    return ConvNet(
        body.features if dim is None else check_int("dim", dim), channels=channels, blocks=blocks, image_size=image_size
    )


def prototypes(z_support: torch.Tensor, y_support: torch.Tensor, ways: int) -> torch.Tensor:
    """c_n = mean of the support embeddings with label n: ``[T, S, D]``, labels ``[T, S]`` → ``[T, N, D]``."""
    one_hot = F.one_hot(y_support, ways).to(z_support.dtype)  # [T, S, N]
    counts = one_hot.sum(1)  # [T, N]
    if bool((counts == 0).any()):
        raise ValueError(
            f"every one of the {ways} classes needs at least one support example to have a prototype; "
            "an episode lacks one (are the labels 0 … N−1?)."
        )
    return one_hot.transpose(1, 2) @ z_support / counts.unsqueeze(-1)


def squared_distances(z_query: torch.Tensor, protos: torch.Tensor) -> torch.Tensor:
    """‖f_φ(x) − c_n‖² for every query and prototype: ``[T, Q, D]`` and ``[T, N, D]`` → ``[T, Q, N]``."""
    return (z_query.unsqueeze(2) - protos.unsqueeze(1)).pow(2).sum(-1)


def protonet_logits(model: ConvNet, episodes: Episodes, *, transductive: bool = True) -> torch.Tensor:
    """The query scores −‖f_φ(x) − c_n‖², ``[T, Q, N]``, every episode embedded as one batch.

    Transductive: each episode's support and query images go through f_φ together.
    Non-transductive: each query image goes through with the support set only, so no query
    sees another (as ``evaluate(..., transductive=False)`` does for the other methods).
    """
    if episodes.loss != "ce":
        raise ValueError(f"Prototypical Networks classify: episodes need loss='ce'; got {episodes.loss!r}.")
    xs, ys, xq = episodes.x_support, episodes.y_support, episodes.x_query
    t, s, q = xs.shape[0], xs.shape[1], xq.shape[1]
    ways = int(torch.cat([ys, episodes.y_query], 1).max()) + 1
    if transductive:
        z = batched_call(model, expand_params(parameters_of(model), t), torch.cat([xs, xq], 1))  # [T, S+Q, D]
        return -squared_distances(z[:, s:], prototypes(z[:, :s], ys, ways))
    batch = torch.cat([xs.unsqueeze(1).expand(t, q, *xs.shape[1:]), xq.unsqueeze(2)], 2)  # [T, Q, S+1, ...]
    z = batched_call(model, expand_params(parameters_of(model), t * q), batch.flatten(0, 1))  # [T·Q, S+1, D]
    protos = prototypes(z[:, :s], ys.repeat_interleave(q, 0), ways)  # [T·Q, N, D]
    return -squared_distances(z[:, s:], protos).view(t, q, ways)


def protonet_loss(model: ConvNet, episodes: Episodes) -> torch.Tensor:
    """The meta-training loss: mean over episodes of the query cross-entropy under softmax(−distance)."""
    return task_losses(protonet_logits(model, episodes), episodes.y_query, "ce").mean()


def protonet(
    model: ConvNet,
    source: TaskSource,
    *,
    steps: int,
    lr: float = 1e-3,
    meta_batch: int = 1,
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callback | None = None,
) -> History:
    """Meta-train a Prototypical Network: ``steps`` Adam steps (learning rate ``lr``) on ``protonet_loss``.

    ``source`` hands out episodes like the other methods' (``EpisodeSampler``), ``meta_batch``
    of them per step. ``model`` is f_φ (``embedding_net()``), trained in place by the loop every
    method shares: a NaN or infinite loss raises ``DivergenceError`` and leaves the model as it
    was before that step; Ctrl-C stops after the current step.
    """
    source = check_source(source)
    steps = check_int("steps", steps)
    lr = check_positive("lr", lr)
    meta_batch = check_int("n (meta_batch)", meta_batch)
    params = list(model.parameters())
    optimizer = torch.optim.Adam(params, lr=lr)
    hint = message("hint_lr", lr=lr)

    def one_step(s: int, episodes: Episodes) -> torch.Tensor:
        with torch.enable_grad():
            loss = protonet_loss(model, episodes)
            grads = list(torch.autograd.grad(loss, params))
        _commit(NAME, s + 1, loss.detach(), grads, hint, lambda: _optimizer_step(optimizer, params, grads))
        return loss.detach()

    return _run(NAME, model, source, steps, meta_batch, generator, progress, callback, one_step)


def evaluate_protonet(
    model: ConvNet,
    source: TaskSource | Episodes,
    *,
    num_tasks: int = 100,
    generator: torch.Generator | None = None,
    transductive: bool = True,
    chunk_size: int | None = None,
) -> Evaluation:
    """Query loss and accuracy of the nearest prototype on held-out episodes: an ``Evaluation``.

    ``source`` is ready ``Episodes`` or a task source (``num_tasks`` episodes are drawn). There
    is no adaptation, so ``loss`` and ``accuracy`` have one entry (after 0 steps);
    ``accuracy_interval()`` gives the mean and its 95 % half-width. ``chunk_size`` embeds that
    many episodes at a time, to bound memory; the numbers are the same.
    """
    device = next(model.parameters()).device
    if isinstance(source, Episodes):
        episodes = source.to(device)
    else:
        episodes = check_source(source).episodes(check_int("num_tasks", num_tasks), generator, device)
    size = episodes.num_tasks if chunk_size is None else check_int("chunk_size", chunk_size)
    losses, accs = [], []
    with torch.no_grad():
        for start in range(0, episodes.num_tasks, size):
            part = Episodes(*(getattr(episodes, f)[start : start + size] for f in _FIELDS), "ce")
            logits = protonet_logits(model, part, transductive=transductive)
            losses.append(task_losses(logits, part.y_query, "ce"))
            accs.append((logits.argmax(-1) == part.y_query).float().mean(1))
    loss, acc = torch.cat(losses), torch.cat(accs)
    return Evaluation(
        loss=[float(loss.mean())], accuracy=[float(acc.mean())], final_per_task=loss, accuracy_per_task=acc
    )


_FIELDS = ("x_support", "y_support", "x_query", "y_query")
