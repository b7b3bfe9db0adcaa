"""`tyokyky-eval lab`: the researcher's working copy, and JupyterLab running it in a browser.

The browser test starts JupyterLab headless on a free loopback port, runs the prepared survival
notebook through the server's REST and kernel websocket API, saves it through the server, and
checks a headless Chromium rendering of the notebook page. Skipped where Chromium or JupyterLab is
missing."""
from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import secrets
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest
from test_runner import demo_project

from tyokyky_eval.cli import main
from tyokyky_eval.render.pdf import find_chromium
from tyokyky_eval.run import lab


@pytest.fixture(scope="module")
def root():
    with tempfile.TemporaryDirectory(prefix="tyokyky-lab-test-") as folder:  # no row-level data left behind
        root = Path(folder)
        demo_project(root, drop=("fidelity",))
        yield root


@pytest.fixture(scope="module")
def working_copy(root) -> lab.WorkingCopy:
    return lab.prepare(root / "parameters" / "demo.yaml", "en", root / "lab")


def test_working_copy(root, working_copy):
    copy = working_copy
    assert copy.folder == root / "lab" / "demo" and not copy.kept
    assert "20_fidelity.ipynb" not in copy.notebooks and len(copy.skipped) == 1
    assert copy.skipped[0] == "20_fidelity.ipynb left out: the project's data do not include fidelity reviews"
    assert sorted(p.name for p in copy.folder.glob("*.ipynb")) == copy.notebooks
    nb = nbformat.read(str(copy.folder / "40_survival.ipynb"), as_version=4)
    assert nb.metadata.kernelspec.name == "tyokyky-eval" and "papermill" not in nb.metadata
    assert "not the published appendix" in nb.cells[0].source
    parameters = nb.cells[1]
    assert parameters.metadata.tags == ["parameters"]
    lines = parameters.source.splitlines()
    assert lines[0].startswith(f'params_path = {json.dumps(str(root / "parameters" / "demo.yaml"))}  # ')
    assert lines[1].startswith('language = "en"  # ')
    assert [line.split(" = ")[0] for line in lines] == ["params_path", "language", "output_dir", "validated_dir"]
    assert all("  # " in line for line in lines)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert not any("fi" in c.metadata.get("tags", []) for c in nb.cells)
    assert any(c.source.startswith("# Time to employment") for c in nb.cells)
    assert all(not c.outputs and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    assert [c.metadata.tags for c in nb.cells[-2:]] == [["en", "own-analysis"], ["own-analysis"]]
    assert "smf." in nb.cells[-1].source
    assert not list((root / "demo-data").glob("*.ipynb")) and not (root / "parameters" / "demo").exists()


def test_a_changed_copy_is_kept_unless_forced(root):
    params = root / "parameters" / "demo.yaml"
    folder = lab.prepare(params, "fi", root / "again").folder
    assert lab.prepare(params, "fi", root / "again").kept is False  # unchanged: prepared afresh
    (folder / "my_notes.txt").write_text("mine", encoding="utf-8")
    assert lab.prepare(params, "fi", root / "again").kept is True
    with pytest.raises(lab.OutputError, match="--force"):
        lab.prepare(params, "en", root / "again")
    assert (folder / "my_notes.txt").read_text(encoding="utf-8") == "mine"
    assert lab.prepare(params, "en", root / "again", force=True).kept is False
    assert not (folder / "my_notes.txt").exists()


def test_refusals_and_errors(root, capsys):
    params = root / "parameters" / "demo.yaml"
    assert main(["lab", str(params), "--dir", str(root / "demo-data"), "--prepare-only", "--language", "en"]) == 1
    assert "next to the data" in capsys.readouterr().err and not (root / "demo-data" / "demo").exists()
    (root / "foreign" / "demo").mkdir(parents=True)
    (root / "foreign" / "demo" / "results.csv").write_text("x\n", encoding="utf-8")
    assert main(["lab", str(params), "--dir", str(root / "foreign"), "--prepare-only", "--force", "--language", "en"]) == 1
    assert "not a working copy" in capsys.readouterr().err
    assert [p.name for p in (root / "foreign" / "demo").iterdir()] == ["results.csv"]
    bad = root / "parameters" / "bad.yaml"
    bad.write_text(params.read_text(encoding="utf-8").replace("cutoff_date:", "cutof_date:"), encoding="utf-8")
    assert main(["lab", str(bad), "--dir", str(root / "bad"), "--prepare-only"]) == 2
    err = capsys.readouterr().err
    assert "cutof_date" in err and "Traceback" not in err and not (root / "bad").exists()


def test_cli_prints_how_to_start_jupyterlab(root, capsys, monkeypatch):
    assert main(["lab", str(root / "parameters" / "demo.yaml"), "--dir", str(root / "cli"), "--prepare-only",
                 "--no-browser"]) == 0
    out = capsys.readouterr().out
    assert str(root / "cli" / "demo") in out and "-m jupyterlab" in out and "--no-browser" in out
    monkeypatch.setattr(lab, "has_jupyterlab", lambda: False)
    assert main(["lab", str(root / "parameters" / "demo.yaml"), "--dir", str(root / "cli")]) == 0
    out = capsys.readouterr().out
    assert "pip install jupyterlab" in out and "-m jupyterlab" in out


# -- the browser test -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A JupyterLab server's REST API and kernel channels, with its token."""

    def __init__(self, port: int, token: str):
        self.base, self.token = f"127.0.0.1:{port}", token

    def api(self, method: str, path: str, body=None):
        request = urllib.request.Request(
            f"http://{self.base}{path}", method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def run_cells(self, kernel_id: str, nb) -> None:
        """Execute the notebook's code cells in the kernel, in order, filling in their outputs."""
        import websocket

        ws = websocket.create_connection(f"ws://{self.base}/api/kernels/{kernel_id}/channels?token={self.token}",
                                         timeout=120)
        session = uuid.uuid4().hex
        try:
            for cell in (c for c in nb.cells if c.cell_type == "code"):
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                               "session": session, "version": "5.3",
                               "date": dt.datetime.now(dt.timezone.utc).isoformat()},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": cell.source, "silent": False, "store_history": True,
                                "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
                cell.outputs = []
                while True:
                    msg = json.loads(ws.recv())
                    if msg.get("parent_header", {}).get("msg_id") != msg_id or msg["channel"] != "iopub":
                        continue
                    if msg["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                        cell.outputs.append(nbformat.v4.output_from_msg(msg))
                    elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                        break
        finally:
            ws.close()


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="chromium not installed")
@pytest.mark.skipif(not lab.has_jupyterlab(), reason="jupyterlab not installed")
def test_jupyterlab_runs_the_survival_notebook(root, working_copy):
    port, token = _free_port(), secrets.token_hex(16)
    state = root / "jupyter-state"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(state / "settings")}
    log = (root / "jupyter.log").open("w")
    server = subprocess.Popen([*lab.jupyter_lab_command(working_copy.folder, browser=False), f"--port={port}",
                               "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                               f"--IdentityProvider.token={token}"], env=env, stdout=log, stderr=log)
    api = Server(port, token)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (root / "jupyter.log").read_text()
            try:
                api.api("GET", "/api/status")
                break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not start in 60 s"
                time.sleep(0.5)
        name = "40_survival.ipynb"
        session = api.api("POST", "/api/sessions", {"path": name, "name": name, "type": "notebook",
                                                   "kernel": {"name": "tyokyky-eval"}})
        nb = nbformat.from_dict(api.api("GET", f"/api/contents/{name}?type=notebook&content=1")["content"])
        api.run_cells(session["kernel"]["id"], nb)
        api.api("PUT", f"/api/contents/{name}", {"type": "notebook", "format": "json", "content": nb})

        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], [o.get("evalue") for o in outputs]
        html_outputs = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
        assert any("te-caption" in h for h in html_outputs) and any("<img" in h for h in html_outputs), "no table or figure"
        assert nb.cells[-1].outputs[0].output_type == "execute_result"  # the own analysis' summary

        browser = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-dev-shm-usage", f"--user-data-dir={root / 'chromium'}", "--window-size=1280,1600",
                   "--virtual-time-budget=15000"]
        page = f"http://{api.base}/lab/tree/{name}?token={token}"
        dom = subprocess.run([*browser, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
        first_words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", html_outputs[0])).split()[:4])  # the findings
        assert "Time to employment" in dom and first_words in dom, "the outputs are not shown"
        assert 'data-mime-type="application/vnd.jupyter.stderr"' not in dom, "an error or warning is shown"
        shot = root / "lab.png"
        subprocess.run([*browser, f"--screenshot={shot}", page], capture_output=True, timeout=120)
        import matplotlib.image

        pixels = matplotlib.image.imread(str(shot))[..., :3]
        assert pixels.std() > 0.05 and (pixels.mean(axis=2) < 0.9).mean() > 0.02, "blank page"
        api.api("DELETE", f"/api/sessions/{session['id']}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
