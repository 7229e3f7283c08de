"""Meta-train with Reptile from the command line, on one process or many: ``python -m reptile_edu.train``.

::

    python -m reptile_edu.train --family sine --k 5 --eta 0.02 --epsilon 0.1 --n 10 --steps 3000
    python -m reptile_edu.train --config my_run.toml          # the same fields in a TOML or JSON file
    torchrun --nproc-per-node 2 -m reptile_edu.train --config my_run.toml   # 2 processes (gloo or NCCL)

Each outer step draws n tasks, adapts them (split over the processes, see ``reptile_edu.distributed``)
and moves θ ← θ + ε·mean_t(θ̃_t − θ). The run writes into its checkpoint folder:

* ``checkpoint.pt``, every ``checkpoint_every`` steps and at the end (``reptile_edu.checkpoint``).
  Running the same command again **resumes** from it; seeded, the resumed run reaches the same θ as
  one that was never stopped. Ctrl-C finishes the current step, saves and stops. ``--restart`` starts over;
* ``metrics.jsonl``, one JSON object per line: the step, the support loss after adaptation, ε, tasks
  seen, ``time`` (wall-clock seconds of training, over all resumes) and ``cpu`` (CPU seconds of this
  process, rank 0, since it started), and the held-out evaluations;
* ``tensorboard/``, the same numbers for TensorBoard, when the ``tensorboard`` package is installed.

``load_trained(folder)`` gives back the meta-trained model, e.g. in a notebook.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm.auto import tqdm

from . import checkpoint as ckpt
from . import distributed
from .alphabets import builtin_alphabets
from .episodes import Episodes
from .evaluation import evaluate
from .i18n import LANG_ENV, set_language, tr
from .inner import InnerLoop
from .messages import argument, message
from .methods import DivergenceError
from .models import MLP, ConvNet
from .runtime import seed_everything
from .sampler import EpisodeSampler
from .schedules import as_schedule
from .sine import SineFamily
from .train_config import FIELD_NAMES, HELP, ConfigError, TrainConfig, differences, make_config, read_config_file

#: Held-out tasks are drawn from their own generator, seeded ``seed + EVAL_SEED_OFFSET``.
EVAL_SEED_OFFSET = 1_000_003
#: Query points per held-out sine task.
EVAL_SINE_QUERIES = 100

Callback = Callable[[int, float], "bool | None"]


# ---------------------------------------------------------------------------
# What a run is made of


@dataclass
class Tasks:
    """The meta-training task source and the held-out episodes evaluations use (``None``: no evaluation)."""

    source: SineFamily | EpisodeSampler
    held_out: Episodes | None


def build_tasks(config: TrainConfig, workers: distributed.Workers | None = None) -> Tasks:
    """The task family of ``config``: sine tasks, or episodes of the built-in alphabets (meta-train split;
    held-out episodes from the meta-test alphabets)."""
    eval_gen = torch.Generator().manual_seed(config.seed + EVAL_SEED_OFFSET)
    if config.family == "sine":
        source = SineFamily(config.preset, shots=config.shots, queries=config.queries)
        held = SineFamily(config.preset, shots=config.eval_shots, queries=EVAL_SINE_QUERIES)
        held_out = held.episodes(config.eval_tasks, eval_gen) if config.eval_every else None
        return Tasks(source, held_out)
    workers = workers or distributed.Workers()
    if not workers.is_main:  # rank 0 generates the cache first, the others then read it
        distributed.barrier(workers)
    chars = builtin_alphabets("all")
    if workers.is_main:
        distributed.barrier(workers)
    try:
        ways, queries = config.ways, config.queries
        source = EpisodeSampler(
            chars.split("train"), ways=ways, shots=config.shots, queries=queries, rotations=config.rotations
        )
        test = EpisodeSampler(chars.split("test"), ways=ways, shots=config.eval_shots, queries=queries)
    except (TypeError, ValueError) as err:
        field = next((f for f in ("ways", "queries", "shots") if str(err).startswith(f)), "eval_shots")
        raise ConfigError(field, str(err)) from None
    return Tasks(source, test.episodes(config.eval_tasks, eval_gen) if config.eval_every else None)


def build_model(config: TrainConfig) -> nn.Module:
    """A fresh network for ``config.model`` (its initial θ comes from torch's global random state)."""
    if config.model == "convnet":
        return ConvNet(config.ways)
    return MLP.preset(config.model.removeprefix("mlp-"))


def build_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer | None:
    """The outer optimizer: none for ``"sgd"`` (Reptile's own θ ← θ + ε·mean(θ̃ − θ)), or Adam with
    learning rate ε on the gradient θ − mean θ̃ for ``"adam"`` (its moments go into the checkpoint)."""
    return torch.optim.Adam(model.parameters(), lr=config.epsilon) if config.outer_optimizer == "adam" else None


# ---------------------------------------------------------------------------
# Logging


class MetricsLog:
    """``metrics.jsonl`` (one JSON object per line) and, when installed, TensorBoard scalars.

    On resume from step s, lines after s (written by the run that was stopped) are dropped first,
    so the log reads as one run.
    """

    def __init__(self, folder: Path, resume_step: int, tensorboard: bool) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "metrics.jsonl"
        kept = []
        if resume_step and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    if json.loads(line)["step"] <= resume_step:
                        kept.append(line + "\n")
        self.path.write_text("".join(kept), encoding="utf-8")
        self.file = self.path.open("a", encoding="utf-8")
        self.board = None
        self.board_note = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.board_note = tr("train_no_tensorboard")
            else:
                self.board = SummaryWriter(str(folder / "tensorboard"), purge_step=resume_step + 1)
                self.board_note = tr("train_tensorboard", folder=folder / "tensorboard")

    def write(self, record: dict[str, object]) -> None:
        """Append one record (it must have ``step``)."""
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        if self.board is not None:
            for key, value in record.items():
                if key != "step" and isinstance(value, (int, float)):
                    self.board.add_scalar(key, value, record["step"])  # type: ignore[arg-type]

    def close(self) -> None:
        self.file.close()
        if self.board is not None:
            self.board.close()


@contextlib.contextmanager
def _stop_requests() -> Iterator[Callable[[], bool]]:
    """While training, Ctrl-C (SIGINT) or SIGTERM asks to stop after the current step.

    Another Ctrl-C a second or more later stops at once. (One Ctrl-C in a terminal reaches torchrun and
    its workers, and torchrun passes it on again at once: that copy is not a second request.)
    """
    asked: list[float] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return

    def handler(signum: int, frame: object) -> None:
        if asked and signum == signal.SIGINT and time.monotonic() - asked[0] >= 1.0:
            raise KeyboardInterrupt
        asked.append(time.monotonic())

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(asked)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


# ---------------------------------------------------------------------------
# The run


@dataclass
class TrainResult:
    """The meta-trained ``model`` (θ), the outer steps done, why it ``stopped`` early (``"signal"``,
    ``"callback"`` or ``None``), the last mean support loss after adaptation, and the run folder."""

    model: nn.Module
    step: int
    stopped: str | None
    loss: float | None
    folder: Path


def train(
    config: TrainConfig,
    *,
    restart: bool = False,
    progress: bool = True,
    callback: Callback | None = None,
    echo: Callable[[str], None] = print,
) -> TrainResult:
    """Meta-train with Reptile as ``config`` says, resuming from ``config.checkpoint_dir`` when it holds a checkpoint.

    Under ``torchrun`` the processes share each meta-batch (gloo on CPU, NCCL on GPUs); otherwise one
    process does it all. ``restart=True`` ignores an existing checkpoint. ``callback(step, loss)`` is
    called after every outer step (on every process, with the same values); returning ``False``
    saves a checkpoint and stops. ``echo`` prints the run's messages (rank 0 only).
    """
    try:
        workers = distributed.start(config.device)
    except ValueError as err:
        raise ConfigError("device", str(err)) from None
    try:
        return _train(config, workers, restart, progress, callback, echo if workers.is_main else lambda _: None)
    finally:
        distributed.stop(workers)


def _train(
    config: TrainConfig,
    workers: distributed.Workers,
    restart: bool,
    progress: bool,
    callback: Callback | None,
    echo: Callable[[str], None],
) -> TrainResult:
    folder = Path(config.checkpoint_dir)
    if config.meta_batch < workers.world_size:
        name = argument("meta_batch (n, tasks per meta-batch)")
        raise ConfigError(
            "meta_batch",
            message("config_meta_batch_processes", name=name, processes=workers.world_size, n=config.meta_batch),
        )
    tasks = build_tasks(config, workers)
    generator = seed_everything(config.seed)  # the same initial θ and task draws on every rank
    model = build_model(config).to(workers.device)
    optimizer = build_optimizer(config, model)
    inner = InnerLoop(config.k, config.eta, config.batch_size, config.inner_optimizer)
    schedule = as_schedule(config.epsilon, anneal=config.anneal)  # ε, or ε lowered linearly to 0
    saved = None if restart else ckpt.load(folder)
    start, elapsed = _resume(saved, config, model, optimizer, generator) if saved else (0, 0.0)

    echo(_describe(config, workers))
    metrics = folder / "metrics.jsonl"
    echo(tr("train_files", checkpoint=ckpt.path_in(folder), every=config.checkpoint_every, metrics=metrics))
    if saved is not None:
        echo(tr("train_resuming", step=start, steps=config.steps))
    log = MetricsLog(folder, start, config.tensorboard) if workers.is_main else None
    if log is not None and log.board_note:
        echo(log.board_note)
    bar = tqdm(total=config.steps, initial=start, desc="Reptile", unit="step", disable=not progress or log is None)
    began, cpu_began = time.perf_counter() - elapsed, time.process_time()
    step, loss, stopped, last_eval = start, None, None, None
    hint = message("hint_reptile", eta=config.eta, epsilon=config.epsilon)
    try:
        with _stop_requests() as requested:
            for s in range(start, config.steps):
                episodes = tasks.source.episodes(config.meta_batch, generator, "cpu")  # all n tasks, on every rank
                result = distributed.reptile_delta(model, episodes, workers, inner, stop=requested())
                if not result.finite:
                    raise DivergenceError("Reptile", s + 1, result.loss, hint)
                epsilon = schedule(s, config.steps)
                distributed.outer_step(model, optimizer, result.mean_delta, epsilon)
                step, loss = s + 1, result.loss
                if result.stop:
                    stopped = "signal"
                elif callback is not None and callback(step, loss) is False:
                    stopped = "callback"
                bar.update(1)
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
                last = step == config.steps
                if log is not None and (step % config.log_every == 0 or last):  # rank 0 logs and saves
                    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu_began
                    tasks_seen = step * config.meta_batch
                    log.write({"step": step, "loss": loss, "epsilon": epsilon, "tasks": tasks_seen, "time": seconds,
                               "cpu": cpu})  # fmt: skip
                if log is not None and tasks.held_out is not None and (step % config.eval_every == 0 or last):
                    last_eval = _evaluation(model, tasks.held_out, config)
                    log.write({"step": step, **last_eval})
                if log is not None and (step % config.checkpoint_every == 0 or last or stopped):
                    seconds = time.perf_counter() - began
                    ckpt.save(folder, step=step, config=config.as_dict(), model=model, optimizer=optimizer,
                              generator=generator, elapsed=seconds)  # fmt: skip
                if stopped:
                    break
    finally:
        bar.close()
        if log is not None:
            log.close()
    if stopped:
        echo(tr("train_stopped", step=step))
    elif step == start:
        echo(tr("train_nothing_to_do", step=step, steps=config.steps))
    else:
        rate = (step - start) / max(time.perf_counter() - began - elapsed, 1e-9)
        echo(tr("train_done", step=step, rate=rate, checkpoint=ckpt.path_in(folder)))
        if last_eval is not None:
            values = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in last_eval.items())
            echo(tr("train_held_out", values=values))
    return TrainResult(model, step, stopped, loss, folder)


