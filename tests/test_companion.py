"""The kernel companion in real IPython kernels, in a real memory cgroup.

Each kernel is started by jupyter_client from a kernel spec that makes it a
member of a memory cgroup of its own (300 MB, no swap), the way
test_reproductions does. The companion is loaded with ``%load_ext
troubleshooter``, or at kernel start through ``kernel install`` into a private
``IPYTHONDIR``. Records go to a private ``JUPYTER_RUNTIME_DIR``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from lab import cgroups
from lab.cgroups import Cgroup

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 300 * 1024 * 1024
GROW = (
    "import time\n"
    "data = []\n"
    "while True:\n"
    "    data.append(b'x' * (2 * 1024 * 1024))\n"
    "    time.sleep(0.02)\n"
)
SEGFAULT = "import ctypes\n\ndef read_nothing():\n    ctypes.string_at(0)\n\nread_nothing()\n"


@pytest.fixture
def cgroup_300() -> Any:
    try:
        with cgroups.memory_cgroup(LIMIT, "troubleshooter-companion") as cgroup:
            yield cgroup
    except cgroups.Unavailable as why:
        pytest.skip(str(why))


class Kernel:
    """A real kernel and a client; ``run`` executes a cell and returns its outputs."""

    def __init__(self, manager: Any, client: Any = None) -> None:
        self.manager = manager
        self.connect(client)

    def connect(self, client: Any = None) -> None:
        self.client = client or self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> list[dict[str, Any]]:
        msg_id = self.client.execute(code)
        outputs: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = self.client.get_iopub_msg(timeout=1)
            except Exception:
                if not self.manager.is_alive():
                    break
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            kind = message["msg_type"]
            if kind == "status" and message["content"]["execution_state"] == "idle":
                return outputs
            if kind in ("stream", "error", "display_data", "execute_result"):
                outputs.append({"type": kind, **message["content"]})
        return outputs

    def restart(self, now: bool = True) -> None:
        """Start the kernel again (``now=False``: a clean restart, as the Restart button)."""
        self.client.stop_channels()
        self.manager.restart_kernel(now=now)
        self.connect()


def text_of(outputs: list[dict[str, Any]]) -> str:
    parts = []
    for output in outputs:
        if output["type"] == "stream":
            parts.append(output["text"])
        elif output["type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture
def start_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    jupyter_client = pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share" / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    kernels: list[Kernel] = []

    def start(cgroup: Cgroup | None) -> Kernel:
        spec = tmp_path / "share" / "jupyter" / "kernels" / "companion"
        spec.mkdir(parents=True, exist_ok=True)
        launcher = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        argv = cgroup.inside(launcher) if cgroup else launcher
        (spec / "kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": "companion", "language": "python"})
        )
        manager = jupyter_client.KernelManager(kernel_name="companion")
        manager.start_kernel()
        kernel = Kernel(manager)
        kernels.append(kernel)
        return kernel

    yield start
    for kernel in kernels:
        kernel.client.stop_channels()
        if kernel.manager.is_alive():
            kernel.manager.shutdown_kernel(now=True)
        kernel.manager.cleanup_resources()


def _wait_for_death(kernel: Kernel, timeout: float = 60) -> int | None:
    deadline = time.monotonic() + timeout
    while kernel.manager.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    return kernel.manager.provisioner.process.returncode


def _install(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "troubleshooter", "kernel", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")},
        check=False,
    )


@pytest.mark.cgroup
def test_the_guard_stops_a_growing_cell_and_the_kernel_keeps_its_data(
    cgroup_300: Cgroup, start_kernel: Any
) -> None:
    kernel = start_kernel(cgroup_300)
    kernel.run("%load_ext troubleshooter")
    outputs = kernel.run(GROW, timeout=90)
    errors = [o for o in outputs if o["type"] == "error"]
    assert errors, f"the cell was not stopped: {text_of(outputs)}"
    assert errors[0]["ename"] == "MemoryLimitNear"
    assert "stopped this cell: memory was 9" in errors[0]["evalue"]
    assert "The kernel and its variables are still here" in errors[0]["evalue"]
    warnings = [o for o in outputs if o["type"] == "stream" and "memory is 8" in o["text"]]
    assert len(warnings) == 1, text_of(outputs)
    assert kernel.manager.is_alive()
    assert cgroup_300.oom_kills() == 0
    kept = text_of(kernel.run("print(len(data))"))
    count = int(kept.split()[-1])
    assert count * 2 * 1024 * 1024 > LIMIT // 2  # the data built before the stop is all there
    freed = text_of(kernel.run("del data\nimport gc; gc.collect()\nprint('ok')"))
    assert freed.strip().endswith("ok")


@pytest.mark.cgroup
def test_after_an_oom_kill_the_next_session_says_out_of_memory_confirmed(
    cgroup_300: Cgroup, start_kernel: Any
) -> None:
    kernel = start_kernel(cgroup_300)
    kernel.run("%load_ext troubleshooter")
    kernel.run("%troubleshooter off")
    kernel.client.execute("blocks = [b'x' * (50 * 1024 * 1024) for _ in range(40)]")
    assert _wait_for_death(kernel) == -9
    assert cgroup_300.oom_kills() >= 1
    kernel.restart()
    outputs = kernel.run("%load_ext troubleshooter")
    shown = [o for o in outputs if o["type"] == "display_data"]
    assert len(shown) == 1, text_of(outputs)
    plain, markup = shown[0]["data"]["text/plain"], shown[0]["data"]["text/html"]
    assert "Confirmed: Out of memory" in plain  # the OOM-kill counter rose while it ran
    assert "Running: cell [3]: blocks = [b'x' * (50 * 1024 * 1024) for _ in range(40)]" in plain
    assert "OOM kills in the memory cgroup: 0 when the kernel started, 1 now." in plain
    assert "?step=" in plain and "#out-of-memory" in plain
    assert "blocks = [b&#x27;x&#x27;" in markup  # the cell's code is escaped in the HTML form
    assert "<script" not in markup
    again = kernel.run("1 + 1")  # once only
    assert not [o for o in again if o["type"] == "display_data"]


@pytest.mark.cgroup
def test_after_a_segfault_the_first_cell_names_sigsegv_and_the_line(
    cgroup_300: Cgroup, start_kernel: Any, tmp_path: Path
) -> None:
    installed = _install(tmp_path, "install", "--user")
    assert installed.returncode == 0, installed.stderr
    config_file = tmp_path / "ipython/profile_default/ipython_kernel_config.json"
    config = json.loads(config_file.read_text())
    assert config["InteractiveShellApp"]["extensions"] == ["troubleshooter"]
    config_file.write_text(json.dumps({**config, "Troubleshooter": {"stop": 80}}))
    kernel = start_kernel(cgroup_300)
    settings = text_of(kernel.run("%troubleshooter"))  # loaded at start, with the config's stop
    assert "guard on (warn at 80%, stop at 80%" in settings
    kernel.client.execute(SEGFAULT)
    assert _wait_for_death(kernel) == -11
    kernel.restart()
    plain = text_of(kernel.run("1 + 1"))
    assert "faulthandler caught signal SIGSEGV." in plain
    assert "line 4, in read_nothing: ctypes.string_at(0)" in plain
    assert ": A crash in native code" in plain
    assert "?step=" in plain
    removed = _install(tmp_path, "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(config_file.read_text()) == {"Troubleshooter": {"stop": 80}}


def test_a_clean_shutdown_shows_nothing_and_a_corrupt_record_one_line(
    start_kernel: Any, tmp_path: Path
) -> None:
    kernel = start_kernel(None)
    kernel.run("%load_ext troubleshooter")
    kernel.run("x = 1")
    settings = text_of(kernel.run("%troubleshooter warn 70 stop 80"))
    assert "guard on (warn at 70%, stop at 80%" in settings
    assert "guard off" in text_of(kernel.run("%troubleshooter off"))
    kernel.restart(now=False)  # asks the kernel to shut down, then starts it again
    outputs = kernel.run("%load_ext troubleshooter")
    assert outputs == [], text_of(outputs)
    folder = tmp_path / "runtime" / "jupyter-kernel-troubleshooter"
    (mine,) = [p for p in folder.glob("*.json") if not json.loads(p.read_text())["closed"]]
    assert mine.stat().st_mode & 0o777 == 0o600
    key = mine.name.rsplit("-", 1)[0]
    (folder / f"{key}-999999.json").write_text('{"format": 1, "kernel_id": ')  # torn, dead pid
    kernel.run("%unload_ext troubleshooter")
    lines = text_of(kernel.run("%load_ext troubleshooter")).strip().splitlines()
    assert len(lines) == 1, lines
    assert "is not a readable record" in lines[0] and "Traceback" not in lines[0]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    return None


def test_the_server_extension_records_a_sigkill_and_emits_the_event(tmp_path: Path) -> None:
    pytest.importorskip("jupyter_server")
    pytest.importorskip("jupyter_events")
    import urllib.request

    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "IPYTHONDIR": str(tmp_path / "ipython"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
    }
    jupyter = [sys.executable, "-m", "jupyter_server"]
    shipped = Path(sys.prefix, "etc/jupyter/jupyter_server_config.d/troubleshooter.json")
    # the install ships the extension's entry, off, so `extension enable troubleshooter` works
    assert "troubleshooter" in json.loads(shipped.read_text())["ServerApp"]["jpserver_extensions"]
    assert _install(tmp_path, "install").returncode == 0  # the companion in every kernel
    events = tmp_path / "events.log"
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "jupyter_server_config.py").write_text(
        "import logging\n"
        "c.ServerApp.jpserver_extensions = {'troubleshooter': True}  # what `enable` writes\n"
        f"c.EventLogger.handlers = [logging.FileHandler({str(events)!r})]\n"
    )
    port, token = _free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [*jupyter, "--ip=127.0.0.1", f"--port={port}", "--no-browser", "--allow-root",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api"

    def call(path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            base + path, method=method, data=b"{}" if method == "POST" else None,
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    try:
        assert _wait_for(lambda: _answers(call)), "the server did not start"
        kernel_id = call("/kernels", "POST")["id"]
        folder = tmp_path / "runtime" / "jupyter-kernel-troubleshooter"
        found = _wait_for(lambda: list(folder.glob(f"{kernel_id}-*.json")))
        assert found, "the companion wrote no record in the kernel"
        pid = int(found[0].stem.rsplit("-", 1)[1])
        time.sleep(1.5)  # the extension looks for new kernels once a second
        os.kill(pid, 9)
        exit_file = found[0].with_suffix(".exit")
        assert _wait_for(exit_file.exists), "no exit status was written beside the record"
        assert json.loads(exit_file.read_text())["returncode"] == -9
        line = _wait_for(lambda: _our_event(events))
        assert line, "no kernel-death event was emitted"
        event = json.loads(line)
        assert (event["kernel_id"], event["returncode"], event["signal"]) == (
            kernel_id, -9, "SIGKILL"
        )  # fmt: skip
        assert event["confidence"] in ("confirmed", "likely", "guess")
        assert str(tmp_path) not in line  # no path of the user's files
        # the server restarted the kernel (same connection file): its first cell names the signal
        assert _wait_for(lambda: len(list(folder.glob(f"{kernel_id}-*.json"))) == 2)  # restarted
        restarted = _client_of(tmp_path / "runtime" / f"kernel-{kernel_id}.json")
        plain = text_of(restarted.run("1"))
        restarted.client.stop_channels()
        assert "Exit status -9 (signal SIGKILL), as the Jupyter server saw it." in plain
    finally:
        server.terminate()
        _, log = server.communicate(timeout=30)
    assert f"troubleshooter: kernel {kernel_id} ended (SIGKILL): " in log
    assert "?step=" in log


def _client_of(connection_file: Path) -> Kernel:
    """A client of a kernel the server runs, through its connection file."""
    from jupyter_client import BlockingKernelClient

    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    return Kernel(_AlwaysAlive(), client)


class _AlwaysAlive:
    """Stands for a manager where the server owns the kernel: ``Kernel.run`` asks it."""

    def is_alive(self) -> bool:
        return True


def _our_event(log: Path) -> str | None:
    """The first kernel-death event in the server's event log (it logs its own events too)."""
    schema = '"__schema__": "https://doc.cocalc.com/troubleshooter/events/kernel-death"'
    lines = log.read_text().splitlines() if log.exists() else []
    return next((line for line in lines if schema in line), None)


