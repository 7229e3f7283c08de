"""The built-in alphabets: size, difficulty, the split by alphabet, determinism and the disk cache."""

import json
import sysconfig
import time
from pathlib import Path

import pytest
import torch
from _fewshot import alphabets, cache_root, generation_cpu_seconds

import reptile_edu
from reptile_edu import CharacterSet, EpisodeSampler, builtin_alphabets, cache_dir, nearest_neighbour_accuracy
from reptile_edu import alphabets as data_module
from reptile_edu.alphabets import ALPHABETS, TEST_ALPHABETS, generate_alphabets
from reptile_edu.glyphs import skeleton


def test_the_set_is_omniglot_sized_and_generated_within_30_s_of_cpu_time():
    chars = alphabets()
    assert isinstance(chars, CharacterSet)
    assert len(chars.alphabets) >= 20
    assert chars.num_classes >= 1000
    assert chars.num_instances >= 20
    assert chars.images.shape[2:] == (28, 28) and chars.images.dtype == torch.uint8
    assert len(set(chars.class_names)) == chars.num_classes
    # Ink on paper: most pixels blank, strokes reach full ink, and every image has some ink.
    x = chars.images.float() / 255
    assert 0.05 < x.mean() < 0.3 and chars.images.max() == 255
    ink = x.flatten(2).sum(-1)
    assert (ink > 1).all() and (ink > 10).float().mean() > 0.995  # the few below 10 are dots (one-dot classes)
    assert generation_cpu_seconds() <= 30, f"generation took {generation_cpu_seconds():.1f} s of CPU time"


def test_instances_of_a_class_differ_like_hands_do():
    chars = alphabets()
    pick = torch.randperm(chars.num_classes, generator=torch.Generator().manual_seed(0))[:200]
    x = chars.images[pick].float().flatten(2) / 255  # [200, I, 784]
    # No two drawings of a class are the same, yet a drawing resembles its own class's other drawings more
    # than other classes' drawings (squared pixel distance from drawing 0 of each class), for most classes.
    d = torch.cdist(x[:, 0], x[:, 1:].flatten(0, 1)).pow(2).view(200, 200, -1)  # [anchor class, class, drawing]
    same = d.diagonal(0, 0, 1).mean(0)  # [200]
    other = d.mean(2).masked_select(~torch.eye(200, dtype=torch.bool)).view(200, 199).mean(1)
    assert (d.diagonal(0, 0, 1) > 0).all()
    assert same.mean() < 0.9 * other.mean() and (same < other).float().mean() > 0.8, (same.mean(), other.mean())


def test_no_glyph_is_clipped_at_the_border_and_strokes_are_pen_thin():
    chars = alphabets()
    x = chars.images.float() / 255
    ring = torch.ones(28, 28, dtype=torch.bool)
    ring[1:-1, 1:-1] = False
    assert x[..., ring].max() == 0  # nothing reaches the outer pixel, so no stroke is cut off by the frame
    ring[2:-2, 2:-2] = False
    assert x[..., ring].max() < 0.5  # the second ring holds at most the soft edge of a stroke
    # Stroke width = ink pixels / centre-line pixels: about 2 pixels, as a pen draws (heavy strokes were ≈ 3.5).
    sample = x.flatten(0, 1)[::13] > 0.5
    width = sample.flatten(1).sum(1) / skeleton(sample).flatten(1).sum(1).clamp_min(1)
    median, p90 = width.quantile(torch.tensor([0.5, 0.9])).tolist()
    assert 1.5 < median < 2.8 and p90 < 4, (median, p90)


def test_skeleton_thins_a_bar_to_its_centre_line_without_breaking_it():
    bar = torch.zeros(1, 12, 20, dtype=torch.bool)
    bar[0, 3:8, 2:18] = True  # a bar 5 pixels thick
    line = skeleton(bar)[0]
    assert line[5, 4:15].all() and int(line.sum(0).max()) == 1  # one pixel thick, along the middle row
    ring = torch.zeros(1, 15, 15, dtype=torch.bool)
    ring[0, 2:13, 2:13] = True
    ring[0, 5:10, 5:10] = False  # a square ring: thinning keeps it closed
    thin = skeleton(ring)[0]
    assert thin[:, 7].sum() == 2 and thin[7, :].sum() == 2 and not thin[7, 7]


