"""The Reptile paper's conv net, batch norm (transductive or not), the Adam inner loop, and every
method running on image episodes with the same calls as on sine."""

import copy
import math

import pytest
import torch
from torch.func import functional_call, vmap

from reptile_edu import (
    MLP,
    ConvNet,
    Episodes,
    EpisodeSampler,
    Evaluation,
    SineFamily,
    adapt,
    batched_call,
    evaluate,
    fomaml,
    maml,
    maml_meta_gradient,
    reptile,
    reptile_step,
    task_losses,
)


def image_episodes(num_tasks=3, ways=3, shots=2, queries=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (8, 6, 28, 28), generator=g, dtype=torch.uint8)
    return EpisodeSampler(images, ways=ways, shots=shots, queries=queries).episodes(num_tasks, g)


def test_conv_net_is_the_papers_architecture():
    model = ConvNet(5)
    convs = list(model.convs)
    assert len(convs) == 4
    assert [c.out_channels for c in convs] == [64] * 4 and convs[0].in_channels == 1
    assert all(c.kernel_size == (3, 3) and c.stride == (2, 2) and c.padding == (1, 1) for c in convs)
    assert all(not n.track_running_stats and n.num_features == 64 for n in model.norms)
    assert list(model.buffers()) == []  # no running statistics: nothing to mutate under vmap
    assert model.head.in_features == 64 * 2 * 2 and model.head.out_features == 5
    assert model(torch.zeros(7, 1, 28, 28)).shape == (7, 5)
    # 28 → 14 → 7 → 4 → 2; parameters: 4 convs + 4 batch norms + the linear head.
    assert sum(p.numel() for p in model.parameters()) == (640 + 3 * 36928) + 4 * 128 + (256 * 5 + 5)


def test_batched_forward_equals_vmap_and_a_loop_over_tasks():
    torch.manual_seed(0)
    model = ConvNet(4, channels=8)
    params = {n: p.detach() + 0.1 * torch.randn(3, *p.shape) for n, p in model.named_parameters()}
    x = torch.randn(3, 6, 1, 28, 28)
    fast = batched_call(model, params, x)
    slow = vmap(lambda p, xt: functional_call(model, p, (xt,)))(params, x)
    loop = torch.stack([functional_call(model, {n: v[t] for n, v in params.items()}, (x[t],)) for t in range(3)])
    torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(fast, loop, rtol=1e-4, atol=1e-5)


def test_batch_norm_uses_the_statistics_of_the_batch():
    torch.manual_seed(0)
    model = ConvNet(3, channels=8)
    x = torch.randn(4, 1, 28, 28)
    together = model(x)
    other_batch = model(torch.cat([x[:1], torch.randn(3, 1, 28, 28)]))
    assert not torch.allclose(together[0], other_batch[0])  # the same image, different neighbours


def test_non_transductive_evaluation_classifies_each_query_with_the_support_set_only():
    torch.manual_seed(0)
    model = ConvNet(3, channels=8)
    ep = image_episodes(num_tasks=2, ways=3, shots=2, queries=2)
    non = evaluate(model, ep, k=1, eta=0.1, transductive=False)
    tra = evaluate(model, ep, k=1, eta=0.1, transductive=True)
    assert non.final != pytest.approx(tra.final)
    # By hand, for the 0-step predictions: query j of task t in a batch [support_t; query_j].
    logits = []
    for t in range(2):
        rows = [model(torch.cat([ep.x_support[t], ep.x_query[t, j : j + 1]]))[-1] for j in range(ep.x_query.shape[1])]
        logits.append(torch.stack(rows))
    by_hand = task_losses(torch.stack(logits), ep.y_query, "ce")
    zero_step = evaluate(model, ep, k=1, eta=1e-30, transductive=False)  # η ≈ 0: θ̃ = θ
    assert zero_step.loss[0] == pytest.approx(float(by_hand.detach().mean()), rel=1e-5)
    # Changing one query image changes the others' transductive predictions but not the non-transductive ones.
    changed = Episodes(ep.x_support, ep.y_support, ep.x_query.clone(), ep.y_query, "ce")
    changed.x_query[:, 1] = torch.rand_like(changed.x_query[:, 1])
    a = evaluate(model, changed, k=1, eta=0.1, transductive=False)
    b = evaluate(model, changed, k=1, eta=0.1, transductive=True)
    keep = [0, 2, 3, 4, 5]  # the queries that did not change (query 1 is the changed one)
    assert a.final_per_task.shape == (2,)
    pred_a = _query_logits(model, changed, transductive=False)[:, keep]
    pred_n = _query_logits(model, ep, transductive=False)[:, keep]
    torch.testing.assert_close(pred_a, pred_n)
    assert not torch.allclose(_query_logits(model, changed, True)[:, keep], _query_logits(model, ep, True)[:, keep])
    assert b.final != pytest.approx(a.final)


