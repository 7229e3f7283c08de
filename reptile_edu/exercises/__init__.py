"""Checkers for the lessons' exercises: each says right or wrong, and why, in the notebook's language.

A checker takes what the learner wrote (a function or a number), tests it against the package's
reference on fresh seeded inputs, and returns a ``Check`` that displays as ✓ or ✗ with a reason;
``bool(check)`` is whether it passed. Where a wrong answer matches a known slip, the reason names it.

One module per lesson or theme: ``basics`` (lessons 00–02), ``maml`` (03), ``reptile`` (04), ``taylor``
(05), ``fewshot`` (06, 07), ``rl`` (08), ``schedules`` (09), ``mistakes`` (the common mistakes in Reptile
code, lessons 04 and 05); ``core`` holds ``Check`` and the message table, ``MESSAGES``, to which each
module adds its texts (en, tr, zh). The notebooks import every checker from here:
``from reptile_edu.exercises import check_reptile_update``.
"""

from .basics import check_average_sine, check_eta, check_sine_values, check_task_batch
from .core import MESSAGES, Check, check_number, message
from .fewshot import check_best, check_confidence_interval, check_episodes_needed, episodes_needed
from .maml import check_maml_chain_rule, check_maml_gradient
from .mistakes import check_not_fine_tuning, check_reptile_step_in_place, check_within_task_alignment
from .reptile import check_k1_learning_rate, check_reptile_update
from .rl import check_gae
from .schedules import check_cosine_schedule
from .taylor import _reptile_taylor, check_reptile_taylor, check_two_steps_quadratic, two_sgd_steps

__all__ = [
    "MESSAGES",
    "Check",
    "_reptile_taylor",
    "check_average_sine",
    "check_best",
    "check_confidence_interval",
    "check_cosine_schedule",
    "check_episodes_needed",
    "check_eta",
    "check_gae",
    "check_k1_learning_rate",
    "check_maml_chain_rule",
    "check_maml_gradient",
    "check_not_fine_tuning",
    "check_number",
    "check_reptile_step_in_place",
    "check_reptile_taylor",
    "check_reptile_update",
    "check_sine_values",
    "check_task_batch",
    "check_two_steps_quadratic",
    "check_within_task_alignment",
    "episodes_needed",
    "message",
    "two_sgd_steps",
]