def test_nearest_neighbour_on_raw_pixels_scores_like_omniglot():
    # Real Omniglot: ≈ 0.42 for 1-NN on 28×28 pixels, 5-way 1-shot. Not trivially easy, not noise.
    sampler = EpisodeSampler(alphabets(), ways=5, shots=1, queries=1)
    acc = float(nearest_neighbour_accuracy(sampler.episodes(2000, torch.Generator().manual_seed(0))).mean())
    assert 0.30 <= acc <= 0.55, acc


def test_meta_train_and_meta_test_classes_are_disjoint_by_alphabet():
    full, train, test = alphabets(), alphabets("train"), alphabets("test")
    assert set(train.alphabets).isdisjoint(test.alphabets)
    assert set(test.alphabets) == set(TEST_ALPHABETS)
    assert set(train.alphabets) | set(test.alphabets) == set(full.alphabets)
    assert set(train.class_names).isdisjoint(test.class_names)
    assert train.num_classes + test.num_classes == full.num_classes
    assert test.num_classes >= 100 and train.num_classes >= 500
    # Every class sits in its own alphabet's split, and no image of a test class is among the training images.
    for name in test.class_names:
        assert name.split(" ")[0] in {a.split(" ")[0] for a in test.alphabets}
    train_keys = {bytes(img.numpy()) for img in train.images[:, 0]}
    assert not any(bytes(img.numpy()) in train_keys for img in test.images[:, 0])


def test_generation_is_deterministic_and_a_subset_matches_the_full_set():
    a = generate_alphabets(0, alphabets=["Hebrew", "Ogham"])
    b = generate_alphabets(0, alphabets=["Hebrew", "Ogham"])
    c = generate_alphabets(1, alphabets=["Hebrew", "Ogham"])
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, c.images)
    full = alphabets()
    rows = torch.cat([full.classes_of("Hebrew"), full.classes_of("Ogham")])
    assert torch.equal(full.images[rows], a.images)
    assert a.alphabets == ("Hebrew", "Ogham") and a.test_alphabets == {"Hebrew"}


def test_sample_grid_gives_one_row_per_alphabet():
    chars = alphabets()
    grid, names = chars.sample_grid(per_alphabet=6)
    assert grid.shape == (len(chars.alphabets), 6, 28, 28)
    assert names == list(chars.alphabets) and len(names) == len(ALPHABETS)
    assert grid.dtype == torch.float32 and 0 <= grid.min() and grid.max() <= 1
    row = names.index("Latin")
    first = chars.classes_of("Latin")[0]
    assert torch.equal(grid[row, 0], chars.images[first, 0].float() / 255)
    # Random picks are reproducible; an alphabet shorter than the row is padded with blanks.
    g1, _ = chars.sample_grid(6, instance=None, generator=torch.Generator().manual_seed(3))
    g2, _ = chars.sample_grid(6, instance=None, generator=torch.Generator().manual_seed(3))
    assert torch.equal(g1, g2)
    tiny = chars.subset(chars.classes_of("Hebrew")[:2])
    padded, _ = tiny.sample_grid(4)
    assert padded[0, :2].sum() > 0 and padded[0, 2:].sum() == 0


def test_the_cached_set_loads_fast_and_equal():
    folder = next(cache_root().glob("alphabets-*"))
    assert {p.name for p in folder.iterdir()} >= {"images.npy", "meta.json"}
    data_module._MEMORY.clear()
    start = time.perf_counter()
    again = builtin_alphabets("all", cache=cache_root())
    assert time.perf_counter() - start < 5
    assert torch.equal(again.images, alphabets().images)
    assert again.class_names == alphabets().class_names


