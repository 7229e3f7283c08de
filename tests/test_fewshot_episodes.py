"""The N-way K-shot episode sampler: shapes, labels, sampling without overlap, seeds, rotations, errors."""

import pytest
import torch

from reptile_edu import Episodes, EpisodeSampler, SineFamily, nearest_neighbour_accuracy

CLASSES, INSTANCES = 30, 20


def coded_images(classes=CLASSES, instances=INSTANCES):
    """uint8 images whose pixels say which (class, instance) they are, plus an asymmetric mark for rotations."""
    x = torch.zeros(classes, instances, 28, 28, dtype=torch.uint8)
    x[:, :, 0, 0] = torch.arange(classes, dtype=torch.uint8).view(-1, 1) + 1
    x[:, :, 0, 1] = torch.arange(instances, dtype=torch.uint8).view(1, -1) + 1
    x[:, :, 5, 20:] = 200  # a horizontal bar in the top half: shows any rotation
    return x


def decode(images):
    """(class, instance) of float images [..., 1, 28, 28] that were not rotated."""
    px = (images[..., 0, 0, :2] * 255).round().long() - 1
    return px[..., 0], px[..., 1]


def test_shapes_dtypes_and_loss():
    sampler = EpisodeSampler(coded_images(), ways=5, shots=3, queries=2)
    ep = sampler.episodes(7, torch.Generator().manual_seed(0))
    assert isinstance(ep, Episodes) and ep.loss == "ce"
    assert ep.x_support.shape == (7, 15, 1, 28, 28) and ep.x_support.dtype == torch.float32
    assert ep.y_support.shape == (7, 15) and ep.y_support.dtype == torch.long
    assert ep.x_query.shape == (7, 10, 1, 28, 28) and ep.y_query.shape == (7, 10)
    assert 0 <= ep.x_support.min() and ep.x_support.max() <= 1


def test_each_episode_is_n_distinct_classes_with_k_plus_q_distinct_instances():
    n, k, q = 5, 3, 2
    ep = EpisodeSampler(coded_images(), ways=n, shots=k, queries=q).episodes(50, torch.Generator().manual_seed(1))
    cs, is_ = decode(ep.x_support)
    cq, iq = decode(ep.x_query)
    for t in range(50):
        assert sorted(ep.y_support[t].tolist()) == sorted(list(range(n)) * k)
        assert sorted(ep.y_query[t].tolist()) == sorted(list(range(n)) * q)
        classes = {}
        for cls, label in zip(cs[t].tolist() + cq[t].tolist(), ep.y_support[t].tolist() + ep.y_query[t].tolist()):
            classes.setdefault(label, set()).add(cls)
        assert all(len(v) == 1 for v in classes.values()), "one class per label"
        assert len({next(iter(v)) for v in classes.values()}) == n, "N distinct classes"
        pairs = list(zip(cs[t].tolist(), is_[t].tolist())) + list(zip(cq[t].tolist(), iq[t].tolist()))
        assert len(set(pairs)) == n * (k + q), "no drawing is both in the support and the query set"


def test_labels_are_permuted_per_episode():
    ep = EpisodeSampler(coded_images(), ways=5, shots=1, queries=1, shuffle=False).episodes(
        400, torch.Generator().manual_seed(2)
    )
    cs, _ = decode(ep.x_support)
    # Which label does the smallest class of each episode get? Every label, about equally often.
    smallest = ep.y_support.gather(1, cs.argmin(1, keepdim=True)).flatten()
    counts = torch.bincount(smallest, minlength=5)
    assert (counts > 50).all(), counts
    # Unshuffled, the support set is grouped by drawn class; shuffled, examples are in random order.
    assert not torch.equal(ep.y_support, torch.arange(5).expand(400, 5))
    grouped = EpisodeSampler(coded_images(), ways=3, shots=4, shuffle=False).episodes(20, torch.Generator())
    assert (grouped.y_support.view(20, 3, 4) == grouped.y_support.view(20, 3, 4)[:, :, :1]).all()
    mixed = EpisodeSampler(coded_images(), ways=3, shots=4).episodes(20, torch.Generator().manual_seed(0))
    assert not (mixed.y_support.view(20, 3, 4) == mixed.y_support.view(20, 3, 4)[:, :, :1]).all()


