"""A lesson keeps its language when moved: set_language() reads the notebook's metadata first.

The kernel learns its notebook's path the way JupyterLab tells it (JPY_SESSION_NAME, set by Jupyter
Server); the course's runners (nbclient in `make notebooks`, nbval in `make test`) set it the same way.
Each runner is checked end to end on a Chinese lesson moved into a folder named "moved".
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from reptile_edu import i18n, notebook_file

ROOT = Path(__file__).resolve().parents[1]
CODE = "from reptile_edu import set_language\nprint('language:', set_language())"


@pytest.fixture
def moved(tmp_path, monkeypatch):
    """A Chinese lesson (one cell) moved out of notebooks/zh, with no language in the environment."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CODE)]
    nb.metadata["reptile_edu"] = {"language": "zh"}
    path = tmp_path / "moved" / "04_reptile.ipynb"
    path.parent.mkdir()
    nbformat.write(nb, path)
    for name in ("REPTILE_EDU_LANG", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_order_metadata_then_folder_then_environment(moved, tmp_path, monkeypatch):
    monkeypatch.chdir(moved.parent)
    monkeypatch.setenv("REPTILE_EDU_LANG", "tr")
    assert i18n.set_language() == "tr"  # no session known, folder "moved": the environment decides
    monkeypatch.setenv("JPY_SESSION_NAME", str(moved))
    assert i18n.set_language() == "zh"  # the notebook's metadata comes first
    assert i18n.set_language("en") == "en"  # an argument overrides everything
    monkeypatch.setenv("JPY_SESSION_NAME", "04_reptile.ipynb")  # relative: found in the kernel's folder
    assert notebook_file.notebook_path() == moved and i18n.set_language() == "zh"
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "gone.ipynb"))  # a stale path is ignored
    (tmp_path / "tr").mkdir()
    monkeypatch.chdir(tmp_path / "tr")
    assert i18n.set_language() == "tr"  # the folder, before the environment
    monkeypatch.setenv("REPTILE_EDU_LANG", "zh")
    assert i18n.set_language() == "tr"


def test_a_notebook_without_the_key_or_broken_records_nothing(tmp_path):
    plain = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), plain)
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    assert notebook_file.recorded_language(plain) is None
    assert notebook_file.recorded_language(broken) is None
    assert notebook_file.recorded_language(tmp_path / "missing.ipynb") is None


def test_make_notebooks_nbclient_gives_the_kernel_the_notebook(moved):
    sys.path.insert(0, str(ROOT / "tools"))
    import notebooks as nbtools

    nbtools.execute([moved])
    out = nbformat.read(moved, as_version=4).cells[0].outputs[0]["text"]
    assert out.strip() == "language: zh"


def test_make_test_nbval_gives_the_kernel_the_notebook(moved):
    # The repository's conftest.py (loaded as a plugin) is what sets JPY_SESSION_NAME for nbval.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REPTILE_EDU_LANG", None)
    moved.write_text(moved.read_text().replace("print('language:', set_language())",
                                               "assert set_language() == 'zh', set_language()"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "--nbval-lax", "--nbval-current-env", "-q",
         "-p", "no:cacheprovider", "--rootdir", str(moved.parent), "-c", os.devnull, str(moved)],
        cwd=moved.parent, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_in_kernel(port: int, token: str, kernel_id: str, code: str) -> str:
    """Execute ``code`` through Jupyter Server's kernel websocket (as JupyterLab does); its stdout."""
    import asyncio

    from tornado.websocket import websocket_connect

    async def go():
        ws = await websocket_connect(f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?token={token}")
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "session": uuid.uuid4().hex,
                  "username": "test", "version": "5.3", "date": ""}
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": True}
        await ws.write_message(json.dumps({"header": header, "parent_header": {}, "metadata": {},
                                           "content": content, "channel": "shell", "buffers": []}))
        out = []
        while True:
            msg = json.loads(await asyncio.wait_for(ws.read_message(), 120))
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                out.append("\n".join(msg["content"]["traceback"]))
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                ws.close()
                return "".join(out)

    return asyncio.run(go())


def test_jupyterlab_gives_the_kernel_the_notebook(moved):
    """Jupyter Server, asked for a session exactly as JupyterLab asks (a placeholder path beside the
    notebook, then its file name), starts a kernel in which set_language() reads the metadata."""
    pytest.importorskip("jupyter_server")
    port, token = _free_port(), uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REPTILE_EDU_LANG", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={moved.parent.parent}", "--allow-root"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/api"

    def call(method, url, body=None):
        request = urllib.request.Request(base + url, method=method, data=json.dumps(body).encode() if body else None,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    try:
        for _ in range(120):
            try:
                call("GET", "/status")
                break
            except OSError:
                time.sleep(0.5)
        session = call("POST", "/sessions", {
            "path": f"moved/{uuid.uuid4()}", "name": moved.name, "type": "notebook", "kernel": {"name": "python3"},
        })
        out = _run_in_kernel(port, token, session["kernel"]["id"], CODE)
        assert out.strip() == "language: zh", out
    finally:
        server.terminate()
        server.wait(30)
