"""Checkpoints of a meta-training run: everything needed to go on exactly where it stopped.

A checkpoint holds θ (the model's ``state_dict``), the outer optimizer's state (Adam's), the number of outer
steps done, the state of the generator that draws the tasks, the random states of torch (CPU and
CUDA), Python and NumPy, the run's settings, and the training time so far. Resuming from it and
running to the end gives the same θ as a run that was never stopped (a test checks it).

The file is written to a temporary name and then renamed over the old one, so a run killed while
writing leaves the previous checkpoint intact. It is read with ``torch.load(weights_only=True)``:
tensors and plain Python values only, never arbitrary code.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .messages import message

FILE_NAME = "checkpoint.pt"
FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used (corrupt, truncated, or from another format)."""


@dataclass
class Checkpoint:
    """What ``load`` returns: ``step`` outer steps done, ``config`` (the run's fields), ``model`` (θ),
    ``optimizer`` state, ``generator`` state (the task draws), ``rng`` (global random states), ``elapsed`` s."""

    step: int
    config: dict[str, object]
    model: dict[str, torch.Tensor]
    optimizer: dict[str, object]
    generator: torch.Tensor
    rng: dict[str, object]
    elapsed: float
    path: Path


def path_in(folder: str | os.PathLike[str]) -> Path:
    """Where the checkpoint of a run folder lives."""
    return Path(folder) / FILE_NAME


def rng_states() -> dict[str, object]:
    """The global random states: torch's CPU generator, each CUDA device's, Python's and NumPy's."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "python": [version, list(internal), gauss],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached],
    }


def set_rng_states(states: dict[str, object]) -> None:
    """Put back what ``rng_states`` returned (CUDA states only where the same devices exist)."""
    torch.set_rng_state(states["torch"])  # type: ignore[arg-type]
    cuda = states.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():  # type: ignore[arg-type]
        torch.cuda.set_rng_state_all(cuda)  # type: ignore[arg-type]
    version, internal, gauss = states["python"]  # type: ignore[misc]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]  # type: ignore[misc]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))


def save(
    folder: str | os.PathLike[str],
    *,
    step: int,
    config: dict[str, object],
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer | None,
    generator: torch.Generator,
    elapsed: float,
) -> Path:
    """Write the checkpoint of a run after ``step`` outer steps (atomically: write, then rename)."""
    target = path_in(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": FORMAT,
        "step": step,
        "config": config,
        "model": {name: t.detach().cpu() for name, t in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else {},
        "generator": generator.get_state(),
        "rng": rng_states(),
        "elapsed": elapsed,
    }
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load(folder: str | os.PathLike[str]) -> Checkpoint | None:
    """The checkpoint in ``folder`` (tensors on the CPU), or ``None`` when there is none yet.

    A damaged file raises ``CheckpointError``."""
    path = path_in(folder)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise ValueError(f"not a reptile-edu checkpoint of format {FORMAT}")
        return Checkpoint(
            step=int(state["step"]),
            config=dict(state["config"]),
            model=state["model"],
            optimizer=state["optimizer"],
            generator=state["generator"],
            rng=state["rng"],
            elapsed=float(state["elapsed"]),
            path=path,
        )
    except Exception as err:  # noqa: BLE001 - whatever torch.load raises, the file is unusable
        raise CheckpointError(message("checkpoint_damaged", path=path, kind=type(err).__name__)) from None
