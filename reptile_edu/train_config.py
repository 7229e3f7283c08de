"""The settings of a meta-training run (``python -m reptile_edu.train``): fields, defaults, checks, files.

A run is defined by a flat set of fields (below). They come from three places, later ones winning:
the defaults of the task family, a config file (TOML or JSON, same field names), and command-line
flags. A field that is missing, of the wrong type or outside its range raises ``ConfigError``,
which names the field and its allowed range (in the language of ``set_language()``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ._checks import check_choice, check_int, check_positive
from .inner import INNER_OPTIMIZERS
from .messages import argument, message
from .methods import OUTER_OPTIMIZERS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

FAMILIES = ("sine", "characters")
MODELS = ("mlp-maml", "mlp-reptile", "convnet")
SINE_PRESETS = ("maml", "reptile")


class ConfigError(ValueError):
    """A bad setting: ``field`` names it, the message says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a meta-training run. Fields that do not apply to the family are ``None``.

    Tasks: ``family`` (``"sine"`` or ``"characters"``, the built-in alphabets); for sine, ``preset``
    (``"maml"``/``"reptile"``) and ``shots`` K support points per task; for characters, ``ways`` N,
    ``shots`` K per class, ``queries`` per class and ``rotations``. ``model``: ``"mlp-maml"`` (1-40-40-1
    ReLU), ``"mlp-reptile"`` (1-64-64-1 tanh) or ``"convnet"``.
    Reptile: ``k`` inner steps, ``eta`` η, ``epsilon`` ε (annealed linearly to 0 with ``anneal``),
    ``meta_batch`` n tasks per meta-batch, ``batch_size`` support points per inner step (``None``: all),
    ``inner_optimizer`` and ``outer_optimizer`` (``"sgd"``: θ ← θ + ε·mean(θ̃ − θ); ``"adam"``).
    Run: ``steps`` outer steps, ``device`` (``"auto"``, ``"cpu"``, ``"cuda"``), ``seed``;
    ``checkpoint_dir`` and ``checkpoint_every``; ``log_every`` (metrics log), ``eval_every`` (0: never)
    on ``eval_tasks`` held-out tasks with ``eval_shots`` shots; ``tensorboard`` (when installed).
    """

    family: str
    preset: str | None
    ways: int | None
    shots: int
    queries: int
    rotations: bool | None
    model: str
    k: int
    eta: float
    epsilon: float
    anneal: bool
    meta_batch: int
    batch_size: int | None
    inner_optimizer: str
    outer_optimizer: str
    steps: int
    device: str
    seed: int
    checkpoint_dir: str
    checkpoint_every: int
    log_every: int
    eval_every: int
    eval_tasks: int
    eval_shots: int
    tensorboard: bool

    def as_dict(self) -> dict[str, object]:
        """The fields as a plain dict (for JSON, the checkpoint, the metrics log)."""
        return asdict(self)

    def to_toml(self) -> str:
        """The settings as a TOML config file (fields that are ``None`` are left out)."""
        lines = []
        for name, value in self.as_dict().items():
            if value is None:
                continue
            text = json.dumps(value) if isinstance(value, (bool, str)) else repr(value)
            lines.append(f"{name} = {text}")
        return "\n".join(lines) + "\n"


#: What each field means, for ``--help`` and for error messages.
HELP: dict[str, str] = {
    "family": "task family: " + " or ".join(FAMILIES),
    "preset": "sine preset: maml (φ ∈ [0, π]) or reptile (φ ∈ [0, 2π])",
    "ways": "characters: N classes per task (N-way)",
    "shots": "K: support points per sine task, or examples per class",
    "queries": "query points per sine task, or query examples per class",
    "rotations": "characters: add the 90°/180°/270° rotations of each class as new classes",
    "model": "network: " + ", ".join(MODELS),
    "k": "k inner steps",
    "eta": "η inner learning rate",
    "epsilon": "ε meta step size (the outer learning rate)",
    "anneal": "lower ε linearly to 0 over the run",
    "meta_batch": "n: tasks per meta-batch (split over the processes)",
    "batch_size": "support points per inner step (default: all)",
    "inner_optimizer": "inner steps: sgd or adam (β1 = 0)",
    "outer_optimizer": "outer step: sgd (θ ← θ + ε·mean(θ̃ − θ)) or adam (on θ − θ̃)",
    "steps": "outer steps in all",
    "device": "auto, cpu or cuda (under torchrun: one GPU per process)",
    "seed": "seed of the initial θ and of the task draws",
    "checkpoint_dir": "folder for the checkpoint and the metrics log; a run resumes from it",
    "checkpoint_every": "outer steps between checkpoints",
    "log_every": "outer steps between lines of the metrics log",
    "eval_every": "outer steps between evaluations on held-out tasks (0: none)",
    "eval_tasks": "held-out tasks per evaluation",
    "eval_shots": "K for the held-out tasks",
    "tensorboard": "also write TensorBoard logs (when tensorboard is installed)",
}

#: The defaults of each task family: the sine lessons' Reptile (lesson 04) and lesson 06's few-shot recipe.
FAMILY_DEFAULTS: dict[str, dict[str, object]] = {
    "sine": {
        "preset": "reptile",
        "shots": 10,
        "queries": 10,
        "k": 5,
        "eta": 0.02,
        "epsilon": 0.1,
        "anneal": False,
        "meta_batch": 10,
        "batch_size": None,
        "steps": 3000,
        "eval_every": 500,
    },
    "characters": {
        "ways": 5,
        "shots": 10,
        "queries": 1,
        "rotations": True,
        "model": "convnet",
        "k": 5,
        "eta": 0.1,
        "epsilon": 1.0,
        "anneal": True,
        "meta_batch": 5,
        "batch_size": 10,
        "steps": 400,
        "eval_every": 100,
        "eval_shots": 1,
    },
}

COMMON_DEFAULTS: dict[str, object] = {
    "inner_optimizer": "sgd",
    "outer_optimizer": "sgd",
    "device": "auto",
    "seed": 0,
    "checkpoint_dir": "runs/reptile",
    "checkpoint_every": 100,
    "log_every": 10,
    "eval_tasks": 100,
    "tensorboard": True,
}

#: Fields only one family uses.
ONLY_FOR = {"preset": "sine", "ways": "characters", "rotations": "characters"}

#: Fields that decide θ's trajectory: a run resumes only with the same values (``steps`` too when annealing).
RUN_FIELDS = (
    "family",
    "preset",
    "ways",
    "shots",
    "queries",
    "rotations",
    "model",
    "k",
    "eta",
    "epsilon",
    "anneal",
    "meta_batch",
    "batch_size",
    "inner_optimizer",
    "outer_optimizer",
    "seed",
)

FIELD_NAMES = tuple(f.name for f in fields(TrainConfig))


def read_config_file(path: str | Path) -> dict[str, object]:
    """The fields in a ``.toml`` or ``.json`` config file (a flat table of ``field = value``)."""
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise ConfigError("config", message("config_file_suffix", path=path))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError("config", message("config_file_unreadable", path=path, reason=err.strerror or err)) from None
    try:
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        kind = path.suffix[1:].upper()
        raise ConfigError("config", message("config_file_invalid", path=path, kind=kind, reason=err)) from None
    if not isinstance(values, dict):
        raise ConfigError("config", message("config_file_table", path=path))
    return values


def make_config(values: Mapping[str, object]) -> TrainConfig:
    """A checked ``TrainConfig`` from field values (missing ones take the family's defaults)."""
    for name in values:
        if name not in FIELD_NAMES:
            raise ConfigError(name, message("config_unknown_field", name=name, fields=", ".join(FIELD_NAMES)))
    family = _check("family", lambda v: check_choice("family", v, FAMILIES), values.get("family", "sine"))
    given = {name: value for name, value in values.items() if value is not None}
    for name, only in ONLY_FOR.items():
        if name in given and only != family:
            raise ConfigError(name, message("config_only_for", name=name, only=only, family=family))
    merged: dict[str, object] = dict.fromkeys(FIELD_NAMES)
    merged.update(COMMON_DEFAULTS)
    merged.update(FAMILY_DEFAULTS[family])
    merged.update(given)
    merged["family"] = family
    if merged["model"] is None:  # sine: the MLP of the preset's paper
        merged["model"] = f"mlp-{merged['preset']}"
    if merged["eval_shots"] is None:
        merged["eval_shots"] = merged["shots"]
    return TrainConfig(**{name: _check_field(name, merged[name], merged) for name in FIELD_NAMES})


def _check(name: str, check: Callable[[object], object], value: object) -> object:
    try:
        return check(value)
    except (TypeError, ValueError) as err:
        raise ConfigError(name, str(err)) from None


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(message("config_bool", name=argument(name), value=value))
    return value


def _check_device(value: object) -> str:
    if not isinstance(value, str) or not (value in ("auto", "cpu", "cuda") or value.startswith("cuda:")):
        raise ValueError(message("config_device", value=value))
    return value


def _check_field(name: str, value: object, run: Mapping[str, object]) -> object:
    """One field's value, checked against its range (``run`` gives the other fields, for ranges that depend on them)."""
    if value is None and name in ("preset", "ways", "rotations", "batch_size"):
        return None
    label = {
        "eta": "eta (η)",
        "epsilon": "epsilon (ε)",
        "meta_batch": "meta_batch (n, tasks per meta-batch)",
        "k": "k (inner steps)",
    }
    label = label.get(name, name)
    family = run["family"]
    checks = {
        "preset": lambda v: check_choice(label, v, SINE_PRESETS),
        "ways": lambda v: check_int(label, v, low=2),
        "shots": lambda v: check_int(label, v),
        "queries": lambda v: check_int(label, v),
        "rotations": lambda v: _check_bool(label, v),
        "model": lambda v: check_choice(
            label, v, ("convnet",) if family == "characters" else ("mlp-maml", "mlp-reptile")
        ),
        "k": lambda v: check_int(label, v),
        "eta": lambda v: check_positive(label, v),
        "epsilon": lambda v: check_positive(label, v, high=1.0),
        "anneal": lambda v: _check_bool(label, v),
        "meta_batch": lambda v: check_int(label, v),
        "batch_size": lambda v: _check_batch_size(label, v, run["shots"], run["ways"]),
        "inner_optimizer": lambda v: check_choice(label, v, INNER_OPTIMIZERS),
        "outer_optimizer": lambda v: check_choice(label, v, OUTER_OPTIMIZERS),
        "steps": lambda v: check_int(label, v),
        "device": _check_device,
        "seed": lambda v: check_int(label, v, low=0, high=2**63 - 1),
        "checkpoint_dir": lambda v: _check_folder(label, v),
        "checkpoint_every": lambda v: check_int(label, v),
        "log_every": lambda v: check_int(label, v),
        "eval_every": lambda v: check_int(label, v, low=0),
        "eval_tasks": lambda v: check_int(label, v),
        "eval_shots": lambda v: check_int(label, v),
        "tensorboard": lambda v: _check_bool(label, v),
        "family": lambda v: v,
    }
    return _check(name, checks[name], value)


def _check_batch_size(name: str, value: object, shots: object, ways: object) -> int:
    """Support points per inner step: between 1 and the support set's size, dividing it."""
    support = int(shots) * (int(ways) if ways is not None else 1)  # type: ignore[call-overload]
    size = check_int(name, value, low=1, high=support)
    if support % size:
        raise ValueError(message("config_batch_divides", name=argument(name), support=support, size=size))
    return size


def _check_folder(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(message("config_folder", name=argument(name), value=value))
    return value


def differences(saved: Mapping[str, object], config: TrainConfig) -> list[str]:
    """The run-defining fields where ``config`` differs from a checkpoint's ``saved`` settings."""
    now = config.as_dict()
    names = RUN_FIELDS + (("steps",) if config.anneal else ())
    return [name for name in names if saved.get(name) != now[name]]