def _resume(
    saved: ckpt.Checkpoint,
    config: TrainConfig,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    generator: torch.Generator,
) -> tuple[int, float]:
    """Put back θ, the optimizer, the task generator and the random states; return the step and the time so far."""
    changed = differences(saved.config, config)
    if changed:
        was = ", ".join(f"{name}={saved.config.get(name)!r}" for name in changed)
        now = ", ".join(f"{name}={getattr(config, name)!r}" for name in changed)
        folder = config.checkpoint_dir
        raise ConfigError(changed[0], message("config_resume_differs", folder=folder, was=was, now=now))
    if saved.step > config.steps:
        raise ConfigError("steps", message("config_steps_behind", step=saved.step, folder=config.checkpoint_dir))
    model.load_state_dict(saved.model)
    if optimizer is not None:
        optimizer.load_state_dict(saved.optimizer)
    generator.set_state(saved.generator)
    ckpt.set_rng_states(saved.rng)
    return saved.step, saved.elapsed


def _describe(config: TrainConfig, workers: distributed.Workers) -> str:
    """The run's first line: the tasks, the model, k, η, ε, n, the steps, the processes and the device."""
    if config.family == "sine":
        what = tr("train_sine_tasks", preset=config.preset, shots=config.shots)
    else:
        what = tr("train_characters", ways=config.ways, shots=config.shots)
    n = workers.world_size
    where = tr("train_processes", n=n, backend=workers.backend) if workers.backend else tr("train_one_process")
    return tr(
        "train_start",
        what=what,
        model=config.model,
        k=config.k,
        eta=config.eta,
        epsilon=config.epsilon,
        annealed=" → 0" if config.anneal else "",
        n=config.meta_batch,
        steps=config.steps,
        where=where,
        device=workers.device,
    )


