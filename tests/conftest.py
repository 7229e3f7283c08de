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


@pytest.fixture(autouse=True)
def english():
    """The package's messages follow set_language(): every test starts in English, whatever the
    environment or an earlier test chose, and a test that switches to Turkish or Chinese does not leave
    the next test in that language."""
    from reptile_edu import i18n

    i18n.set_language("en")
    yield
    i18n.set_language("en")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say where the browser tests left their screenshots (the tests' own prints are captured)."""
    ran = {
        report.nodeid.split("::")[0]
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "nodeid", "").startswith("tests/test_browser") and getattr(report, "when", "") == "call"
    }
    if "tests/test_browser.py" in ran:
        from test_browser import shots_folder

        terminalreporter.write_line(f"browser test screenshots: {shots_folder()}")
    if "tests/test_browser_drawing.py" in ran:
        from test_browser_drawing import drawing_shots

        terminalreporter.write_line(f"drawing demo browser test screenshots: {drawing_shots()}")
