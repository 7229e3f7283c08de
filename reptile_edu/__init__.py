"""reptile-edu: meta-learning from SGD through MAML to Reptile, for the course notebooks.

Symbols used throughout: k inner steps, η inner learning rate, ε meta step size,
θ the meta-learned initialisation, θ̃ the parameters after adapting to one task,
n tasks per meta-batch.
"""

from .algorithms import (
    METHODS,
    DivergenceError,
    Evaluation,
    History,
    adapt,
    evaluate,
    fomaml,
    joint,
    joint_loss,
    maml,
    maml_meta_gradient,
    reptile,
    reptile_outer_step,
    reptile_step,
    task_losses,
)
from .data import CharacterSet, builtin_alphabets, cache_dir, generate_alphabets
from .episodes import EpisodeSampler, nearest_neighbour_accuracy
from .i18n import get_language, set_language
from .models import MLP, ConvNet, batched_call, expand_params, parameters_of
from .omniglot import OmniglotError, download_omniglot, load_lake_runs, load_omniglot
from .runtime import Budget, budget, pick_device, seed_everything
from .tasks import SINE_PRESETS, Episodes, SineFamily, SineTasks

__version__ = "0.1.0"

__all__ = [
    "METHODS",
    "MLP",
    "SINE_PRESETS",
    "Budget",
    "CharacterSet",
    "ConvNet",
    "DivergenceError",
    "EpisodeSampler",
    "Episodes",
    "Evaluation",
    "History",
    "OmniglotError",
    "SineFamily",
    "SineTasks",
    "adapt",
    "batched_call",
    "budget",
    "builtin_alphabets",
    "cache_dir",
    "download_omniglot",
    "evaluate",
    "expand_params",
    "fomaml",
    "generate_alphabets",
    "get_language",
    "joint",
    "joint_loss",
    "load_lake_runs",
    "load_omniglot",
    "maml",
    "maml_meta_gradient",
    "nearest_neighbour_accuracy",
    "parameters_of",
    "pick_device",
    "reptile",
    "reptile_outer_step",
    "reptile_step",
    "seed_everything",
    "set_language",
    "task_losses",
]