def _evaluation(model: nn.Module, held_out: Episodes, config: TrainConfig) -> dict[str, object]:
    """Query loss on the held-out tasks before and after k adaptation steps (mean and median over tasks, the
    number of tasks that diverged while adapting) and the accuracy; if most of them diverge, what went wrong."""
    try:
        ev = evaluate(
            model, held_out, k=config.k, eta=config.eta, inner_optimizer=config.inner_optimizer, chunk_size=50
        )
    except DivergenceError as err:  # the evaluation's adaptation diverged: say so, training goes on
        return {"eval_error": str(err)}
    out: dict[str, object] = {
        "eval_loss_before": ev.loss[0],
        "eval_loss": ev.final,
        "eval_loss_median": ev.median[-1],
        "eval_diverged_tasks": ev.diverged,
    }
    if ev.accuracy is not None:
        out["eval_accuracy"] = ev.accuracy[-1]
    return out


def load_trained(folder: str | Path, device: torch.device | str = "cpu") -> nn.Module:
    """The meta-trained model (θ) from a run folder's checkpoint, on ``device``."""
    saved = ckpt.load(folder)
    if saved is None:
        raise FileNotFoundError(message("checkpoint_missing", folder=folder))
    model = build_model(make_config(saved.config))
    model.load_state_dict(saved.model)
    return model.to(device)


