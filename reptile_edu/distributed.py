"""Reptile across processes and GPUs with ``torch.distributed``.

One outer step of Reptile on n tasks splits cleanly over W processes (ranks):

1. every rank draws the **same** meta-batch of n tasks (the same seeded generator on every rank)
   and keeps its own share, a contiguous slice ``shard(n, r, W)`` (sizes differ by at most one);
2. each rank adapts its tasks, batched as on one process: θ̃_t = k steps of SGD (η) from θ;
3. **one** ``all_reduce`` sums Σ_t (θ̃_t − θ) over all ranks (with the support loss after adaptation
   and a stop flag in the same buffer); dividing by n gives mean_t(θ̃_t − θ) over the whole meta-batch;
4. every rank applies the same outer step θ ← θ + ε·mean_t(θ̃_t − θ), so θ stays identical everywhere.

Because the tasks are drawn before they are split, a run on W processes sees exactly the tasks of a
one-process run with the same seed, and reaches the same θ up to floating-point rounding (a test
checks it with 2 gloo processes). With Adam as the outer optimizer that rounding is amplified where a
gradient is about 0 (Adam divides by √v̂), so there θ agrees only to about ε per step in float32.
Drawing the whole meta-batch on every rank costs a few random numbers per task, little next to k
inner steps.

The process group is the one ``torchrun`` sets up (environment variables ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``): the gloo backend on CPUs, NCCL on CUDA GPUs,
one GPU per process. Without ``torchrun`` there is one process and no group at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ._checks import check_int
from .episodes import Episodes
from .inner import InnerLoop
from .messages import message
from .meta import adapt_meta_batch
from .models import Params
from .runtime import pick_device


@dataclass(frozen=True)
class Workers:
    """Where this process sits: rank r of W processes, its device, and the backend (``None``: no group)."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the checkpoints, the metrics log and the progress bar."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    """True when ``torchrun`` (or another launcher) set ``WORLD_SIZE`` and ``RANK`` for this process."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def start(device: str | None = None) -> Workers:
    """Join the process group ``torchrun`` prepared, or run as one process when it did not.

    ``device`` is ``None``/``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``; under ``torchrun``
    each process takes the GPU ``cuda:LOCAL_RANK``. The backend is NCCL on CUDA, gloo on CPU.
    """
    prefer = None if device in (None, "auto") else device
    if not launched_by_torchrun():
        return Workers(device=pick_device(prefer))
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    dev = pick_device(prefer)
    if dev.type == "cuda":
        if prefer not in (None, "cuda"):
            raise ValueError(message("torchrun_device_index", device=device))
        if local >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise ValueError(message("torchrun_too_few_gpus", rank=rank, local=local, count=count))
        dev = torch.device("cuda", local)
        torch.cuda.set_device(dev)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world)
    return Workers(rank, world, dev, backend)


def stop(workers: Workers) -> None:
    """Leave the process group (if this process is in one)."""
    if workers.backend is not None and dist.is_initialized():
        dist.destroy_process_group()


def barrier(workers: Workers) -> None:
    """Wait until every rank gets here (nothing to wait for on one process)."""
    if workers.backend is not None:
        dist.barrier()


def shard(num_tasks: int, rank: int, world_size: int) -> slice:
    """Rank r's share of a meta-batch of n tasks: a contiguous slice; the first n mod W ranks get one more.

    >>> [shard(10, r, 3) for r in range(3)]
    [slice(0, 4, None), slice(4, 7, None), slice(7, 10, None)]
    """
    check_int("rank", rank, low=0, high=world_size - 1)
    if num_tasks < world_size:
        raise ValueError(message("shard_too_few_tasks", n=num_tasks, processes=world_size))
    size, extra = divmod(num_tasks, world_size)
    begin = rank * size + min(rank, extra)
    return slice(begin, begin + size + (rank < extra))


def _take(episodes: Episodes, sl: slice, device: torch.device) -> Episodes:
    ep = episodes
    return Episodes(ep.x_support[sl], ep.y_support[sl], ep.x_query[sl], ep.y_query[sl], ep.loss).to(device)


@dataclass
class MetaStep:
    """What one distributed outer step agreed on: mean_t(θ̃_t − θ) over all n tasks, the mean support loss
    after adaptation (at θ̃), and whether any rank asked to stop after this step. ``finite`` is False when
    an adapted θ̃ or its loss became NaN or infinite (training diverged); every rank sees the same."""

    mean_delta: Params
    loss: float
    stop: bool
    finite: bool


def reptile_delta(
    model: nn.Module, episodes: Episodes, workers: Workers, inner: InnerLoop, *, stop: bool = False
) -> MetaStep:
    """mean_t(θ̃_t − θ) over the whole meta-batch, this rank adapting only its shard of ``episodes``.

    ``episodes`` is the whole meta-batch of n tasks, the same on every rank. This rank adapts its
    tasks ``shard(n, rank, W)`` from the model's θ with the ``inner`` loop, batched, exactly as
    ``reptile_step`` does on one process (``adapt_meta_batch``); then one ``all_reduce`` sums
    Σ_t (θ̃_t − θ), Σ_t L_t(θ̃_t) and the ranks' ``stop`` flags, so every rank gets the same mean and
    agrees on ``finite`` and ``stop``. On one process the mean is ``reptile_outer_step``'s own, to the bit.
    """
    n = episodes.num_tasks
    mine = _take(episodes, shard(n, workers.rank, workers.world_size), workers.device)
    theta, theta_tilde, loss = adapt_meta_batch(model, mine, inner)
    with torch.no_grad():
        if workers.backend is None:  # one process, no message: the mean as reptile_outer_step takes it
            mean_delta = {name: (theta_tilde[name] - theta[name]).mean(0) for name in theta}
            values = [loss.view(1)] + [d.flatten() for d in mean_delta.values()]
            return MetaStep(mean_delta, float(loss), stop, bool(torch.isfinite(torch.cat(values)).all()))
        parts = [(theta_tilde[name] - theta[name]).sum(0).flatten() for name in theta]
        flags = torch.tensor([float(stop)], device=workers.device)
        buffer = torch.cat([*parts, (loss * mine.num_tasks).view(1), flags])
    dist.all_reduce(buffer)  # Σ over ranks, the one message of the step
    total, loss_sum, stops = buffer[:-2], buffer[-2], buffer[-1]
    mean_delta, offset = {}, 0
    for name, p in theta.items():
        mean_delta[name] = (total[offset : offset + p.numel()] / n).view_as(p)
        offset += p.numel()
    return MetaStep(mean_delta, float(loss_sum) / n, bool(stops > 0), bool(torch.isfinite(buffer[:-1]).all()))


def outer_step(model: nn.Module, optimizer: torch.optim.Optimizer | None, mean_delta: Params, epsilon: float) -> None:
    """The outer step, the same on every rank. Without an optimizer it is Reptile's own update,
    θ ← θ + ε·mean_t(θ̃_t − θ), computed as ``reptile_outer_step`` computes it; with one (Adam, the
    variant the Reptile paper mentions) it is the optimizer's step on the gradient θ − mean_t θ̃_t with
    learning rate ε.
    """
    if optimizer is None:
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(p + epsilon * mean_delta[name])
        return
    for group in optimizer.param_groups:
        group["lr"] = epsilon
    for name, p in model.named_parameters():
        p.grad = -mean_delta[name]
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
