"""The few-shot baselines: Prototypical Networks (prototypes, distances, the batched episode against a loop),
all-class pre-training (global labels, head replacement), and the paper's inner-loop recipe for every method."""

import pytest
import torch
from _fewshot import alphabets, one_thread

from reptile_edu import (
    PAPER_OMNIGLOT,
    AllClassBatches,
    ConvNet,
    DivergenceError,
    Episodes,
    EpisodeSampler,
    InnerLoop,
    InnerRecipe,
    embedding_net,
    evaluate,
    evaluate_protonet,
    pretrain,
    protonet,
    protonet_loss,
    reptile,
    seed_everything,
    with_new_head,
)
from reptile_edu.protonet import protonet_logits, prototypes, squared_distances

# ---------------------------------------------------------------------------
# Prototypical Networks


def test_prototypes_and_distances_on_a_hand_made_episode():
    # One episode, 2-way 2-shot, 2-d embeddings: class 0 at (0, 0) and (2, 0), class 1 at (0, 4) and (0, 2).
    z_support = torch.tensor([[[0.0, 0.0], [0.0, 4.0], [2.0, 0.0], [0.0, 2.0]]])
    y_support = torch.tensor([[0, 1, 0, 1]])
    protos = prototypes(z_support, y_support, ways=2)
    torch.testing.assert_close(protos, torch.tensor([[[1.0, 0.0], [0.0, 3.0]]]))
    # Queries at (1, 1) and (0, 3): squared distances to c_0 = (1, 0) and c_1 = (0, 3).
    z_query = torch.tensor([[[1.0, 1.0], [0.0, 3.0]]])
    d = squared_distances(z_query, protos)
    torch.testing.assert_close(d, torch.tensor([[[1.0, 5.0], [10.0, 0.0]]]))
    # p(y = n | x) = softmax(−d): the first query is class 0 with probability 1 / (1 + e^−4).
    p = torch.softmax(-d, -1)
    assert float(p[0, 0, 0]) == pytest.approx(1 / (1 + torch.e**-4))


def test_a_class_without_support_examples_is_a_clear_error():
    with pytest.raises(ValueError, match="at least one support example"):
        prototypes(torch.zeros(1, 2, 3), torch.tensor([[0, 0]]), ways=2)


def _image_episodes(num_tasks=2, ways=3, shots=2, queries=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (6, 5, 28, 28), generator=g, dtype=torch.uint8)
    return EpisodeSampler(images, ways=ways, shots=shots, queries=queries).episodes(num_tasks, g)


def test_batched_episodes_equal_one_episode_at_a_time_by_hand():
    torch.manual_seed(0)
    model = embedding_net(16, channels=8)
    ep = _image_episodes()
    with torch.no_grad():
        batched = protonet_logits(model, ep)
        non_transductive = protonet_logits(model, ep, transductive=False)
        for t in range(ep.num_tasks):
            s = ep.x_support.shape[1]
            # Transductive: support and queries in one batch; the prototype is the mean of a class's embeddings.
            z = model(torch.cat([ep.x_support[t], ep.x_query[t]]))
            protos = torch.stack([z[:s][ep.y_support[t] == n].mean(0) for n in range(3)])
            torch.testing.assert_close(batched[t], -(torch.cdist(z[s:], protos) ** 2), rtol=1e-4, atol=1e-4)
            # Non-transductive: query j goes through the network with the support set only.
            for j in range(ep.x_query.shape[1]):
                z = model(torch.cat([ep.x_support[t], ep.x_query[t, j : j + 1]]))
                protos = torch.stack([z[:s][ep.y_support[t] == n].mean(0) for n in range(3)])
                expected = -((z[s] - protos) ** 2).sum(-1)
                torch.testing.assert_close(non_transductive[t, j], expected, rtol=1e-4, atol=1e-4)


def test_embedding_net_is_the_conv_body_with_a_d_dimensional_output():
    model = embedding_net()
    assert isinstance(model, ConvNet) and model.head.in_features == 256 and model.head.out_features == 256
    assert embedding_net(64).head.out_features == 64
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 256)