# ---------------------------------------------------------------------------
# The command


def build_parser() -> argparse.ArgumentParser:
    """The command's options: ``--config FILE``, one flag per field (``--eta 0.02``), and run controls."""
    parser = argparse.ArgumentParser(
        prog="python -m reptile_edu.train",
        description="Meta-train with Reptile, on one process or several (torchrun), with checkpoints.",
        epilog="Flags override the config file; missing fields take the task family's defaults "
        "(--print-config shows them). Run the same command again to resume from the checkpoint.",
    )
    parser.add_argument("--config", metavar="FILE", help="a .toml or .json file of field = value pairs")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint and start over")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--print-config", action="store_true", help="print the resolved settings as TOML and exit")
    kinds = {name: str(kind) for name, kind in TrainConfig.__annotations__.items()}
    for name in FIELD_NAMES:
        flag = "--" + name.replace("_", "-")
        kind = kinds[name]
        if "bool" in kind:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=HELP[name])
        else:
            convert = int if "int" in kind else float if "float" in kind else str
            parser.add_argument(flag, dest=name, type=convert, default=None, help=HELP[name])
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (0 done, 1 failed, 2 bad settings)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if os.environ.get(LANG_ENV):  # the command's messages in Turkish or Chinese: REPTILE_EDU_LANG=tr or zh
        try:
            set_language(os.environ[LANG_ENV])
        except ValueError as err:
            parser.exit(2, f"{parser.prog}: {LANG_ENV}: {err}\n")
    flags = {name: getattr(args, name) for name in FIELD_NAMES if getattr(args, name) is not None}
    try:
        from_file = read_config_file(args.config) if args.config else {}
        config = make_config({**from_file, **flags})
    except ConfigError as err:
        where = f"--{err.field.replace('_', '-')}" if err.field in flags else (args.config or "config")
        parser.exit(2, f"{parser.prog}: {message('train_bad_setting', where=where, error=err)}\n")
    if args.print_config:
        print(config.to_toml(), end="")
        return 0
    try:
        train(config, restart=args.restart, progress=not args.no_progress)
    except ConfigError as err:
        parser.exit(2, f"{parser.prog}: {message('train_bad_setting', where=err.field, error=err)}\n")
    except (ckpt.CheckpointError, DivergenceError) as err:
        print(f"{parser.prog}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog}: {message('train_stopped_at_once')}", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
