"""Meta-learning works on characters: a short seeded Reptile run on the built-in meta-training alphabets
classifies held-out alphabets, 5-way 1-shot, clearly above chance and better than the same net untrained."""

import torch
from _fewshot import alphabets, one_thread

from reptile_edu import ConvNet, EpisodeSampler, evaluate, reptile, seed_everything


@one_thread()
def test_a_short_reptile_run_beats_chance_on_5_way_1_shot():
    g = seed_everything(0)
    model = ConvNet(5)
    held_out = EpisodeSampler(alphabets("test"), ways=5, shots=1, queries=2)
    # 100 held-out episodes, adapted with 3 SGD steps (η = 0.1) on one example per class.
    tasks = held_out.episodes(100, torch.Generator().manual_seed(99))
    untrained = evaluate(model, tasks, k=3, eta=0.1).accuracy[-1]
    # Reptile as in the paper but short: 5-way tasks with 10 shots, 5 inner steps on minibatches of 10.
    train = EpisodeSampler(alphabets("train"), ways=5, shots=10, queries=1)
    reptile(model, train, steps=20, k=5, eta=0.1, epsilon=1.0, meta_batch=5, batch_size=10, generator=g, progress=False)
    trained = evaluate(model, tasks, k=3, eta=0.1)
    chance = 1 / 5
    assert trained.accuracy[-1] > 2 * chance, trained.accuracy
    assert trained.accuracy[-1] > untrained, (trained.accuracy[-1], untrained)
    assert trained.accuracy[0] < 0.3  # before adapting, θ cannot know this episode's labels