@one_thread()
def test_a_short_protonet_run_learns_to_classify_unseen_alphabets():
    g = seed_everything(0)
    model = embedding_net()
    tasks = EpisodeSampler(alphabets("test"), ways=5, shots=1, queries=2).episodes(
        100, torch.Generator().manual_seed(9)
    )
    before = evaluate_protonet(model, tasks, chunk_size=50)
    train = EpisodeSampler(alphabets("train"), ways=5, shots=1, queries=3)
    history = protonet(model, train, steps=40, lr=1e-3, meta_batch=2, generator=g, progress=False)
    after = evaluate_protonet(model, tasks, chunk_size=50)
    assert len(history) == 40 and history.method == "Prototypical Networks"
    assert after.accuracy[0] > 0.45 and after.accuracy[0] > before.accuracy[0] + 0.05, (before, after)
    mean, half = after.accuracy_interval()
    assert mean == pytest.approx(after.accuracy[0]) and 0 < half < 0.1
    # The same numbers in chunks, and from the same seed again.
    assert evaluate_protonet(model, tasks, chunk_size=7).accuracy == pytest.approx(after.accuracy)


def test_protonet_divergence_is_reported_and_leaves_the_model_finite():
    torch.manual_seed(0)
    model = embedding_net(8, channels=4)
    ep = _image_episodes()
    source = type("Same", (), {"episodes": lambda self, n, g=None, d="cpu": ep})()
    with torch.no_grad():
        model.head.weight.fill_(float("inf"))
    with pytest.raises(DivergenceError, match="lr"):
        protonet(model, source, steps=3, progress=False)
    assert all(torch.isfinite(p).all() for n, p in model.named_parameters() if not n.startswith("head.weight"))


def test_protonet_loss_is_the_query_cross_entropy_of_minus_the_distances():
    torch.manual_seed(0)
    model = embedding_net(8, channels=4)
    ep = _image_episodes()
    logits = protonet_logits(model, ep)
    expected = torch.nn.functional.cross_entropy(logits.flatten(0, 1), ep.y_query.flatten())
    assert float(protonet_loss(model, ep).detach()) == pytest.approx(float(expected.detach()), rel=1e-5)


# ---------------------------------------------------------------------------
# All-class pre-training, then fine-tuning


