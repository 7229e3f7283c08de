"""All-class pre-training, then fine-tuning: the transfer-learning baseline of few-shot learning.

No meta-learning at all. **Pre-training** is ordinary supervised learning: one ``ConvNet`` with
C outputs learns to tell apart *all* C meta-training classes at once, from minibatches of
images with their global labels (class 17 is always output 17). For an N-way episode its C-way
output layer means nothing (the episode's labels 0 … N−1 are new and shuffled), so
``with_new_head`` **replaces the head** with a fresh N-way layer, keeps the body (the feature
extractor), and the whole network is **fine-tuned** on the support set with the very inner
loop every other method gets: ``evaluate(with_new_head(model, N), episodes, k=…, eta=…)``.

It is a strong baseline: features learned to separate many classes transfer to new ones
(Chen et al. 2019, "A Closer Look at Few-shot Classification"; Tian et al. 2020, "Rethinking
Few-Shot Image Classification: a Good Embedding Is All You Need?").
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch

from ._checks import check_choice, check_int
from .characters import CharacterSet
from .episodes import Episodes
from .methods import History, joint
from .models import ConvNet

#: How a new output layer starts: all zeros (every class equally likely before fine-tuning) or random.
HEAD_INITS = ("zero", "random")


class AllClassBatches:
    """Minibatches of images with their **global** labels, for pre-training on every class at once.

    A task source like ``EpisodeSampler``: ``episodes(T)`` returns T minibatches of
    ``batch_size`` images drawn uniformly over (class, instance), as ``Episodes`` whose support
    set is the minibatch (labels 0 … C−1 for the C classes, the same in every batch); the query
    set is the minibatch's first image (unused by ``joint``). ``rotations=True`` adds each
    class turned by 90°, 180° and 270° as three more classes (4·C labels), as ``EpisodeSampler``
    does.
    """

    loss = "ce"

    def __init__(
        self, characters: CharacterSet | torch.Tensor, *, batch_size: int = 64, rotations: bool = False
    ) -> None:
        images = characters.images if isinstance(characters, CharacterSet) else characters
        if not isinstance(images, torch.Tensor) or images.dim() != 4:
            raise TypeError(
                "characters must be a CharacterSet (e.g. builtin_alphabets('train')) or a tensor [C, I, H, W]; "
                f"got {type(characters).__name__}."
            )
        self.images = images
        self.batch_size = check_int("batch_size", batch_size)
        self.rotations = bool(rotations)

    @property
    def num_classes(self) -> int:
        """C, the number of labels (4 × the classes with rotations): the pre-trained head's width."""
        return self.images.shape[0] * (4 if self.rotations else 1)

    def __repr__(self) -> str:
        rot = ", rotations=True" if self.rotations else ""
        return f"AllClassBatches({self.num_classes} classes, batch_size={self.batch_size}{rot})"

    def episodes(
        self, num_tasks: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu"
    ) -> Episodes:
        """T minibatches: images ``[T, B, 1, H, W]`` (floats, ink = 1) and global labels ``[T, B]``."""
        t = check_int("num_tasks", num_tasks)
        base, instances = self.images.shape[:2]
        label = torch.randint(self.num_classes, (t, self.batch_size), generator=generator)
        inst = torch.randint(instances, (t, self.batch_size), generator=generator)
        x = self.images[label % base, inst]  # [T, B, H, W]
        if self.rotations:
            turns = label // base
            for r in (1, 2, 3):
                sel = turns == r
                if sel.any():
                    x[sel] = torch.rot90(x[sel], r, dims=(-2, -1))
        x = x.unsqueeze(2)
        x = x.float() / 255 if x.dtype == torch.uint8 else x.float()
        return Episodes(x, label, x[:, :1], label[:, :1], "ce").to(device)


def pretrain(
    model: ConvNet,
    batches: AllClassBatches,
    *,
    steps: int,
    lr: float = 1e-3,
    generator: torch.Generator | None = None,
    progress: bool = True,
    callback: Callable[[int, float], bool | None] | None = None,
) -> History:
    """Pre-training: Adam (learning rate ``lr``) on the cross-entropy of all C classes, ``steps`` minibatches.

    This is ``joint`` training with global labels: θ ← argmin_θ E_(x,c) [−log softmax(f_θ(x))_c].
    ``model`` must have one output per class (``ConvNet(batches.num_classes)``). Returns the run's
    ``History``; ``model`` is trained in place.
    """
    if not isinstance(batches, AllClassBatches):
        raise TypeError(f"batches must be an AllClassBatches (global labels); got {type(batches).__name__}.")
    outputs = getattr(getattr(model, "head", None), "out_features", None)
    if outputs != batches.num_classes:
        raise ValueError(
            f"pre-training on {batches.num_classes} classes needs a model with {batches.num_classes} outputs, "
            f"e.g. ConvNet({batches.num_classes}); the model has {outputs}."
        )
    history = joint(
        model, batches, steps=steps, lr=lr, meta_batch=1, generator=generator, progress=progress, callback=callback
    )
    history.method = "Pre-training"
    return history


def with_new_head(
    model: ConvNet, ways: int, *, init: str = "zero", generator: torch.Generator | None = None
) -> ConvNet:
    """A copy of ``model`` whose output layer is replaced by a new N-way layer (N = ``ways``).

    The body (convolutions and batch norms: the feature extractor) is copied unchanged; the
    head starts at zero (``init="zero"``: every class equally likely until fine-tuning moves
    it) or at PyTorch's random initialisation (``init="random"``, drawn from ``generator``).
    ``model`` itself is not changed.
    """
    if not isinstance(model, ConvNet):
        raise TypeError(f"model must be a ConvNet; got {type(model).__name__}.")
    ways = check_int("ways", ways, low=2)
    check_choice("init", init, HEAD_INITS)
    new = copy.deepcopy(model)
    device = model.head.weight.device
    new.head = torch.nn.Linear(model.features, ways, device=device)
    new.ways = ways
    with torch.no_grad():
        if init == "zero":
            new.head.weight.zero_()
            new.head.bias.zero_()
        else:
            bound = 1 / model.features**0.5  # nn.Linear's own default range, drawn from ``generator``
            new.head.weight.copy_(torch.rand(new.head.weight.shape, generator=generator) * 2 * bound - bound)
            new.head.bias.copy_(torch.rand(ways, generator=generator) * 2 * bound - bound)
    return new
