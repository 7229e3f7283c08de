"""Meta-learning works: a short seeded CPU run of Reptile and of MAML adapts to held-out sine tasks
from 10 shots clearly better than joint training and than SGD from a random start."""

import pytest
import torch

from reptile_edu import MLP, SineFamily, evaluate, joint, maml, reptile, seed_everything

TRAIN = SineFamily("maml", shots=10, queries=10)
HELD_OUT = SineFamily("maml", shots=10, queries=100)


def post_adaptation_mse(model):
    """MSE on 100 query points of 200 held-out tasks after 10 SGD steps (η = 0.01) on 10 shots."""
    g = torch.Generator().manual_seed(12345)
    return evaluate(model, HELD_OUT, k=10, eta=0.01, num_tasks=200, generator=g).final


def trained(method, **kwargs):
    g = seed_everything(0)
    model = MLP.preset("maml")
    if method is not None:
        method(model, TRAIN, steps=1000, generator=g, progress=False, **kwargs)
    return post_adaptation_mse(model)


@pytest.fixture(scope="module")
def baselines():
    return {
        "random start": trained(None),
        "joint training": trained(joint, lr=1e-3, meta_batch=25),
    }


def test_joint_training_beats_a_random_start_but_only_learns_the_average(baselines):
    assert baselines["joint training"] < baselines["random start"]
    assert baselines["joint training"] > 1.0  # the average sine is ~0: little to adapt from


@pytest.mark.parametrize(
    ("name", "method", "kwargs"),
    [
        ("Reptile", reptile, {"k": 10, "eta": 0.02, "epsilon": 1.0, "meta_batch": 5, "anneal": True}),
        ("MAML", maml, {"k": 1, "eta": 0.01, "meta_lr": 1e-3, "meta_batch": 25}),
    ],
)
def test_meta_learning_beats_joint_training_and_a_random_start(baselines, name, method, kwargs):
    mse = trained(method, **kwargs)
    best_baseline = min(baselines.values())
    assert mse < 0.5 * best_baseline, f"{name}: {mse:.3f} vs baselines {baselines}"
