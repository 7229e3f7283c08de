"""Every bad input gets a specific error naming the argument and the allowed range."""

import math

import pytest
import torch

from reptile_edu import (
    MLP,
    ConvNet,
    DivergenceError,
    Episodes,
    EpisodeSampler,
    SineFamily,
    adapt,
    budget,
    evaluate,
    fomaml,
    joint,
    maml,
    pick_device,
    reptile,
    seed_everything,
)

FAM = SineFamily("maml")


def run(method, **kw):
    return method(MLP.preset("maml"), FAM, **{"steps": 2, "progress": False, **kw})


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"k": 0}, r"k \(inner steps\) must be an integer ≥ 1; got 0"),
        ({"k": -3}, r"k \(inner steps\) must be an integer ≥ 1; got -3"),
        ({"eta": 0.0}, r"η \(eta\) must be a finite number > 0; got 0.0"),
        ({"eta": -0.1}, r"η \(eta\) must be a finite number > 0; got -0.1"),
        ({"eta": math.nan}, r"η \(eta\) must be a finite number > 0; got nan"),
        ({"eta": math.inf}, r"η \(eta\) must be a finite number > 0; got inf"),
        ({"epsilon": 0.0}, r"ε \(epsilon\) must be a finite number > 0; got 0.0"),
        ({"epsilon": math.nan}, r"ε \(epsilon\) must be a finite number > 0; got nan"),
        ({"epsilon": -1}, r"ε \(epsilon\) must be a finite number > 0; got -1"),
        ({"meta_batch": 0}, r"n \(meta_batch\) must be an integer ≥ 1; got 0"),
        ({"steps": 0}, r"steps must be an integer ≥ 1; got 0"),
        ({"batch_size": 3}, r"batch_size must divide the number of support points \(10\); got 3"),
        ({"batch_size": 11}, r"batch_size must be an integer between 1 and 10; got 11"),
    ],
)
def test_reptile_rejects_bad_settings(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        run(reptile, **kwargs)


@pytest.mark.parametrize("method", [maml, fomaml])
@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"k": 0}, r"k \(inner steps\)"),
        ({"eta": 0}, r"η \(eta\)"),
        ({"meta_lr": -1.0}, "meta_lr"),
        ({"meta_batch": 0}, "meta_batch"),
    ],
)
def test_maml_rejects_bad_settings(method, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        run(method, **kwargs)


def test_joint_rejects_bad_settings():
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0; got 0"):
        run(joint, lr=0)
    with pytest.raises(ValueError, match=r"optimizer must be one of 'adam', 'sgd'; got 'rmsprop'"):
        run(joint, optimizer="rmsprop")


def test_wrong_types_name_the_argument():
    with pytest.raises(TypeError, match=r"k \(inner steps\) must be an integer, got '5' \(str\)"):
        run(reptile, k="5")
    with pytest.raises(TypeError, match=r"η \(eta\) must be a number"):
        run(reptile, eta="0.1")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        reptile("not a model", FAM, steps=1)
    with pytest.raises(TypeError, match="source must be a task family"):
        reptile(MLP(), [1, 2, 3], steps=1)


def test_epsilon_above_one_is_allowed_with_a_warning():
    with pytest.warns(UserWarning, match=r"ε \(epsilon\)=1.5 > 1: the outer step overshoots"):
        run(reptile, epsilon=1.5, k=1, eta=0.001)


@pytest.mark.parametrize(
    ("call", "error", "pattern"),
    [
        (lambda: SineFamily("omniglot"), ValueError, r"preset must be one of 'maml', 'reptile'; got 'omniglot'"),
        (lambda: SineFamily("maml", shots=0), ValueError, r"shots must be an integer ≥ 1; got 0"),
        (lambda: FAM.sample(0, 10), ValueError, r"num_tasks must be an integer ≥ 1; got 0"),
        (lambda: FAM.sample(4, 0), ValueError, r"num_points must be an integer ≥ 1; got 0"),
        (lambda: MLP.preset("big"), ValueError, r"name must be one of 'maml', 'reptile'; got 'big'"),
        (lambda: MLP((40,), "sigmoid"), ValueError, r"activation must be one of 'relu', 'tanh'; got 'sigmoid'"),
        (lambda: MLP((0, 40)), ValueError, r"hidden\[0\] must be an integer ≥ 1; got 0"),
        (lambda: pick_device("tpu"), ValueError, r"device must be 'cpu', 'cuda' or 'cuda:N'; got 'tpu'"),
        (lambda: budget("huge"), ValueError, r"budget must be one of 'smoke', 'full'; got 'huge'"),
        (lambda: seed_everything(-1), ValueError, r"seed must be an integer between 0 and"),
    ],
)
def test_constructors_reject_bad_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_asking_for_cuda_without_a_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU; use 'cpu'"):
        pick_device("cuda")


def test_shapes_that_do_not_match():
    x = torch.zeros(4, 10, 1)
    with pytest.raises(ValueError, match=r"same number of tasks T"):
        Episodes(x, x, torch.zeros(3, 5, 1), torch.zeros(3, 5, 1)[:2])
    with pytest.raises(ValueError, match=r"inputs and targets must agree in \[T, N\]"):
        Episodes(x, torch.zeros(4, 9, 1), x, x)
    with pytest.raises(ValueError, match=r"x and y must be \[T, N, ...\] with the same T and N"):
        adapt(MLP(), x, torch.zeros(4, 9, 1), k=1, eta=0.1)
    bad = {n: torch.zeros(3, *p.shape) for n, p in MLP().named_parameters()}
    with pytest.raises(
        ValueError, match=r"params\['layers.0.weight'\] must have shape \(40, 1\) or \(4, 40, 1\); got \(3, 40, 1\)"
    ):
        adapt(MLP(), x, x, k=1, eta=0.1, params=bad)
    with pytest.raises(ValueError, match=r"x must be \[M\] or \[T=2, M, 1\]"):
        FAM.sample(2, 3).fn(torch.zeros(3, 3, 1))


def test_a_model_that_does_not_fit_the_tasks_names_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"ConvNet takes inputs of shape \[T, N, 1, 28, 28\], but the tasks give x of shape \[2, 10, 1\]",
    ):
        reptile(ConvNet(ways=5), SineFamily("maml"), steps=1, meta_batch=2, progress=False)
    images = torch.randint(0, 256, (6, 4, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    sampler = EpisodeSampler(images, ways=3, shots=1, queries=1)
    mlp_says = r"MLP takes inputs of shape \[T, N, 1\], but the tasks give x of shape \[2, 3, 1, 28, 28\]"
    with pytest.raises(ValueError, match=mlp_says):
        maml(MLP(out_features=3), sampler, steps=1, meta_batch=2, progress=False)
    with pytest.raises(ValueError, match=mlp_says.replace("2, 3", "4, 3")):
        evaluate(MLP(out_features=3), sampler, k=1, eta=0.1, num_tasks=4)
    x = torch.zeros(4, 10, 1)  # the MLP's hand-derived inner loop checks too
    with pytest.raises(
        ValueError, match=r"MLP takes inputs of shape \[T, N, 2\], but the tasks give x of shape \[4, 10, 1\]"
    ):
        adapt(MLP(in_features=2), x, x, k=1, eta=0.1)


def test_budget_reads_the_environment(monkeypatch):
    monkeypatch.setenv("REPTILE_EDU_BUDGET", "smoke")
    assert budget().smoke and budget().pick(full=1000, smoke=3) == 3
    monkeypatch.delenv("REPTILE_EDU_BUDGET")
    assert not budget().smoke and budget().pick(full=1000, smoke=3) == 1000
    monkeypatch.setenv("REPTILE_EDU_BUDGET", "fast")
    with pytest.raises(ValueError, match=r"REPTILE_EDU_BUDGET must be one of \('smoke', 'full'\); got 'fast'"):
        budget()


def test_pick_device_defaults_to_cuda_only_when_present(monkeypatch):
    monkeypatch.delenv("REPTILE_EDU_DEVICE", raising=False)
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("REPTILE_EDU_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")


@pytest.mark.parametrize("method", [reptile, maml, joint])
def test_divergence_stops_with_a_clear_error_and_keeps_finite_parameters(method):
    torch.manual_seed(0)
    model = MLP.preset("maml")
    lr = {"reptile": {"eta": 50.0, "epsilon": 1.0, "k": 5}, "maml": {"eta": 50.0, "k": 3}, "joint": {"lr": 1e30}}
    with pytest.raises(DivergenceError, match=r"diverged at outer step \d+: the loss or the parameters became") as info:
        method(model, FAM, steps=50, generator=torch.Generator().manual_seed(0), progress=False, **lr[method.__name__])
    assert "Lower" in str(info.value) and info.value.step >= 1
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_evaluation_that_diverges_says_so_instead_of_returning_nan():
    torch.manual_seed(0)
    with pytest.raises(DivergenceError, match=r"Adaptation diverged at inner step \d+.*η \(eta=100\)"):
        evaluate(MLP.preset("maml"), FAM, k=20, eta=100.0, num_tasks=5)
