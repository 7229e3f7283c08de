"""reptile-edu: meta-learning from SGD through MAML to Reptile, for the course notebooks.

Symbols used throughout: k inner steps, η inner learning rate, ε meta step size,
θ the meta-learned initialisation, θ̃ the parameters after adapting to one task,
n tasks per meta-batch.
"""

from .alphabets import builtin_alphabets, generate_alphabets
from .cache import cache_dir
from .characters import CharacterSet
from .episodes import Episodes, TaskSource
from .evaluation import DivergedTasksWarning, Evaluation, evaluate, nearest_neighbour_accuracy
from .i18n import get_language, set_language
from .inner import InnerLoop, adapt, autograd_only
from .losses import task_losses
from .meta import joint_loss, maml_meta_gradient, reptile_outer_step, reptile_step
from .methods import METHODS, DivergenceError, History, fomaml, joint, maml, reptile
from .models import MLP, ConvNet, batched_call, expand_params, parameters_of
from .omniglot import OmniglotError, download_omniglot, load_lake_runs, load_omniglot
from .pretrain import AllClassBatches, pretrain, with_new_head
from .protonet import embedding_net, evaluate_protonet, protonet, protonet_loss
from .recipes import PAPER_OMNIGLOT, InnerRecipe
from .runtime import Budget, budget, pick_device, seed_everything
from .sampler import EpisodeSampler
from .sine import SINE_PRESETS, SineFamily, SineTasks

__version__ = "0.1.0"

__all__ = [
    "AllClassBatches",
    "InnerRecipe",
    "PAPER_OMNIGLOT",
    "embedding_net",
    "evaluate_protonet",
    "pretrain",
    "protonet",
    "protonet_loss",
    "with_new_head",
    "METHODS",
    "MLP",
    "SINE_PRESETS",
    "Budget",
    "CharacterSet",
    "ConvNet",
    "DivergenceError",
    "DivergedTasksWarning",
    "EpisodeSampler",
    "Episodes",
    "Evaluation",
    "History",
    "InnerLoop",
    "OmniglotError",
    "SineFamily",
    "SineTasks",
    "TaskSource",
    "adapt",
    "autograd_only",
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

# isort: split
# ε schedules (lesson 09); the dynamics and landscape tools are imported from their modules.
from .meta import adapt_meta_batch, reptile_gradient
from .schedules import Constant, Cosine, Linear, Schedule

__all__ += ["Constant", "Cosine", "Linear", "Schedule", "adapt_meta_batch", "reptile_gradient"]