def test_all_class_batches_have_global_labels_and_optional_rotations():
    images = torch.randint(0, 256, (7, 4, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    batches = AllClassBatches(images, batch_size=16)
    ep = batches.episodes(3, torch.Generator().manual_seed(1))
    assert batches.num_classes == 7 and ep.x_support.shape == (3, 16, 1, 28, 28) and ep.loss == "ce"
    for t in range(3):
        for i in range(16):  # every image is an instance of the class its label names
            img = ep.x_support[t, i, 0]
            c = int(ep.y_support[t, i])
            assert any(torch.equal(img, images[c, j].float() / 255) for j in range(4))
    rotated = AllClassBatches(images, batch_size=64, rotations=True)
    ep = rotated.episodes(2, torch.Generator().manual_seed(2))
    assert rotated.num_classes == 28 and int(ep.y_support.max()) >= 7
    t, i = (ep.y_support >= 7).nonzero()[0].tolist()
    c, turns = int(ep.y_support[t, i]) % 7, int(ep.y_support[t, i]) // 7
    img = torch.rot90(ep.x_support[t, i, 0], -turns)  # undo the turn: an instance of the base class
    assert any(torch.equal(img, images[c, j].float() / 255) for j in range(4))
    again = rotated.episodes(2, torch.Generator().manual_seed(2))
    assert torch.equal(again.x_support, ep.x_support)  # a seed fixes every batch


def test_head_replacement_keeps_the_body_and_starts_a_new_n_way_head():
    torch.manual_seed(0)
    pretrained = ConvNet(30, channels=8)
    before = {n: p.detach().clone() for n, p in pretrained.named_parameters()}
    five = with_new_head(pretrained, 5)
    assert five.ways == 5 and five.head.weight.shape == (5, 32) and five.head.bias.shape == (5,)
    assert torch.count_nonzero(five.head.weight) == 0 and torch.count_nonzero(five.head.bias) == 0
    for name, p in five.named_parameters():
        if not name.startswith("head."):
            assert torch.equal(p, before[name])  # the feature extractor is the pre-trained one
    x = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(five(x), torch.zeros(4, 5))  # a zero head: all classes equally likely
    with torch.no_grad():
        next(five.parameters()).add_(1.0)  # a copy: fine-tuning it leaves the pre-trained model alone
    for name, p in pretrained.named_parameters():
        assert torch.equal(p, before[name])
    r1 = with_new_head(pretrained, 20, init="random", generator=torch.Generator().manual_seed(3))
    r2 = with_new_head(pretrained, 20, init="random", generator=torch.Generator().manual_seed(3))
    assert r1.head.weight.shape == (20, 32) and torch.equal(r1.head.weight, r2.head.weight)
    assert float(r1.head.weight.abs().max()) <= 32**-0.5
    with pytest.raises(ValueError, match="init"):
        with_new_head(pretrained, 5, init="mean")
    with pytest.raises(ValueError, match="ways"):
        with_new_head(pretrained, 1)


@one_thread()
def test_pre_training_then_fine_tuning_beats_the_untrained_net():
    g = seed_everything(0)
    train = alphabets("train")
    batches = AllClassBatches(train, batch_size=32)
    model = ConvNet(batches.num_classes)
    history = pretrain(model, batches, steps=120, lr=2e-3, generator=g, progress=False)
    assert history.method == "Pre-training" and len(history) == 120
    assert sum(history.loss[-10:]) < sum(history.loss[:10])
    tasks = EpisodeSampler(alphabets("test"), ways=5, shots=1, queries=2).episodes(60, torch.Generator().manual_seed(5))
    fine_tuned = evaluate(with_new_head(model, 5), tasks, k=5, eta=0.1).accuracy[-1]
    torch.manual_seed(1)
    untrained = evaluate(ConvNet(5), tasks, k=5, eta=0.1).accuracy[-1]
    assert fine_tuned > untrained + 0.07, (fine_tuned, untrained)


def test_pre_training_needs_one_output_per_class():
    batches = AllClassBatches(torch.zeros(7, 3, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match="ConvNet\\(7\\)"):
        pretrain(ConvNet(5, channels=4), batches, steps=1, progress=False)
    with pytest.raises(TypeError, match="AllClassBatches"):
        pretrain(ConvNet(5, channels=4), EpisodeSampler(torch.zeros(7, 3, 28, 28)), steps=1, progress=False)


# ---------------------------------------------------------------------------
# The paper's inner loop, for every method


def test_the_papers_recipe_is_adam_with_beta1_zero_and_fifty_evaluation_steps():
    assert PAPER_OMNIGLOT.training() == {"k": 5, "eta": 1e-3, "batch_size": 10, "inner_optimizer": "adam"}
    assert PAPER_OMNIGLOT.evaluation() == {"k": 50, "eta": 1e-3, "batch_size": 5, "inner_optimizer": "adam"}
    changed = PAPER_OMNIGLOT.with_test(eta=3e-3)
    assert changed.evaluation()["eta"] == 3e-3 and changed.training() == PAPER_OMNIGLOT.training()
    assert PAPER_OMNIGLOT.with_train(batch_size=20).training()["batch_size"] == 20
    with pytest.raises(ValueError, match="inner_optimizer"):
        PAPER_OMNIGLOT.with_test(optimizer="rmsprop")
    with pytest.raises(ValueError, match="eta"):
        InnerRecipe("bad", InnerLoop(5, 0.0), InnerLoop(5, 0.1))


def test_every_method_takes_the_recipe_as_keywords():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (8, 12, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    train = EpisodeSampler(images, ways=5, shots=2, queries=1)
    recipe = PAPER_OMNIGLOT.with_test(k=3)
    model = ConvNet(5, channels=4)
    reptile(model, train, steps=1, epsilon=1.0, meta_batch=2, progress=False, **recipe.training())
    test = EpisodeSampler(images, ways=5, shots=1, queries=1).episodes(2, torch.Generator().manual_seed(1))
    for net in (model, with_new_head(ConvNet(8, channels=4), 5), ConvNet(5, channels=4)):
        result = evaluate(net, test, **recipe.evaluation())
        assert len(result.accuracy) == 4  # after 0, 1, 2, 3 Adam steps
    assert isinstance(test, Episodes)
