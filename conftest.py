"""Settings for every pytest run, including the kernels nbval starts for the notebooks."""

import os

# The course's models are tiny: one thread per process is fastest, and two threads on a busy
# 2-core machine slow torch down many times over. Kernels inherit this from the environment.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Notebooks run in the quick smoke setting under pytest unless told otherwise.
os.environ.setdefault("REPTILE_EDU_BUDGET", "smoke")


import pytest  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel while setting up its first cell: give that kernel the notebook's
    path in JPY_SESSION_NAME, as JupyterLab does, so that set_language() reads the language the notebook
    records in its metadata (reptile_edu.notebook_file). Only the kernel's start sees it."""
    path = str(getattr(item, "fspath", ""))
    if not path.endswith(".ipynb"):
        yield
        return
    before = os.environ.get("JPY_SESSION_NAME")
    os.environ["JPY_SESSION_NAME"] = os.path.abspath(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("JPY_SESSION_NAME", None)
        else:
            os.environ["JPY_SESSION_NAME"] = before
