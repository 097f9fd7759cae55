"""What each make target installs, what each part of the package imports, and postBuild's server limit."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import runpy
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
import uuid
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from colorization.app import MAX_UPLOAD_BYTES

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# make target -> pyproject.toml extras its install set adds to the core
SETS = {
    "install": "",
    "reproduce": "notebooks",
    "app": "app",
    "test": "notebooks,app,jax,dev,export,export-openvino,export-litert,video",
}
# part of the package -> extras it may import from besides the core (everything else: the core alone)
PART_EXTRAS = {
    "app": ("app",),
    "repro": ("notebooks",),
    "training": ("jax",),
    "export": ("export", "export-openvino", "export-litert"),
    "video": ("video",),
    "metrics": ("video",),  # the temporal metrics' optical flow (OpenCV), imported only when they run
}


def dry_run(target: str, tmp_path: Path, *settings: str) -> list[str]:
    """The commands ``make TARGET`` would run for a fresh virtual environment."""
    command = ["make", "-n", "--no-print-directory", "-C", ROOT, target, f"VENV={tmp_path / 'venv'}", *settings]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout.splitlines()


@pytest.mark.parametrize(("target", "extras"), SETS.items())
def test_each_target_installs_only_its_own_set(target, extras, tmp_path):
    (install,) = [line for line in dry_run(target, tmp_path) if " pip install --quiet -e " in line]
    assert f'-e ".[{extras}]"' in install if extras else '-e "."' in install
    assert install.endswith("-c constraints.txt")
    assert set(filter(None, extras.split(","))) <= set(PROJECT["optional-dependencies"])


def test_make_app_serves_the_app_from_the_repository_root_on_localhost(tmp_path):
    lines = dry_run("app", tmp_path)
    (voila,) = [line.split() for line in lines if "/bin/voila " in line]
    assert voila[1] == "notebooks/app.ipynb"  # relative: started where make runs it, beside voila.json
    assert {"--no-browser", "--Voila.ip=127.0.0.1", "--port=8866", "--Voila.port_retries=0"} <= set(voila)
    assert any("http://127.0.0.1:8866/" in line for line in lines if line.startswith("echo"))


def test_make_app_prints_the_port_it_serves(tmp_path):
    lines = dry_run("app", tmp_path, "APP_PORT=9123")
    assert any("http://127.0.0.1:9123/" in line for line in lines if line.startswith("echo"))
    assert any("/bin/voila " in line and "--port=9123" in line for line in lines)


def test_make_test_lints_and_runs_the_suite(tmp_path):
    lines = dry_run("test", tmp_path)
    for command in ("/bin/ruff check .", "/bin/ruff format --check .", "/bin/python -m pytest"):
        assert any(line.endswith(command) for line in lines), command


def _third_party_imports(path: Path) -> set[str]:
    """Top-level names of everything a module imports (anywhere in it) that is neither stdlib nor ours."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names and name != "colorization"}


def _declared(extras: tuple[str, ...]) -> set[str]:
    """Distribution names of the core and these extras."""
    requirements = PROJECT["dependencies"] + [r for e in extras for r in PROJECT["optional-dependencies"][e]]
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def test_every_import_is_declared_by_the_core_or_its_parts_extra():
    """The core is what the command line and ``import colorization`` import; each extra adds its part's.

    Direct imports only count when their distribution is declared, not when it comes along with another.
    """
    providers = {
        name: {canonicalize_name(d) for d in dists} for name, dists in metadata.packages_distributions().items()
    }
    wrong = []
    for path in sorted((ROOT / "colorization").rglob("*.py")):
        declared = _declared(PART_EXTRAS.get(path.relative_to(ROOT / "colorization").parts[0], ()))
        for name in sorted(_third_party_imports(path)):
            if not providers.get(name, set()) & declared:
                wrong.append(f"{path.relative_to(ROOT)} imports {name} ({providers.get(name, 'not installed')})")
    assert not wrong, "imports that the install set of that part does not declare:\n" + "\n".join(wrong)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _send_large_message(url: str, size: int) -> str:
    """Send one ``size``-byte comm message on a kernel's websocket, then ask for kernel_info."""
    from tornado.websocket import WebSocketClosedError, websocket_connect

    connection = await websocket_connect(url, max_message_size=1 << 27)
    header = {"msg_id": "big", "msg_type": "comm_msg", "username": "", "session": "s", "version": "5.3", "date": ""}
    big = {"header": header, "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": []}
    info = dict(big, header=dict(header, msg_id="info", msg_type="kernel_info_request"), content={})
    try:
        await connection.write_message(json.dumps(dict(big, content={"comm_id": "x", "data": {"b": "a" * size}})))
        await connection.write_message(json.dumps(info))
        while (reply := await asyncio.wait_for(connection.read_message(), 120)) is not None:
            if json.loads(reply)["header"]["msg_type"] == "kernel_info_reply":
                return "answered"
    except WebSocketClosedError:
        pass
    return "closed"


def _upload_through_jupyter_server(tmp_path: Path, config: Path | None) -> str:
    """Start a Jupyter server (no config but ``config``) and a kernel; send it an upload of the largest size."""
    port, token = _free_port(), uuid.uuid4().hex
    # JUPYTER_NO_CONFIG: no configuration file but ``config`` (it makes an empty config folder in TMPDIR)
    env = dict(os.environ, JUPYTER_NO_CONFIG="1", JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), TMPDIR=str(tmp_path))
    command = [sys.executable, "-m", "jupyter_server", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--no-browser"]
    command += [f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0", "--allow-root"]
    command += [f"--config={config}"] if config else []
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/status?token={token}", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
                time.sleep(0.2)
        started = urllib.request.Request(f"{base}/kernels?token={token}", data=b"{}", method="POST")
        kernel = json.load(urllib.request.urlopen(started, timeout=60))["id"]
        url = f"ws://127.0.0.1:{port}/api/kernels/{kernel}/channels?token={token}"
        return asyncio.run(_send_large_message(url, MAX_UPLOAD_BYTES))
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.mark.subprocess
@pytest.mark.parametrize("configured", [False, True], ids=["jupyter-default", "postBuild"])
def test_post_build_lets_large_uploads_through_the_jupyter_server(configured, tmp_path):
    """On Binder and in JupyterLab the app's uploads pass the Jupyter server, not standalone Voila."""
    config = runpy.run_path(str(ROOT / "postBuild"))["write_server_config"](tmp_path / "env") if configured else None
    assert _upload_through_jupyter_server(tmp_path, config) == ("answered" if configured else "closed")


def test_post_build_keeps_the_other_server_settings(tmp_path):
    target = tmp_path / "etc" / "jupyter" / "jupyter_server_config.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"ServerApp": {"tornado_settings": {"a": 1}, "ip": "0.0.0.0"}, "LabApp": {}}))
    runpy.run_path(str(ROOT / "postBuild"))["write_server_config"](tmp_path)
    voila = json.loads((ROOT / "voila.json").read_text())["Voila"]["tornado_settings"]
    assert json.loads(target.read_text()) == {
        "ServerApp": {"tornado_settings": {"a": 1, **voila}, "ip": "0.0.0.0"},
        "LabApp": {},
    }
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left behind
