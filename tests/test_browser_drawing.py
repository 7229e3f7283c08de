"""The drawing demo as a learner and a teacher meet it: pads drawn on with the mouse in headless Chromium.

In JupyterLab (the server and browser of ``test_browser.py``), the test opens the demo's notebook
(``demos/draw.ipynb``, copied into the folder the server serves), runs its cell, draws a circle, a cross
and a vertical bar on the three class pads and a new, smaller cross on the query pad, presses Classify and
reads Reptile's prediction: class 2. It does not open lesson 06, so that the lesson can be rewritten freely;
the demo's cells in lesson 06 run under nbval with the other notebooks. On the Voilà
page of ``make demo`` (in Chinese, ``?lang=zh``), it first presses Classify with empty pads (the message
names them), then draws the same three shapes and a new bar, and reads class 3. The networks are the
smoke setting's (trained in seconds on first use, then cached). Screenshots go to
``build/browser-test-drawing/`` (next to the other browser test's folder).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401  (fixtures: lab, browser)
    ROOT,
    Lab,
    browser,
    free_port,
    lab,
    shots_folder,
    text,
    wait_for,
)

PAD = 160  # the pads' size in pixels (DrawingDemo's default)


def drawing_shots() -> Path:
    folder = shots_folder()
    return folder.with_name(folder.name + "-drawing")


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = drawing_shots()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def circle(cx: float, cy: float, r: float) -> list[list[tuple[float, float]]]:
    return [[(cx + r * math.cos(a * math.pi / 10), cy + r * math.sin(a * math.pi / 10)) for a in range(21)]]


def cross(x0: float, y0: float, size: float) -> list[list[tuple[float, float]]]:
    return [[(x0, y0), (x0 + size, y0 + size)], [(x0 + size, y0), (x0, y0 + size)]]


def bar(x: float, y0: float, y1: float) -> list[list[tuple[float, float]]]:
    return [[(x, y0), (x, y0 + (y1 - y0) / 2), (x, y1)]]


CLASSES = [circle(80, 80, 55), cross(30, 30, 100), bar(80, 20, 140)]  # classes 1, 2, 3


def draw(page, canvas, strokes) -> None:
    """Draw ``strokes`` (pad pixels) on ``canvas`` with the mouse: press, move in small steps, release."""
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    sx, sy = box["width"] / PAD, box["height"] / PAD
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=4)
        page.mouse.up()


def failure_shot(page, path: Path) -> None:
    """A screenshot of the page as the test failed; if even that fails (a starved browser), the test's own error
    is still the one reported."""
    try:
        page.screenshot(path=path, full_page=True, timeout=15_000)
    except Exception as err:  # noqa: BLE001
        print(f"no failure screenshot: {err}")


def draw_and_classify(page, demo, lang: str, query, expected: int, shots: Path, name: str) -> None:
    """Draw the three classes and ``query`` on the demo's pads, press Classify, check Reptile's answer."""
    pads = demo.locator("canvas.reptile-edu-pad")
    wait_for(lambda: pads.count() >= 4, 30, "the drawing pads")
    for i, strokes in enumerate(CLASSES):
        draw(page, pads.nth(i), strokes)
    draw(page, demo.locator(".reptile-edu-query canvas.reptile-edu-pad"), query)
    demo.locator("button", has_text=text("classify", lang)).click()
    verdict = demo.locator(".reptile-edu-prediction-reptile")
    wait_for(lambda: verdict.count() == 1, 60, "Reptile's prediction")
    got = verdict.inner_text()
    demo.screenshot(path=shots / f"{name}.png")
    assert text("class_n", lang, c=expected) in got, f"{name}: Reptile's θ says {got!r}, expected class {expected}"
    for network in ("random", "pretrained"):
        assert demo.locator(f".reptile-edu-prediction-{network}").count() == 1, f"{name}: no column for {network}"


def test_drawing_demo_in_jupyterlab(lab: Lab, browser, shots: Path) -> None:  # noqa: F811
    """The demo's notebook in JupyterLab: run its cell, draw with the mouse, Classify."""
    shutil.copy(ROOT / "demos" / "draw.ipynb", lab.root / "draw-demo.ipynb")  # the served copy, not the repo
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        page.goto(f"{lab.url}/lab/workspaces/draw/tree/draw-demo.ipynb?reset&token={lab.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
        status = page.locator(".jp-StatusBar-Widget", has_text="Python")
        wait_for(lambda: "Idle" in " ".join(status.all_inner_texts()), 90, "an idle kernel")
        demo_cell = page.locator(".jp-CodeCell").filter(has_text="DrawingDemo()")
        demo_cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        prompt = demo_cell.locator(".jp-InputPrompt")
        wait_for(lambda: re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip()), 120, "the cell to run")
        demo = demo_cell.locator(".reptile-edu-drawing-demo")
        draw_and_classify(page, demo, "en", cross(70, 20, 60), 2, shots, "jupyterlab-cross")
        assert not errors, f"the page raised JavaScript errors: {errors}"
    except BaseException:
        failure_shot(page, shots / "jupyterlab-failure.png")
        raise
    finally:
        page.close()
        lab.shutdown_kernels()


class Voila:
    """``make demo``'s server (Voilà on ``demos/``) on 127.0.0.1, with the smoke budget."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            REPTILE_EDU_BUDGET=os.environ.get("REPTILE_EDU_BUDGET", "smoke"),
            OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"),
            JUPYTER_RUNTIME_DIR=str(workdir / "runtime"),
        )
        self.log_path = workdir / "voila.log"
        self._log = self.log_path.open("w")
        command = [
            sys.executable, "-m", "voila", str(ROOT / "demos"), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={self.port}", "--show_tracebacks=True",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120  # a loaded 2-core machine can take a minute to start it
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Voilà exited with code {self.process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.url, timeout=5).read()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"Voilà did not answer on {self.url} within 120 s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def close(self) -> None:
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
def voila(tmp_path_factory: pytest.TempPathFactory, browser):  # noqa: F811  (after browser: skips as it does)
    server = Voila(tmp_path_factory.mktemp("voila"))
    try:
        yield server
    finally:
        server.close()


def test_drawing_demo_on_the_voila_page(voila: Voila, browser, shots: Path) -> None:  # noqa: F811
    """``make demo``'s page in Chinese: an empty pad is named, then a new bar is classified as the bar."""
    lang = "zh"
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    try:
        page.goto(f"{voila.url}/voila/render/draw.ipynb?lang={lang}")
        demo = page.locator(".reptile-edu-drawing-demo")
        demo.wait_for()
        assert page.locator("h2", has_text=text("demo_title", lang)).count() == 1
        demo.locator("button", has_text=text("classify", lang)).click()
        status = demo.locator(".reptile-edu-status")
        wait_for(lambda: text("query_name", lang) in status.inner_text(), 30, "the empty-pad message")
        assert text("class_n", lang, c=1) in status.inner_text()
        demo.screenshot(path=shots / "voila-empty.png")
        draw_and_classify(page, demo, lang, bar(100, 40, 120), 3, shots, "voila-bar")
        assert not errors, f"the page raised JavaScript errors: {errors}"
    except BaseException:
        failure_shot(page, shots / "voila-failure.png")
        print(voila.log())
        raise
    finally:
        page.close()