def _answers(call: Any) -> bool:
    try:
        return call("/status") is not None
    except OSError:
        return False


@pytest.mark.parametrize(
    ("version", "files", "usage", "working_set"),
    [
        (1, {"memory.usage_in_bytes": "300", "memory.stat": "total_inactive_file 100"}, 300, 200),
        (2, {"memory.current": "300\n", "memory.stat": "anon 150\ninactive_file 40\n"}, 300, 260),
    ],
)  # fmt: skip
def test_the_guard_reads_cgroup_v1_and_v2_and_leaves_out_page_cache_it_can_drop(
    tmp_path: Path, version: int, files: dict[str, str], usage: int, working_set: int
) -> None:
    from troubleshooter.companion.guard import Meter

    for name, text in files.items():
        (tmp_path / name).write_text(text)
    meter = Meter({"version": version, "dir": str(tmp_path), "limit": 1000}, machine_total=4000)
    assert (meter.limit, meter.source) == (1000, f"memory cgroup v{version}")
    assert meter.usage() == usage
    assert meter.working_set(usage) == working_set
    (tmp_path / "memory.stat").unlink()  # unreadable: the whole usage counts
    assert meter.working_set(usage) == usage


def test_install_keeps_the_other_settings_and_uninstall_only_removes_its_own(
    tmp_path: Path,
) -> None:
    config = tmp_path / "ipython" / "profile_default" / "ipython_kernel_config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"InteractiveShellApp": {"extensions": ["autoreload"]}, "X": 1}))
    assert _install(tmp_path, "install").returncode == 0
    assert json.loads(config.read_text())["InteractiveShellApp"]["extensions"] == [
        "autoreload",
        "troubleshooter",
    ]
    assert "already in" in _install(tmp_path, "install").stdout
    assert _install(tmp_path, "uninstall").returncode == 0
    assert json.loads(config.read_text()) == {
        "InteractiveShellApp": {"extensions": ["autoreload"]},
        "X": 1,
    }
    config.write_text("[1, 2]")
    broken = _install(tmp_path, "install")
    assert broken.returncode == 1 and "does not hold a JSON object" in broken.stderr


