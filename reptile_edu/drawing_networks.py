"""The drawing demo's three starting points θ, and how they classify a drawing after k steps.

The demo (``reptile_edu.drawing_demo``) adapts three networks of the same shape (lesson 06's
``ConvNet``, narrower) to the learner's drawings, each from its own θ:

* **Reptile's θ**, meta-trained on the built-in alphabets' meta-training classes with lesson 06's
  recipe (5-way episodes, rotations as extra classes, k = 5 SGD steps with η = 0.1 on minibatches
  of 10, a meta-batch of 5, ε annealed from 1). It has 5 outputs; an N-way demo (N ≤ 5) uses the
  first N. Meta-training shuffled the labels in every episode, so every output is as good as any.
* **a random θ**: the same network, freshly initialised (seeded), no training at all;
* **all-class pre-training**: one classifier over all meta-training classes (and their rotations),
  whose output layer is replaced by a zero N-way layer (``reptile_edu.pretrain``).

All three are adapted the same way, the way the demo does it: k steps of SGD with η on the support
drawings, each drawing together with small random shifts of it (``drawing.shifted``), and the query
classified in one batch with the support set (non-transductive: batch norm sees no other query).

**Trained on first use, then cached.** ``demo_networks`` trains both networks (about a minute on a
laptop CPU with the full settings; seconds with the smoke settings CI uses), measures each θ on
held-out 3-way 1-shot episodes of the meta-test alphabets, and saves the weights with their SHA-256
in ``cache_dir()``, in a folder named by a hash of the settings and of the training images. New
glyphs (different images) or new settings give a new folder and a new training run; a corrupt file
is noticed by its checksum and the networks are trained again. Nothing is downloaded or shipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ._checks import check_choice, check_int, check_positive
from .cache import atomic_write, cache_dir, file_digest
from .characters import CharacterSet
from .drawing import shifted
from .i18n import tr
from .inner import adapt
from .messages import message
from .methods import reptile
from .models import ConvNet, batched_call
from .pretrain import AllClassBatches, pretrain, with_new_head
from .runtime import Budget, pick_device
from .runtime import budget as read_budget
from .sampler import EpisodeSampler

#: Bump when training or the file format changes, so old caches are not reused.
FORMAT_VERSION = 1
#: The three starting points, in the order ``classify`` returns them.
NETWORKS = ("reptile", "random", "pretrained")
#: The demo's adaptation, lesson 06's: k = 5 SGD steps with η = 0.1.
DEFAULT_K, DEFAULT_ETA = 5, 0.1


@dataclass(frozen=True)
class DemoSettings:
    """How the demo's networks are trained and measured (the cache is keyed by all of it).

    ``channels`` is the ConvNet's width; Reptile runs ``reptile_steps`` outer steps of ``ways``-way
    episodes with ``train_shots`` examples per class, k, η, ε (annealed) and ``meta_batch`` as in
    lesson 06; pre-training runs ``pretrain_steps`` Adam steps (``pretrain_lr``) on minibatches of
    ``pretrain_batch``. The full settings give both the same number of images to learn from: 150 outer
    steps × 5 tasks × 50 images = 37 500 for Reptile, 600 × 64 = 38 400 for pre-training. ``eval_tasks``
    held-out 3-way 1-shot episodes measure the three θ with the demo's adaptation (``DEFAULT_K`` steps of
    ``DEFAULT_ETA``, ``copies`` shifted copies up to ``max_shift`` pixels).
    """

    channels: int = 32
    ways: int = 5
    reptile_steps: int = 150
    train_shots: int = 10
    k: int = 5
    eta: float = 0.1
    epsilon: float = 1.0
    meta_batch: int = 5
    batch_size: int = 10
    pretrain_steps: int = 600
    pretrain_batch: int = 64
    pretrain_lr: float = 1e-3
    copies: int = 4
    max_shift: int = 2
    eval_tasks: int = 100
    seed: int = 0


#: The full settings (a learner's first use: about a minute of CPU) and the smoke settings (CI: seconds).
DEMO_SETTINGS = {
    "full": DemoSettings(),
    "smoke": DemoSettings(channels=8, reptile_steps=10, pretrain_steps=10, eval_tasks=20),
}


def data_digest(characters: CharacterSet) -> str:
    """SHA-256 of the meta-training images (shape and bytes): new glyphs give a new digest."""
    images = characters.split("train").images.contiguous()
    h = hashlib.sha256(repr(tuple(images.shape)).encode())
    h.update(images.numpy().tobytes())
    return h.hexdigest()


def cache_key(settings: DemoSettings, digest: str) -> str:
    """The cache folder's name: the format, the settings and the data, hashed."""
    blob = json.dumps({"format": FORMAT_VERSION, "settings": asdict(settings), "data": digest}, sort_keys=True)
    return f"drawing-networks-v{FORMAT_VERSION}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


