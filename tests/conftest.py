import pytest
import torch

# The models in the tests are tiny: one thread is faster than two, and immune to a busy machine.
torch.set_num_threads(1)


class FixedSource:
    """A task source that always hands out the same episodes (for exact comparisons)."""

    def __init__(self, episodes):
        self.ep = episodes

    def episodes(self, num_tasks, generator=None, device="cpu"):
        assert num_tasks == self.ep.num_tasks
        return self.ep.to(device)


@pytest.fixture
def fixed_source():
    return FixedSource
