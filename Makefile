# reptile-edu: `make lab` opens the course, `make test` runs the tests.
# Both create a virtual environment in .venv on first use (Python 3.10+).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.reptile-edu-ready

.PHONY: setup lab test test-fast lint clean sync notebooks check-notebooks browser-setup test-browser demo

setup: $(READY)

$(READY): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("reptile-edu needs Python 3.10 or newer; this is " + sys.version.split()[0]) if sys.version_info < (3, 10) else None'
	$(PYTHON) -m venv $(VENV)
	@# A torch wheel that pip can find locally (a wheelhouse in pip's find-links) is used as it is;
	@# otherwise the next line takes torch from PyPI. To use a particular torch build, install it
	@# into .venv first: the next line keeps any torch>=2.1 it finds.
	-@$(BIN)/pip install --quiet --no-index --no-deps torch >/dev/null 2>&1
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

# Jupyter refuses to start as root (a container, a lab machine) unless told --allow-root.
lab: $(READY)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

# The drawing demo and lesson 04's playground as pages without code (Voilà), for projecting in class. The
# browser opens a list of the pages (demos/draw.ipynb, demos/sine.ipynb); ?lang=tr or ?lang=zh at the end of a
# page's address, or `make demo DEMO_LANG=tr`, switches the language; DEMO_PORT changes the port.
DEMO_PORT ?= 8866
DEMO_LANG ?= en
demo: $(READY)
	@echo "Drawing demo:         http://localhost:$(DEMO_PORT)/voila/render/draw.ipynb?lang=$(DEMO_LANG)"
	@echo "Lesson 04 playground: http://localhost:$(DEMO_PORT)/voila/render/sine.ipynb?lang=$(DEMO_LANG)"
	REPTILE_EDU_LANG=$(DEMO_LANG) $(BIN)/voila demos/ --port=$(DEMO_PORT) --show_tracebacks=True

# Tests and notebooks run on two processes (a notebook stays in one); the models are small enough
# that one torch thread per process is fastest.
test: $(READY)
	$(BIN)/ruff check .
	OMP_NUM_THREADS=1 REPTILE_EDU_BUDGET=smoke $(BIN)/python -m pytest -n 2 --dist loadfile

# The quick tier while working on the package: ruff and every test in tests/ but the browser tests; no
# notebooks are run. About a minute of CPU time, well under 2 minutes on 2 cores.
test-fast: $(READY)
	$(BIN)/ruff check .
	OMP_NUM_THREADS=1 REPTILE_EDU_BUDGET=smoke $(BIN)/python -m pytest tests --ignore=tests/test_browser.py --ignore=tests/test_browser_drawing.py -n 2 --dist loadfile

# The browser test (tests/test_browser.py: JupyterLab in headless Chromium) needs Playwright, installed
# here into .venv, and Chromium plus a Chinese font, installed with apt-get when run as root (CI);
# elsewhere the script says what to install. Without Chromium, `make test` skips the browser test.
browser-setup: $(READY)
	$(BIN)/pip install --quiet -e ".[browser]"
	tools/install-browser.sh

# The browser tests alone (JupyterLab; the drawing demo in JupyterLab and on the Voilà page); their
# screenshots go to build/browser-test/ and build/browser-test-drawing/.
test-browser: $(READY)
	OMP_NUM_THREADS=1 REPTILE_EDU_BUDGET=smoke $(BIN)/python -m pytest tests/test_browser.py tests/test_browser_drawing.py -v

lint: $(READY)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Notebooks: copy English code cells into tr/zh; run all notebooks (full budget) and save outputs; check them.
sync: $(READY)
	$(BIN)/python tools/notebooks.py sync

# One torch thread: the committed timings then do not depend on how busy the machine is.
notebooks: $(READY)
	OMP_NUM_THREADS=1 REPTILE_EDU_BUDGET=full $(BIN)/python tools/notebooks.py execute $(NB)

check-notebooks: $(READY)
	$(BIN)/python tools/notebooks.py check