def _query_logits(model, ep, transductive):
    from reptile_edu.evaluation import _predict
    from reptile_edu.models import expand_params

    params = expand_params({n: p.detach() for n, p in model.named_parameters()}, ep.num_tasks)
    with torch.no_grad():
        return _predict(model, params, ep.x_support, ep.x_query, transductive)


def test_batched_adam_inner_loop_equals_torch_adam_with_beta1_zero():
    torch.manual_seed(0)
    model = MLP((8, 8), "tanh").double()
    fam = SineFamily("maml", shots=10, queries=5)
    ep = fam.episodes(3, torch.Generator().manual_seed(0))
    x, y = ep.x_support.double(), ep.y_support.double()
    theta_tilde = adapt(model, x, y, k=4, eta=0.01, inner_optimizer="adam", batch_size=5)
    for t in range(3):
        ref = copy.deepcopy(model)
        opt = torch.optim.Adam(ref.parameters(), lr=0.01, betas=(0.0, 0.999), eps=1e-8)
        for i in range(4):
            sl = slice((i * 5) % 10, (i * 5) % 10 + 5)
            opt.zero_grad()
            torch.nn.functional.mse_loss(ref(x[t, sl]), y[t, sl]).backward()
            opt.step()
        for name, p in ref.named_parameters():
            torch.testing.assert_close(theta_tilde[name][t], p.detach(), rtol=1e-10, atol=1e-12)


def test_maml_meta_gradient_through_adam_matches_finite_differences():
    torch.manual_seed(1)
    model = MLP((6,), "tanh").double()
    ep = SineFamily("maml", shots=5, queries=5).episodes(2, torch.Generator().manual_seed(3))
    ep = Episodes(ep.x_support.double(), ep.y_support.double(), ep.x_query.double(), ep.y_query.double())
    k, eta, h = 2, 0.05, 1e-6
    grads, _ = maml_meta_gradient(model, ep, k=k, eta=eta, inner_optimizer="adam")
    names = [n for n, _ in model.named_parameters()]
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])

    def query_loss(vec):
        params, i = {}, 0
        for name, p in model.named_parameters():
            params[name] = vec[i : i + p.numel()].view(p.shape)
            i += p.numel()
        tilde = adapt(model, ep.x_support, ep.y_support, k=k, eta=eta, params=params, inner_optimizer="adam")
        return float(task_losses(batched_call(model, tilde, ep.x_query), ep.y_query, "mse").mean())

    fd = torch.empty_like(flat)
    for i in range(len(flat)):
        e = torch.zeros_like(flat)
        e[i] = h
        fd[i] = (query_loss(flat + e) - query_loss(flat - e)) / (2 * h)
    analytic = torch.cat([grads[n].flatten() for n in names])
    assert torch.isfinite(analytic).all()
    torch.testing.assert_close(analytic, fd, rtol=1e-4, atol=1e-6)


def test_batched_reptile_on_images_equals_a_loop_over_tasks():
    torch.manual_seed(0)
    model = ConvNet(3, channels=8)
    ep = image_episodes(num_tasks=3, ways=3, shots=2)
    new, _ = reptile_step(model, ep, k=2, eta=0.01, epsilon=0.5, inner_optimizer="adam")
    tilde = []
    for t in range(3):
        one = adapt(
            model, ep.x_support[t : t + 1], ep.y_support[t : t + 1], k=2, eta=0.01, loss="ce", inner_optimizer="adam"
        )
        tilde.append(one)
    for name, p in model.named_parameters():
        if name.startswith("convs.") and name.endswith(".bias"):
            # Batch norm right after the conv removes its bias: that gradient is float noise, which
            # Adam's g/√v turns into steps of random sign. Every other parameter must agree.
            continue
        mean_tilde = torch.cat([d[name] for d in tilde]).mean(0)
        torch.testing.assert_close(new[name], p.detach() + 0.5 * (mean_tilde - p.detach()), rtol=1e-4, atol=1e-6)


METHODS = [
    (reptile, {"k": 2, "eta": 0.001, "epsilon": 0.5, "inner_optimizer": "adam"}),
    (reptile, {"k": 2, "eta": 0.05, "epsilon": 0.5, "inner_optimizer": "sgd", "batch_size": 3}),
    (fomaml, {"k": 2, "eta": 0.001, "inner_optimizer": "adam"}),
    (maml, {"k": 2, "eta": 0.05}),
    (maml, {"k": 1, "eta": 0.001, "inner_optimizer": "adam"}),
]


