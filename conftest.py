"""Settings for every pytest run, including the kernels nbval starts for the notebooks."""

import os

# The course's models are tiny: one thread per process is fastest, and two threads on a busy
# 2-core machine slow torch down many times over. Kernels inherit this from the environment.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Notebooks run in the quick smoke setting under pytest unless told otherwise.
os.environ.setdefault("REPTILE_EDU_BUDGET", "smoke")