def test_a_generator_seed_fixes_every_episode():
    sampler = EpisodeSampler(coded_images(), ways=5, shots=2, queries=3, rotations=True)
    a = sampler.episodes(10, torch.Generator().manual_seed(7))
    b = sampler.episodes(10, torch.Generator().manual_seed(7))
    c = sampler.episodes(10, torch.Generator().manual_seed(8))
    for name in ("x_support", "y_support", "x_query", "y_query"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.x_support, c.x_support)


def test_rotations_add_three_rotated_copies_of_every_class():
    images = coded_images(classes=4, instances=6)
    sampler = EpisodeSampler(images, ways=16, shots=2, queries=1, rotations=True, shuffle=False)
    assert sampler.num_classes == 16
    ep = sampler.episodes(3, torch.Generator().manual_seed(0))
    originals = images.float().div(255)
    for t in range(3):
        found = set()
        x = ep.x_support[t, :, 0].view(16, 2, 28, 28)
        for group in x:
            # Each group (one label) is r quarter turns of one class, the same r for all its shots.
            matches = [
                (c, r)
                for c in range(4)
                for r in range(4)
                if any(torch.equal(torch.rot90(originals[c, i], r), group[0]) for i in range(6))
            ]
            assert len(matches) == 1
            c, r = matches[0]
            assert any(torch.equal(torch.rot90(originals[c, i], r), group[1]) for i in range(6))
            found.add((c, r))
        assert len(found) == 16  # with 16-way on 4 classes × 4 rotations, every rotation of every class


def test_works_from_a_character_set_and_on_another_device_argument():
    from reptile_edu import CharacterSet

    chars = CharacterSet(
        coded_images(), torch.zeros(CLASSES, dtype=torch.long), ("A",), tuple(map(str, range(CLASSES)))
    )
    ep = EpisodeSampler(chars, ways=2, shots=1).episodes(3, device="cpu")
    assert ep.x_support.device.type == "cpu" and ep.num_tasks == 3


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"ways": 31}, r"ways must be an integer between 2 and 30; got 31 \(there are 30 classes\)\.$"),
        ({"ways": 1}, r"ways must be an integer between 2 and 30; got 1"),
        (
            {"ways": 121, "rotations": True},
            r"ways must be an integer between 2 and 120; got 121 \(there are 120 classes",
        ),
        (
            {"shots": 25},
            r"shots must be an integer between 1 and 19; got 25 \(each class has 20 instances, "
            r"and shots \+ queries \(1\) must fit in them\)\.",
        ),
        ({"shots": 16, "queries": 5}, r"shots must be an integer between 1 and 15; got 16"),
        ({"queries": 20}, r"queries must be an integer between 1 and 19; got 20"),
        ({"queries": 0}, r"queries must be an integer between 1 and 19; got 0"),
    ],
)
def test_impossible_episodes_are_clear_errors(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        EpisodeSampler(coded_images(), **kwargs)


def test_wrong_inputs_are_clear_errors():
    with pytest.raises(TypeError, match=r"characters must be a CharacterSet .* or a tensor \[C, I, H, W\]; got list"):
        EpisodeSampler([1, 2, 3])
    with pytest.raises(TypeError, match=r"got Tensor\(5, 28, 28\)"):
        EpisodeSampler(torch.zeros(5, 28, 28))
    with pytest.raises(ValueError, match=r"num_tasks must be an integer ≥ 1; got 0"):
        EpisodeSampler(coded_images()).episodes(0)
    with pytest.raises(ValueError, match=r"needs classification episodes"):
        nearest_neighbour_accuracy(SineFamily().episodes(2))


def test_nearest_neighbour_accuracy_on_hand_made_episodes():
    xs = torch.eye(3).view(1, 3, 1, 1, 3).repeat(2, 1, 1, 1, 1)  # three one-hot "images"
    ys = torch.tensor([[0, 1, 2], [2, 0, 1]])
    xq = torch.tensor([[0.9, 0.1, 0.0], [0.0, 0.2, 0.8]]).view(1, 2, 1, 1, 3).repeat(2, 1, 1, 1, 1)
    yq = torch.tensor([[0, 2], [2, 0]])  # task 0 right twice; task 1: first right, second wrong (nearest is label 1)
    acc = nearest_neighbour_accuracy(Episodes(xs, ys, xq, yq, "ce"))
    assert acc.tolist() == [1.0, 0.5]