def _devices():
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", _devices())
@pytest.mark.parametrize(("method", "kwargs"), METHODS)
def test_every_method_runs_on_image_episodes_with_the_sine_call(method, kwargs, device):
    torch.manual_seed(0)
    model = ConvNet(3, channels=8).to(device)
    source = EpisodeSampler(torch.randint(0, 256, (10, 6, 28, 28), dtype=torch.uint8), ways=3, shots=2, queries=1)
    before = [p.detach().clone() for p in model.parameters()]
    history = method(
        model, source, steps=2, meta_batch=3, generator=torch.Generator().manual_seed(0), progress=False, **kwargs
    )
    assert len(history) == 2 and all(math.isfinite(v) for v in history.loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    result = evaluate(
        model, source, k=2, eta=kwargs["eta"], num_tasks=4, inner_optimizer=kwargs.get("inner_optimizer", "sgd")
    )
    assert len(result.accuracy) == 3 and result.accuracy_per_task.shape == (4,)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_and_cpu_agree_on_an_image_reptile_step():
    torch.manual_seed(0)
    model = ConvNet(3, channels=8)
    ep = image_episodes()
    cpu, _ = reptile_step(model, ep, k=2, eta=0.001, epsilon=1.0, inner_optimizer="adam")
    gpu, _ = reptile_step(
        copy.deepcopy(model).cuda(), ep.to("cuda"), k=2, eta=0.001, epsilon=1.0, inner_optimizer="adam"
    )
    for name in cpu:
        torch.testing.assert_close(gpu[name].cpu(), cpu[name], rtol=1e-3, atol=1e-4)


def test_evaluate_in_chunks_gives_the_same_numbers():
    torch.manual_seed(0)
    model = ConvNet(3, channels=8)
    ep = image_episodes(num_tasks=5)
    whole = evaluate(model, ep, k=2, eta=0.01, inner_optimizer="adam")
    parts = evaluate(model, ep, k=2, eta=0.01, inner_optimizer="adam", chunk_size=2)
    assert whole.accuracy == pytest.approx(parts.accuracy)
    torch.testing.assert_close(whole.accuracy_per_task, parts.accuracy_per_task)
    torch.testing.assert_close(whole.final_per_task, parts.final_per_task, rtol=1e-4, atol=1e-5)


def test_accuracy_interval_is_mean_and_half_width_of_the_95_percent_interval():
    acc = torch.tensor([0.2, 0.4, 0.6, 0.8])
    ev = Evaluation(loss=[1.0], accuracy=[0.5], final_per_task=torch.zeros(4), accuracy_per_task=acc)
    mean, half = ev.accuracy_interval()
    assert mean == pytest.approx(0.5)
    assert half == pytest.approx(1.96 * float(acc.double().std()) / 2)
    with pytest.raises(ValueError, match="needs classification tasks"):
        Evaluation(loss=[1.0], accuracy=None, final_per_task=torch.zeros(2)).accuracy_interval()


@pytest.mark.parametrize("call", [adapt, evaluate, reptile])
def test_unknown_inner_optimizer_is_a_clear_error(call):
    model = MLP()
    fam = SineFamily()
    ep = fam.episodes(2)
    pattern = r"inner_optimizer must be one of 'sgd', 'adam'; got 'rmsprop'"
    with pytest.raises(ValueError, match=pattern):
        if call is adapt:
            adapt(model, ep.x_support, ep.y_support, k=1, eta=0.1, inner_optimizer="rmsprop")
        elif call is evaluate:
            evaluate(model, ep, k=1, eta=0.1, inner_optimizer="rmsprop")
        else:
            reptile(model, fam, steps=1, inner_optimizer="rmsprop", progress=False)


def test_conv_net_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"ways must be an integer ≥ 1; got 0"):
        ConvNet(0)
    with pytest.raises(ValueError, match=r"channels must be an integer ≥ 1; got -2"):
        ConvNet(5, channels=-2)


def test_a_model_with_too_few_outputs_for_the_episodes_is_a_clear_error():
    ep = image_episodes(num_tasks=2, ways=5, shots=1)
    with pytest.raises(ValueError, match=r"the model has 3 outputs but the labels go up to 4: .*ConvNet\(ways=5\)"):
        evaluate(ConvNet(3, channels=8), ep, k=1, eta=0.1)