class DemoNetworks:
    """Reptile's θ, a random θ and the pre-trained body, ready to adapt to drawings (see ``classify``).

    ``states`` maps ``"reptile"`` and ``"pretrained"`` to ``ConvNet(settings.ways)`` state dicts (the
    pre-trained one with a zero output layer); ``record`` is what training measured (time, load average,
    held-out accuracies), or what the cache says it measured.
    """

    def __init__(
        self,
        settings: DemoSettings,
        states: dict[str, dict[str, torch.Tensor]],
        record: dict[str, object],
        device: torch.device | str = "cpu",
    ) -> None:
        self.settings, self.states, self.record = settings, states, record
        self.device = torch.device(device)

    def network(self, name: str, ways: int) -> ConvNet:
        """The N-way network (N = ``ways``) that starts from θ ``name`` (one of ``NETWORKS``)."""
        ways = check_int("ways", ways, low=2, high=self.settings.ways)
        check_choice("name", name, NETWORKS)
        torch.manual_seed(self.settings.seed + 2)  # the random θ: the same one every time
        net = ConvNet(ways, channels=self.settings.channels)
        if name != "random":
            state = dict(self.states[name])
            state["head.weight"], state["head.bias"] = state["head.weight"][:ways], state["head.bias"][:ways]
            net.load_state_dict(state)
        return net.to(self.device)

    @torch.no_grad()
    def classify(
        self,
        support: torch.Tensor,
        query: torch.Tensor,
        *,
        k: int = DEFAULT_K,
        eta: float = DEFAULT_ETA,
        copies: int | None = None,
        max_shift: int | None = None,
        seed: int = 0,
    ) -> torch.Tensor:
        """Class probabilities of each query after adapting each θ to the support drawings.

        ``support`` is ``uint8`` ``[T, N, 28, 28]`` (one drawing of each of N classes, T episodes) or
        ``[N, 28, 28]``; ``query`` is ``[T, Q, 28, 28]`` or ``[Q, 28, 28]`` or one ``[28, 28]``. Each θ of
        ``NETWORKS`` takes k SGD steps θ̃ ← θ̃ − η∇L(θ̃) on the cross-entropy of the support drawings and
        ``copies`` − 1 shifted copies of each (up to ``max_shift`` pixels; defaults from the settings), then
        classifies every query in one batch with the support set. Returns ``[3, T, Q, N]`` probabilities
        (``[3, Q, N]`` or ``[3, N]`` for the shorter inputs).
        """
        k = check_int("k (inner steps)", k)
        eta = check_positive("η (eta)", eta)
        copies = check_int("copies", self.settings.copies if copies is None else copies)
        max_shift = check_int("max_shift", self.settings.max_shift if max_shift is None else max_shift, low=0)
        one_episode, one_query = support.dim() == 3, query.dim() == 2
        support = support.unsqueeze(0) if one_episode else support
        query = query.view(1, 1, *query.shape) if one_query else (query.unsqueeze(0) if one_episode else query)
        if support.dim() != 4 or query.dim() != 4 or support.shape[0] != query.shape[0]:
            raise ValueError(message("drawing_shapes", support=tuple(support.shape), query=tuple(query.shape)))
        t, ways = support.shape[:2]
        nets = [self.network(name, ways) for name in NETWORKS]
        m = len(nets)
        generator = torch.Generator().manual_seed(seed)
        aug = shifted(support.flatten(0, 1), copies, max_shift, generator).view(t, ways * copies, 28, 28)
        xs = (aug.float() / 255).unsqueeze(2).to(self.device)  # [T, N·copies, 1, 28, 28]
        ys = torch.arange(ways, device=self.device).repeat_interleave(copies).expand(t, -1)
        xq = (query.float() / 255).unsqueeze(2).to(self.device)  # [T, Q, 1, 28, 28]
        # The three θ as three "tasks" per episode: parameters [3·T, ...], network-major.
        params = {
            name: torch.stack([dict(net.named_parameters())[name].detach() for net in nets]).repeat_interleave(t, 0)
            for name, _ in nets[0].named_parameters()
        }
        xs3, ys3, xq3 = xs.repeat(m, 1, 1, 1, 1), ys.repeat(m, 1), xq.repeat(m, 1, 1, 1, 1)
        with torch.enable_grad():
            theta_tilde = adapt(nets[0], xs3, ys3, k=k, eta=eta, params=params, loss="ce")
        probs = []
        for q in range(xq3.shape[1]):  # each query on its own, in a batch with the support set
            logits = batched_call(nets[0], theta_tilde, torch.cat([xs3, xq3[:, q : q + 1]], 1))[:, -1]
            probs.append(torch.softmax(logits.float(), -1))
        out = torch.stack(probs, 1).view(m, t, -1, ways).cpu()
        if one_episode:
            out = out[:, 0]
            return out[:, 0] if one_query else out
        return out

    def held_out_accuracy(self, characters: CharacterSet, tasks: int, ways: int = 3) -> dict[str, float]:
        """Mean accuracy of each θ on ``tasks`` held-out ``ways``-way 1-shot episodes (meta-test alphabets,
        one query per class, seeded), with the demo's adaptation (``DEFAULT_K`` steps of ``DEFAULT_ETA``)."""
        sampler = EpisodeSampler(characters.split("test"), ways=ways, shots=1, queries=1, shuffle=False)
        ep = sampler.episodes(tasks, torch.Generator().manual_seed(self.settings.seed + 10_000))
        order = ep.y_support.argsort(1)  # support drawing n is class n
        support = ep.x_support[torch.arange(tasks).unsqueeze(1), order, 0]
        query = ep.x_query[:, :, 0]
        probs = self.classify(_as_uint8(support), _as_uint8(query), k=DEFAULT_K, eta=DEFAULT_ETA)
        correct = (probs.argmax(-1) == ep.y_query.unsqueeze(0)).float()  # [3, T, Q]
        return {name: float(correct[i].mean()) for i, name in enumerate(NETWORKS)}


