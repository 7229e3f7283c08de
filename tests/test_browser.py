"""The course as a learner meets it: JupyterLab in a real (headless) Chromium, driven by Playwright.

First the test switches JupyterLab's own interface to Turkish and then to Chinese through
Settings → Language, as lesson 00 tells a learner to, and finds the translated Run menu (the
language packs are installed with the course). Then, for each language, it opens lesson 04 in
JupyterLab, runs all cells from the Run menu, and uses the Reptile playground the way a learner
would: it reads the slider and button labels, sets the number of outer steps, clicks Run, watches
the progress bar and the figure, types a divergent η into the η slider's readout and clicks Run
again. Screenshots of every stage go to a folder that the test prints (``build/browser-test/``
unless ``REPTILE_EDU_BROWSER_SHOTS`` names another).

Needs Chromium (Debian: ``apt install chromium``; another Chromium or Chrome through
``REPTILE_EDU_CHROMIUM=/path/to/chrome``) and Playwright for Python (``make browser-setup`` installs
both where it can). Without them the test is skipped with a message that says what is missing;
with ``REPTILE_EDU_REQUIRE_BROWSER=1`` (set by ``.ci/run``) a missing piece fails instead.
Run it alone with ``make test-browser``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reptile_edu.i18n import LANGUAGES, STRINGS

ROOT = Path(__file__).resolve().parents[1]
LESSON = "04_reptile.ipynb"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Without the networking flags Chromium keeps trying to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Lab settings for a test run: every cell in the page (no windowing), no news pop-up, no autosave.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
# JupyterLab's interface languages (the language packs installed with the course), as a learner meets them:
# the name in the Settings → Language menu, and the menu labels the test then expects: Settings, Language, Run,
# and Run All (the Run menu's label for "Run All Cells" while no notebook is open). Lesson 00 names these menus.
INTERFACE = {
    "en": ("English", ("Settings", "Language", "Run", "Run All")),
    "tr": ("Türkçe (Türkiye)", ("Ayarlar", "Dil", "Çalıştır", "Tümünü Çalıştır")),
    "zh": ("中文 (简体, 中国)", ("设置", "语言", "运行", "运行所有")),
}
LOCALE_SETTINGS = "/lab/api/settings/@jupyterlab/translation-extension:plugin"
RUN_STEPS = 1000  # outer steps typed into the playground before Run: a few seconds, to watch the progress bar move
DIVERGENT_ETA = 5.0  # typed into the η readout; SGD on the sine tasks blows up at once


def text(key: str, lang: str, **fields: object) -> str:
    return STRINGS[key][LANGUAGES.index(lang)].format(**fields)


def pattern(key: str, lang: str, **known: object) -> re.Pattern[str]:
    """A regex for the text ``key`` in ``lang``: fields in ``known`` filled in, the others matching anything."""
    parts = []
    for literal, field, spec, _ in string.Formatter().parse(STRINGS[key][LANGUAGES.index(lang)]):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(re.escape(format(known[field], spec)) if field in known else ".+?")
    return re.compile("".join(parts), re.S)


def find_chromium() -> str | None:
    if os.environ.get("REPTILE_EDU_CHROMIUM"):
        return os.environ["REPTILE_EDU_CHROMIUM"]
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def missing_pieces() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright for Python (pip install playwright, or make browser-setup)")
    chromium = find_chromium()
    if chromium is None:
        missing.append("Chromium (Debian/Ubuntu: apt install chromium; or set REPTILE_EDU_CHROMIUM=/path/to/chrome)")
    elif not os.access(chromium, os.X_OK):
        missing.append(f"Chromium: REPTILE_EDU_CHROMIUM={chromium} is not an executable file")
    return missing


def shots_folder() -> Path:
    """Where the screenshots go: ``$REPTILE_EDU_BROWSER_SHOTS``, else ``build/browser-test/``."""
    return Path(os.environ.get("REPTILE_EDU_BROWSER_SHOTS", ROOT / "build" / "browser-test")).resolve()


@pytest.fixture(scope="module")
def shots_dir() -> Path:
    folder = shots_folder()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nbrowser test screenshots: {folder}")  # shown with -s; the terminal summary says it too
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server from this environment on 127.0.0.1, serving a copy of ``notebooks/``."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = workdir / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(workdir / "lab-workspaces"),
            JUPYTER_DATA_DIR=str(workdir / "jupyter-data"),  # kernels: only this environment's python3
            JUPYTER_RUNTIME_DIR=str(workdir / "jupyter-runtime"),
            REPTILE_EDU_BUDGET=os.environ.get("REPTILE_EDU_BUDGET", "smoke"),
            OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
        )
        env.pop("REPTILE_EDU_LANG", None)  # the language must come from the notebook's folder
        self.log_path = workdir / "jupyterlab.log"
        self._log = self.log_path.open("w")
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._wait_until_up(timeout=90)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def api(self, path: str, method: str = "GET", body: object = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Authorization", f"token {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def _wait_until_up(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log()}")
            try:
                self.api("/api/status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer on {self.url} within {timeout:.0f} s:\n{self.log()}")

    def shutdown_kernels(self) -> None:
        for kernel in json.loads(self.api("/api/kernels")):
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")

    def close(self) -> None:
        """Stop the server and its kernels, politely first, by force if need be."""
        if self.process.poll() is None:
            try:
                self.api("/api/shutdown", method="POST")
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self._log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory):
    missing = missing_pieces()
    if missing:
        message = "browser test skipped: missing " + " and ".join(missing)
        if os.environ.get("REPTILE_EDU_REQUIRE_BROWSER") == "1":
            pytest.fail(message.replace("skipped", "required (REPTILE_EDU_REQUIRE_BROWSER=1) but"), pytrace=False)
        pytest.skip(message)
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def browser(lab: Lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def wait_for(condition, timeout: float, what: str, poll: float = 0.2):
    """Poll ``condition()`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def prompts(page) -> list[str]:
    """Each code cell's execution prompt ("[3]:", "[*]:", "[ ]:"). A cell whose input is folded away (a
    solution's code, source_hidden) shows no input prompt, so its output's prompt stands in for it."""
    return page.locator(".jp-CodeCell").evaluate_all(
        r"""cells => cells.map(cell => {
            const text = el => (el ? el.textContent.trim() : "");
            const input = text(cell.querySelector(".jp-InputPrompt"));
            return /^\[[0-9*]+\]:$/.test(input) ? input : text(cell.querySelector(".jp-OutputPrompt")) || input;
        })"""
    )


def exactly(label: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(label)}$")


def open_menu(page, menu: str, item: str) -> None:
    """Click ``menu`` in the menu bar until its ``item`` shows: while JupyterLab is still laying out a page
    that has just loaded (the launcher opening), a first click can be swallowed."""
    for _ in range(10):
        page.locator(".lm-MenuBar-itemLabel", has_text=exactly(menu)).click()
        try:
            page.locator(".lm-Menu-itemLabel", has_text=exactly(item)).wait_for(state="visible", timeout=2000)
            return
        except Exception:  # Playwright's TimeoutError: close whatever opened and try again
            page.keyboard.press("Escape")
    raise AssertionError(f"the {menu!r} menu never showed {item!r}")


def switch_interface(page, shown: str, lang: str) -> None:
    """Settings → Language → ``lang`` in the ``shown`` language's menus, then "Change and reload" in the dialog.
    A click that JupyterLab swallows while busy is tried again."""
    settings, language, _, _ = INTERFACE[shown][1]
    for _ in range(5):
        open_menu(page, settings, language)
        page.locator(".lm-Menu-itemLabel", has_text=exactly(language)).click()
        page.locator(".lm-Menu-itemLabel", has_text=INTERFACE[lang][0]).click()
        try:
            page.locator(".jp-Dialog .jp-mod-accept").wait_for(state="visible", timeout=5000)
            break
        except Exception:  # Playwright's TimeoutError: no dialog yet, close the menus and try again
            page.keyboard.press("Escape")
    page.locator(".jp-Dialog .jp-mod-accept").click()  # "Change interface language?" → change and reload


def menus_in(page, lang: str, timeout: float = 90) -> list[str]:
    """The menu bar once it shows ``lang``'s Settings and Run menus (the page reloads meanwhile). If the
    reloaded page still shows the old language, reload it once more, as a learner would press F5."""
    settings, _, run, _ = INTERFACE[lang][1]
    start = time.monotonic()
    reloaded = False
    labels: list[str] = []
    while time.monotonic() - start < timeout:
        try:
            labels = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        except Exception:  # the page is navigating
            labels = []
        if run in labels and settings in labels:
            return labels
        if not reloaded and labels and time.monotonic() - start > 20:
            page.reload()
            reloaded = True
        time.sleep(0.5)
    raise AssertionError(f"{lang}: after {timeout:.0f} s JupyterLab's menus are {labels}")


def test_jupyterlab_interface_switches_to_turkish_and_chinese(lab: Lab, browser, shots_dir: Path) -> None:
    """Settings → Language → Türkçe, then Ayarlar → Dil → 中文: JupyterLab reloads with its menus translated."""
    shots = shots_dir / "interface"
    shots.mkdir()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{lab.url}/lab/workspaces/interface?reset&token={lab.token}")
        page.wait_for_selector(".lm-MenuBar-itemLabel")
        shown = "en"
        for lang in ("tr", "zh"):
            switch_interface(page, shown, lang)
            menus_in(page, lang)
            shown = lang
            _, _, run, run_all = INTERFACE[lang][1]
            open_menu(page, run, run_all)
            items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
            assert run_all in items, f"{lang}: the Run menu ({run}) shows {items}"
            page.screenshot(path=shots / f"{lang}-run-menu.png")
            page.keyboard.press("Escape")
    except BaseException:
        page.screenshot(path=shots / "failure.png", full_page=True)
        raise
    finally:
        context.close()
        # Back to English for the lesson tests, which use JupyterLab's English menus.
        lab.api(LOCALE_SETTINGS, method="PUT", body={"raw": json.dumps({"locale": "en"})})


@pytest.mark.parametrize("lang", LANGUAGES)
def test_lesson_04_playground_in_jupyterlab(lang: str, lab: Lab, browser, shots_dir: Path) -> None:
    shots = shots_dir / lang
    shots.mkdir()
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale={"zh": "zh-CN"}.get(lang, lang))
    page = context.new_page()
    page.set_default_timeout(60_000)
    console_errors: list[str] = []
    page.on("pageerror", lambda err: console_errors.append(str(err)))
    try:
        # Open the lesson and wait for its kernel.
        # A fresh workspace per language, so that no tab from an earlier language is restored.
        page.goto(f"{lab.url}/lab/workspaces/test-{lang}/tree/{lang}/{LESSON}?reset&token={lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
        assert page.locator(".jp-NotebookPanel").count() == 1, "expected exactly one open notebook"
        kernel_status = page.locator(".jp-StatusBar-Widget", has_text="Python")
        wait_for(lambda: "Idle" in " ".join(kernel_status.all_inner_texts()), 90, "an idle kernel")

        # Run → Run All Cells, as a learner would, then wait until every code cell has run.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        total = len(prompts(page))
        assert total > 10, f"lesson 04 shows only {total} code cells"
        page.wait_for_timeout(1000)
        # Done when no cell waits any more ([*]) and the kernel is idle: all ran, or Run All stopped at an error.
        wait_for(
            lambda: not any("*" in p for p in prompts(page)) and "Idle" in " ".join(kernel_status.all_inner_texts()),
            240,
            "Run All Cells to finish",
            poll=0.5,
        )
        page.screenshot(path=shots / "1-notebook-ran.png")

        # The set-up cell found the notebook's language (its metadata, else its folder) and says so last,
        # in the notebook's own words ("language: en", "dil: tr", "语言：zh").
        setup_output = page.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output").inner_text()
        said_language = re.search(rf"[:：]\s*{lang}$", setup_output.rstrip())
        assert said_language, f"{lang}: the set-up cell printed {setup_output!r}"

        # No cell shows an error.
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        errors = [o for o in outputs if "Traceback" in o or re.search(r"^\w*(Error|Exception)\b", o, re.M)]
        assert not errors, f"{lang}: cells show errors:\n" + "\n---\n".join(errors)
        not_run = [i for i, p in enumerate(prompts(page)) if not re.fullmatch(r"\[\d+\]:", p.strip())]
        assert not not_run, f"{lang}: code cells {not_run} did not run"

        # The playground: sliders for k, η, ε and the Run button, labelled in the notebook's language.
        panel = page.locator(".jp-OutputArea-output .widget-vbox").filter(
            has=page.locator(".widget-button", has_text=text("run", lang))
        )
        panel.first.scroll_into_view_if_needed()
        panel = panel.first
        labels = panel.locator(".widget-label").all_inner_texts()
        for key in ("k", "eta", "epsilon"):
            assert text(key, lang) in labels, f"{lang}: no slider labelled {text(key, lang)!r}; labels: {labels}"
        if lang != "en":
            assert text("k", "en") not in labels, f"{lang}: the sliders still have English labels: {labels}"
        run_button = panel.locator("button", has_text=text("run", lang))
        assert run_button.is_visible() and run_button.is_enabled()
        image = panel.locator(".widget-image")
        panel.screenshot(path=shots / "2-playground.png")
        before = image.screenshot()

        # Set the number of outer steps, click Run: the progress bar moves, the status and the figure change.
        steps_box = panel.locator(".widget-text", has_text=text("steps", lang)).locator("input")
        steps_box.fill(str(RUN_STEPS))
        steps_box.press("Enter")
        bar = panel.locator(".progress-bar")
        run_button.click()
        seen: set[float] = set()
        training = pattern("training", lang)
        done = pattern("done", lang, step=RUN_STEPS)
        status = panel.locator(".widget-html")

        statuses: list[str] = []

        def finished() -> bool:
            seen.add(float(bar.evaluate("el => el.style.width").rstrip("%") or 0))
            statuses.append(status.inner_text())
            return bool(done.search(statuses[-1]))

        wait_for(finished, 120, "the playground to finish training", poll=0.1)
        page.wait_for_timeout(500)  # the last figure follows the status line
        panel.screenshot(path=shots / "3-after-run.png")
        partial = sorted(w for w in seen if 0 < w < 100)
        assert partial, f"{lang}: the progress bar never showed a partial value; widths seen: {sorted(seen)}"
        assert max(seen) == 100
        assert any(training.search(s) for s in statuses), f"{lang}: the status never showed training: {statuses[:3]}"
        assert image.screenshot() != before, f"{lang}: the figure did not change after Run"
        assert run_button.is_enabled()

        # A divergent η, typed into the η slider's readout: the divergence message shows in the widget.
        eta_slider = panel.locator(".widget-slider", has_text=text("eta", lang))
        readout = eta_slider.locator(".widget-readout")
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(f"{DIVERGENT_ETA:g}")
        page.keyboard.press("Enter")
        wait_for(lambda: number(readout.inner_text()) == DIVERGENT_ETA, 10, f"the η readout to show {DIVERGENT_ETA:g}")
        run_button.click()
        diverged = pattern("diverged", lang, eta=DIVERGENT_ETA)
        wait_for(lambda: diverged.search(status.inner_text()), 60, "the divergence message")
        panel.screenshot(path=shots / "4-diverged.png")
        assert not console_errors, f"{lang}: the page raised JavaScript errors: {console_errors}"
    except BaseException:
        page.screenshot(path=shots / "failure.png", full_page=True)
        raise
    finally:
        context.close()
        lab.shutdown_kernels()