@pytest.fixture
def fake_generation(monkeypatch):
    """Replace the generator by a tiny fake one, to test the cache logic in milliseconds."""
    calls = []

    def fake(seed=0, *, instances=20, **kwargs):
        calls.append(seed)
        g = torch.Generator().manual_seed(seed)
        images = torch.randint(0, 256, (6, instances, 28, 28), generator=g, dtype=torch.uint8)
        return CharacterSet(
            images=images,
            alphabet_of=torch.tensor([0, 0, 0, 1, 1, 1]),
            alphabets=("Latin", "Hebrew"),
            class_names=tuple(f"c{i}" for i in range(6)),
            test_alphabets=frozenset({"Hebrew"}),
            source="fake",
        )

    monkeypatch.setattr(data_module, "generate_alphabets", fake)
    monkeypatch.setattr(data_module, "_MEMORY", {})
    return calls


def test_cache_is_written_reused_and_rebuilt_when_missing_or_corrupt(tmp_path, fake_generation):
    first = builtin_alphabets(cache=tmp_path)
    assert fake_generation == [0]
    (folder,) = tmp_path.iterdir()
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["shape"] == [6, 20, 28, 28] and len(meta["sha256"]) == 64

    data_module._MEMORY.clear()
    assert torch.equal(builtin_alphabets(cache=tmp_path).images, first.images)
    assert fake_generation == [0], "a valid cache must be loaded, not regenerated"
    assert builtin_alphabets("test", cache=tmp_path).alphabets == ("Hebrew",)

    # Corrupt images: detected by the checksum, rebuilt with a warning.
    data_module._MEMORY.clear()
    raw = bytearray((folder / "images.npy").read_bytes())
    raw[-10] ^= 0xFF
    (folder / "images.npy").write_bytes(bytes(raw))
    with pytest.warns(UserWarning, match=r"corrupt .*images\.npy.*rebuilding"):
        rebuilt = builtin_alphabets(cache=tmp_path)
    assert fake_generation == [0, 0] and torch.equal(rebuilt.images, first.images)

    # Garbled metadata: rebuilt too.
    data_module._MEMORY.clear()
    (folder / "meta.json").write_text("{not json", encoding="utf-8")
    with pytest.warns(UserWarning, match=r"meta\.json"):
        builtin_alphabets(cache=tmp_path)
    assert fake_generation == [0, 0, 0]

    # Missing images: rebuilt with a warning; no files at all: rebuilt silently.
    data_module._MEMORY.clear()
    (folder / "images.npy").unlink()
    with pytest.warns(UserWarning, match=r"images\.npy: unreadable"):
        builtin_alphabets(cache=tmp_path)
    assert fake_generation == [0, 0, 0, 0]
    data_module._MEMORY.clear()
    for p in folder.iterdir():
        p.unlink()
    builtin_alphabets(cache=tmp_path)
    assert fake_generation == [0, 0, 0, 0, 0] and (folder / "images.npy").exists()
    # A different seed is a different cache entry.
    builtin_alphabets(cache=tmp_path, seed=5)
    assert fake_generation[-1] == 5 and len(list(tmp_path.iterdir())) == 2


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REPTILE_EDU_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == (tmp_path / "mine").resolve()
    monkeypatch.delenv("REPTILE_EDU_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == (tmp_path / "xdg" / "reptile-edu").resolve()
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == (tmp_path / "home" / ".cache" / "reptile-edu").resolve()


@pytest.mark.parametrize(
    "inside",
    [Path(reptile_edu.__file__).parent / "cache", Path(sysconfig.get_paths()["purelib"]) / "reptile-edu"],
)
def test_cache_is_never_inside_the_installed_package_or_site_packages(monkeypatch, inside):
    monkeypatch.setenv("REPTILE_EDU_CACHE", str(inside))
    with pytest.raises(ValueError, match=r"lies inside .* where installed packages live; set REPTILE_EDU_CACHE"):
        cache_dir()


def test_default_cache_is_under_the_users_home(monkeypatch, tmp_path):
    monkeypatch.delenv("REPTILE_EDU_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path.resolve() / ".cache" / "reptile-edu"


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'test', 'all'; got 'val'"):
        builtin_alphabets("val")
    with pytest.raises(ValueError, match=r"instances must be an integer ≥ 2; got 1"):
        builtin_alphabets(instances=1)
    with pytest.raises(ValueError, match=r"alphabets must be one of .*; got 'Klingon'"):
        generate_alphabets(alphabets=["Klingon"])
    with pytest.raises(ValueError, match=r"alphabet must be one of"):
        alphabets().classes_of("Klingon")