def _as_uint8(x: torch.Tensor) -> torch.Tensor:
    """Float images (ink = 1) back to the data's ``uint8`` (ink = 255)."""
    return (x * 255).round().clamp(0, 255).to(torch.uint8)


def train_demo_networks(
    characters: CharacterSet,
    settings: DemoSettings,
    *,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> DemoNetworks:
    """Meta-train Reptile's θ and pre-train the all-class classifier on the meta-training alphabets of
    ``characters`` (seeded), then measure the three θ on held-out episodes. One progress bar for both."""
    s = settings
    train = characters.split("train")
    generator = torch.Generator().manual_seed(s.seed)
    bar = tqdm(total=s.reptile_steps + s.pretrain_steps, desc=tr("demo_training"), disable=not progress)
    started, cpu_started, load_before = time.perf_counter(), time.process_time(), os.getloadavg()

    def tick(_step: int, _loss: float) -> bool:
        bar.update(1)
        return True

    torch.manual_seed(s.seed)
    model = ConvNet(s.ways, channels=s.channels).to(device)
    sampler = EpisodeSampler(train, ways=s.ways, shots=s.train_shots, queries=1, rotations=True)
    reptile(
        model, sampler, steps=s.reptile_steps, k=s.k, eta=s.eta, epsilon=s.epsilon, meta_batch=s.meta_batch,
        batch_size=s.batch_size, anneal=True, generator=generator, progress=False, callback=tick,
    )  # fmt: skip
    reptile_seconds = time.perf_counter() - started
    torch.manual_seed(s.seed + 1)
    batches = AllClassBatches(train, batch_size=s.pretrain_batch, rotations=True)
    classifier = ConvNet(batches.num_classes, channels=s.channels).to(device)
    pretrain(classifier, batches, steps=s.pretrain_steps, lr=s.pretrain_lr, generator=generator, progress=False,
             callback=tick)  # fmt: skip
    bar.close()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    states = {
        "reptile": {n: t.detach().cpu().clone() for n, t in model.state_dict().items()},
        "pretrained": {n: t.detach().cpu().clone() for n, t in with_new_head(classifier, s.ways).state_dict().items()},
    }
    record: dict[str, object] = {
        "train_seconds": round(seconds, 2),
        "reptile_seconds": round(reptile_seconds, 2),
        "pretrain_seconds": round(seconds - reptile_seconds, 2),
        "train_cpu_seconds": round(cpu_seconds, 2),
        "load_average": [round(x, 2) for x in (*load_before, *os.getloadavg())],
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
    }
    networks = DemoNetworks(s, states, record, device)
    record["held_out_3way_1shot"] = networks.held_out_accuracy(characters, s.eval_tasks)
    record["eval_tasks"] = s.eval_tasks
    return networks


def _save(networks: DemoNetworks, folder: Path, digest: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.pt"
    atomic_write(weights, lambda f: torch.save(networks.states, f))
    meta = {
        "format": FORMAT_VERSION,
        "settings": asdict(networks.settings),
        "data": digest,
        "sha256": file_digest(weights),
        "record": networks.record,
    }
    atomic_write(folder / "meta.json", lambda f: f.write(json.dumps(meta, indent=1).encode()))


def _load(folder: Path, settings: DemoSettings, digest: str, device: torch.device) -> DemoNetworks:
    """The cached networks; ``ValueError`` naming the file when anything does not match."""
    meta_path, weights = folder / "meta.json", folder / "weights.pt"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        ok = meta["format"] == FORMAT_VERSION and meta["settings"] == asdict(settings) and meta["data"] == digest
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ValueError(message("file_unreadable", path=meta_path, error=err)) from err
    if not ok:
        raise ValueError(message("cache_other_settings", path=meta_path))
    try:
        if file_digest(weights) != meta["sha256"]:
            raise ValueError(message("checksum_mismatch", path=weights, meta=meta_path))
        states = torch.load(weights, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as err:
        raise ValueError(message("file_unreadable", path=weights, error=err)) from err
    return DemoNetworks(settings, states, meta["record"], device)


def demo_networks(
    characters: CharacterSet | None = None,
    *,
    settings: DemoSettings | None = None,
    budget: Budget | str | None = None,
    device: str | torch.device | None = None,
    cache: str | os.PathLike[str] | None = None,
    progress: bool = True,
    rebuild: bool = False,
) -> DemoNetworks:
    """The demo's networks: loaded from the cache, or trained now (with a progress bar) and cached.

    ``characters`` defaults to ``builtin_alphabets()``; ``settings`` to ``DEMO_SETTINGS[budget]`` (the
    budget: ``budget`` or ``$REPTILE_EDU_BUDGET``). ``cache`` overrides ``cache_dir()``; ``rebuild=True``
    trains again even if a valid cache exists. A corrupt cache is trained again, with a warning.
    """
    if characters is None:
        from .alphabets import builtin_alphabets

        characters = builtin_alphabets()
    if settings is None:
        chosen = budget if isinstance(budget, Budget) else read_budget(budget)
        settings = DEMO_SETTINGS[chosen.name]
    device = pick_device(device)
    digest = data_digest(characters)
    root = Path(cache).expanduser().resolve() if cache is not None else cache_dir()
    folder = root / cache_key(settings, digest)
    if not rebuild and (folder / "meta.json").exists():
        try:
            networks = _load(folder, settings, digest, device)
            networks.record = {**networks.record, "from_cache": True}
            return networks
        except ValueError as err:
            warnings.warn(message("demo_cache_corrupt", error=err), stacklevel=2)
    networks = train_demo_networks(characters, settings, device=device, progress=progress)
    try:
        _save(networks, folder, digest)
    except OSError as err:
        warnings.warn(message("demo_cache_unwritable", folder=folder, error=err), stacklevel=2)
    networks.record["from_cache"] = False
    return networks