def test_old_records_are_pruned_to_three_per_kernel_and_a_week(tmp_path: Path) -> None:
    from troubleshooter.companion import record

    now = time.time()
    for pid in range(100, 105):  # five records of kernel "a", a minute apart
        path = tmp_path / f"a-{pid}.json"
        path.write_text("{}")
        path.with_suffix(".crash").write_text("")
        os.utime(path, (now - 60 * (105 - pid),) * 2)
    old = tmp_path / "b-7.json"
    old.write_text("{}")
    os.utime(old, (now - 8 * 86400,) * 2)
    keep = str(tmp_path / "a-100.json")  # this kernel's own, the oldest
    assert record.prune(str(tmp_path), keep={keep}, now=now) == 2
    assert sorted(p.name for p in tmp_path.glob("*.json")) == [
        "a-100.json", "a-102.json", "a-103.json", "a-104.json"
    ]  # fmt: skip
    assert not (tmp_path / "a-101.crash").exists()


def test_a_kernel_without_the_companion_still_gets_a_valid_event_from_its_exit_status() -> None:
    schema = pytest.importorskip("jupyter_events.schema")
    from troubleshooter.companion.server import SCHEMA, diagnose_death, event_data

    death = {"kernel_id": "k1", "returncode": -11, "pid": 999999, "connection_file": None,
             "time": time.time(), "event": "restart"}  # fmt: skip
    summary = diagnose_death(None, death)  # no record: the exit status alone
    assert (summary["cause"], summary["signal"]) == ("native-crash", "SIGSEGV")
    data = event_data(death, summary)
    schema.EventSchema(SCHEMA).validate(data)  # the shipped schema accepts what is emitted
    assert data["confidence"] in ("confirmed", "likely", "guess")
