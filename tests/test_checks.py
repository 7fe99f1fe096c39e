"""The checks readers copy (docs/checks/), run as readers run them.

- The tree's commands and cells are these files, and the checks page includes them.
- The memory check, terminal and notebook-cell forms, inside a real nested cgroup v1 that this
  test creates below its own one (a limit on the parent, none on the child), before and after a
  real OOM kill: both forms name the child, give the parent's limit and the same OOM-kill count
  as ``diagnose --json`` run in the same cgroup.
- The same two forms on cgroup v2 trees from tests/fixtures/, seen as /sys/fs/cgroup and
  /proc/self/cgroup through bind mounts in a private mount namespace (``unshare -m``).
- The kernel list and the memory watch with a real kernel; the thread check in a real pids
  cgroup, and with ``$USER`` unset.

The cgroup tests need root; elsewhere they are skipped, saying what is missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from troubleshooter.cgroup import find_memory_cgroup, read_memory_cgroup
from troubleshooter.loader import load_builtin

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ROOT / "docs" / "checks"
FIXTURES = Path(__file__).parent / "fixtures"
TREE = load_builtin("kernel-terminated")
MIB = 1 << 20
LINE = re.compile(r"^(cgroup v[12]|limit|in use now|peak|OOM kills):?\s*(.*)$", re.MULTILINE)


def check(name: str) -> str:
    return (CHECKS / name).read_text(encoding="utf-8")


def forms(inside: list[str] | None = None) -> dict[str, list[str]]:
    """The two memory-check commands, each as an argv (optionally run through ``inside``)."""
    commands = {
        "terminal": ["sh", str(CHECKS / "memory.sh")],
        "cell": [sys.executable, str(CHECKS / "memory.py")],
    }
    return {name: [*(inside or []), *argv] for name, argv in commands.items()}


def lines_of(output: str) -> dict[str, str]:
    return {match.group(1): match.group(2) for match in LINE.finditer(output)}


# --- the files are what the tree and the guides show -------------------------------------


def test_tree_commands_and_cells_are_the_check_files() -> None:
    for question, field, name in [
        ("memory-limit", "command", "memory.sh"),
        ("memory-limit", "cell", "memory.py"),
        ("kernel-count", "command", "kernels.sh"),
        ("kernel-count", "cell", "kernels.py"),
        ("really-dead", "command", "kernels.sh"),
        ("really-dead", "cell", "kernels.py"),
        ("memory-pattern", "cell", "watch.py"),
    ]:
        assert getattr(TREE.nodes[question], field) == check(name).strip(), (question, field)


def test_the_checks_page_includes_every_check() -> None:
    page = (ROOT / "docs" / "howto" / "checks.md").read_text(encoding="utf-8")
    for path in sorted(CHECKS.iterdir()):
        assert f"```{{literalinclude}} ../checks/{path.name}" in page, path.name


# A crash log opened to write ("w") is wiped by the next Restart and Run All, unread.
_WIPED_LOG = re.compile(r"""open\(\s*['"][^'"]*\.log['"]\s*,\s*['"]w""")


def shipped_snippets() -> list[Path]:
    """Every file a reader copies commands or code from: the checks, the guides, the tree."""
    docs = ROOT / "docs"
    return [*CHECKS.iterdir(), *docs.glob("*.md"), *docs.glob("howto/*.md"),
            *(ROOT / "troubleshooter" / "trees").glob("*.toml")]  # fmt: skip


def test_no_snippet_wipes_its_crash_log_or_needs_user() -> None:
    """``$USER`` is unset in many containers (``ps -u ""`` then prints nothing, read as 0)."""
    assert _WIPED_LOG.search("crash_log = open('crash.log', 'w')")  # the rule catches both quotes
    for path in shipped_snippets():
        text = path.read_text(encoding="utf-8")
        assert "$USER" not in text, path.name
        assert not _WIPED_LOG.search(text), path.name


# --- the memory check in a real nested cgroup v1 ------------------------------------------


def _own_v1_cgroup() -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a memory cgroup")
    found = find_memory_cgroup()
    if found is None or found["version"] != 1:
        pytest.skip("needs a cgroup v1 memory controller (v2 is tested on fixture trees)")
    return Path(found["dir"])


@pytest.fixture
def nested_v1() -> Iterator[tuple[Path, Path]]:
    """A parent cgroup limited to 256 MiB below this process's own, and a child without a limit."""
    own = _own_v1_cgroup()
    parent = own / f"ts-checks-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    child = parent / "inner"
    try:
        child.mkdir(parents=True)
    except OSError as error:
        pytest.skip(f"cannot create a memory cgroup in {own}: {error.strerror}")
    try:
        (parent / "memory.limit_in_bytes").write_text(str(256 * MIB))
        if (parent / "memory.memsw.limit_in_bytes").exists():  # no escape into swap
            (parent / "memory.memsw.limit_in_bytes").write_text(str(256 * MIB))
        yield parent, child
    finally:
        for folder in (child, parent):
            deadline = time.monotonic() + 10
            while folder.exists():
                for pid in (folder / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):  # it may have ended meanwhile
                        (own / "cgroup.procs").write_text(pid)
                try:
                    folder.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)


def inside(folder: Path) -> list[str]:
    """A prefix that starts the command as a member of the cgroup in ``folder``."""
    return ["/bin/sh", "-c", f'echo $$ > "{folder}/cgroup.procs" && exec "$@"', "join"]


def run(argv: list[str], **options) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, **options)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr
    return done.stdout


def diagnose_facts(folder: Path) -> dict:
    command = [sys.executable, "-m", "troubleshooter", "diagnose", "--json", "--no-state"]
    return json.loads(run([*inside(folder), *command], cwd=ROOT))["facts"]["cgroup"]


@pytest.mark.cgroup
def test_memory_check_reads_its_own_nested_v1_cgroup_and_agrees_with_diagnose(nested_v1) -> None:
    _, child = nested_v1
    facts = diagnose_facts(child)
    assert (facts["version"], facts["dir"], facts["limit"]) == (1, str(child), 256 * MIB)
    for name, argv in forms(inside(child)).items():
        printed = lines_of(run(argv))
        assert printed["cgroup v1"] == str(child), name  # the child, not the root
        assert printed["limit"] == "256 MiB", name  # the parent's limit
        assert printed["OOM kills"].startswith(f"{facts['oom_kills']} ("), name
        assert "of the limit" in printed["peak"], name
        assert re.fullmatch(r"\d+ MiB \(programs \d+ MiB, file cache \d+ MiB, of which "
                            r"shared memory \d+ MiB\)", printed["in use now"]), name  # fmt: skip

    # A real OOM kill in the child: both forms and diagnose count it.
    hog = [sys.executable, "-c", "blocks = [bytearray(32 << 20) for _ in range(20)]"]
    killed = subprocess.run([*inside(child), *hog], capture_output=True, timeout=60)
    assert killed.returncode == -9 or killed.returncode == 137
    after = diagnose_facts(child)
    assert after["oom_kills"] >= 1 and after["oom_kills"] > facts["oom_kills"]
    for name, argv in forms(inside(child)).items():
        printed = lines_of(run(argv))
        assert printed["OOM kills"].startswith(f"{after['oom_kills']} ("), name


def test_memory_check_here_names_the_same_cgroup_as_diagnose() -> None:
    if not Path("/proc/self/cgroup").exists():
        pytest.skip("needs Linux /proc")
    facts = read_memory_cgroup()
    for name, argv in forms().items():
        printed = lines_of(run(argv))
        if facts["version"] is None:
            assert "No memory cgroup found" in run(argv), name
            continue
        assert printed[f"cgroup v{facts['version']}"] == facts["dir"], name
        expected = "no limit" if facts["limit"] == "unlimited" else None
        if expected:
            assert printed["limit"] == expected, name


# --- the memory check on cgroup v2 fixture trees -----------------------------------------


def in_fixture(case: str) -> list[str]:
    """A prefix that shows the fixture's /sys/fs/cgroup and /proc/self/cgroup to the command."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to show a fixture as /sys/fs/cgroup")
    tree = FIXTURES / case
    script = (
        f'mount --bind "{tree}/sys/fs/cgroup" /sys/fs/cgroup && '
        f'mount --bind "{tree}/proc/self/cgroup" /proc/$$/cgroup && exec "$@"'
    )
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "fixture"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (  # a nested v2 cgroup whose limit is set on its parent
            "cgroup-v2",
            {
                "cgroup v2": "/sys/fs/cgroup/user.slice/project-9a2b.scope",
                "limit": "1.0 GiB",
                "peak": "1023 MiB, 100% of the limit",
                "OOM kills": "1 (only a rise across the next crash says it ran out of memory)",
            },
        ),
        (  # a container that sees its own cgroup as the top; the peak is mostly file cache
            "cgroup-v2-container",
            {
                "cgroup v2": "/sys/fs/cgroup",
                "limit": "2.0 GiB",
                "in use now": "1.9 GiB (programs 300 MiB, file cache 1.6 GiB, of which shared "
                "memory 200 MiB)",
                "peak": "2.0 GiB, 100% of the limit",
                "OOM kills": "0 (only a rise across the next crash says it ran out of memory)",
            },
        ),
    ],
)
def test_memory_check_on_v2_trees(case: str, expected: dict[str, str]) -> None:
    prefix = in_fixture(case)
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot bind-mount in a new mount namespace: {probe.stderr.strip()}")
    outputs = {name: run(argv) for name, argv in forms(prefix).items()}
    assert outputs["terminal"] == outputs["cell"]  # the two forms print the same lines
    printed = lines_of(outputs["cell"])
    for key, value in expected.items():
        assert printed[key] == value, key
    facts = read_memory_cgroup(FIXTURES / case)  # what diagnose reads from the same tree
    assert facts["dir"].endswith(printed["cgroup v2"].removeprefix("/sys/fs/cgroup"))
    assert size_text(facts["limit"]) == printed["limit"]
    assert printed["OOM kills"].startswith(f"{facts['oom_kills']} (")


def size_text(value: int) -> str:
    return f"{value / 2**30:.1f} GiB" if value >= 2**30 else f"{value / 2**20:.0f} MiB"


# --- the kernel list and the memory watch, with a real kernel -----------------------------


@pytest.fixture
def kernel(tmp_path: Path):
    jupyter_client = pytest.importorskip("jupyter_client")
    manager = jupyter_client.KernelManager(kernel_name="python3")
    env = {**os.environ, "JPY_SESSION_NAME": str(tmp_path / "grading" / "student-7.ipynb")}
    manager.start_kernel(env=env)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run_cell(client, code: str) -> str:
    printed: list[str] = []

    def keep(message: dict) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "error":
            printed.append("\n".join(message["content"]["traceback"]))

    client.execute_interactive(code, timeout=60, output_hook=keep)
    return "".join(printed)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_kernel_list_names_each_kernel_and_its_notebook(kernel) -> None:
    manager, client = kernel
    pid = manager.provisioner.pid
    terminal = ["sh", str(CHECKS / "kernels.sh")]
    for output in (run(terminal), run([sys.executable, str(CHECKS / "kernels.py")])):
        line = next(line for line in output.splitlines() if line.startswith(f"pid {pid} "))
        assert re.search(r" \d+\.\d\d GiB ", line), line
        assert line.rstrip().endswith("student-7.ipynb") or "student-7.ipynb" in line
    in_kernel = run_cell(client, check("kernels.py"))
    assert f"pid {pid} " in in_kernel and "(this notebook)" in in_kernel
    assert re.search(r"^\d+ kernels?, \d+\.\d\d GiB together$", in_kernel, re.MULTILINE)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_watch_counts_the_workers_after_each_cell(kernel) -> None:
    _, client = kernel
    run_cell(client, check("watch.py"))
    worker = (
        "import subprocess, sys, time\n"
        "worker = subprocess.Popen([sys.executable, '-c', "
        '\'import time; b = bytearray(96 << 20); b[::4096] = b"x" * len(b[::4096]); '
        "time.sleep(60)'])\n"
        "time.sleep(2)"
    )
    printed = run_cell(client, worker)
    match = re.search(r"\[memory\] kernel (\d+\.\d\d) GiB now, peak (\d+\.\d\d) GiB; "
                      r"(\d+) worker processes (\d+\.\d\d) GiB", printed)  # fmt: skip
    assert match, printed
    assert int(match.group(3)) == 1
    assert float(match.group(4)) >= 0.09  # the worker's 96 MiB, which the kernel's figure lacks
    run_cell(client, "worker.kill()")


# --- the thread check --------------------------------------------------------------------


@pytest.fixture
def pids_cgroup() -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create a pids cgroup")
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    v1 = [line.split(":", 2)[2] for line in lines if "pids" in line.split(":", 2)[1].split(",")]
    if not v1 or not Path("/sys/fs/cgroup/pids").is_dir():
        pytest.skip("needs the cgroup v1 pids controller")
    own = Path("/sys/fs/cgroup/pids" + v1[0])
    folder = own / f"ts-threads-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        folder.mkdir()
    except OSError as error:
        pytest.skip(f"cannot create a pids cgroup in {own}: {error.strerror}")
    try:
        (folder / "pids.max").write_text("64")
        yield folder
    finally:
        for pid in (folder / "cgroup.procs").read_text().split():
            with contextlib.suppress(OSError):
                (own / "cgroup.procs").write_text(pid)
        folder.rmdir()


def test_thread_check_names_the_pids_cap_of_its_cgroup(pids_cgroup: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "USER"}  # as in containers
    for argv in (["sh", str(CHECKS / "threads.sh")], [sys.executable, str(CHECKS / "threads.py")]):
        output = run([*inside(pids_cgroup), *argv], env=env)
        assert re.search(rf"^cgroup {re.escape(str(pids_cgroup))}: pids\.max 64, \d+ in use$",
                         output, re.MULTILINE), output  # fmt: skip
        assert "processor cores the libraries see: " in output
    output = run(["sh", str(CHECKS / "threads.sh")], env=env)
    count = re.search(r"^threads of \S+ now: (\d+)$", output, re.MULTILINE)
    assert count and int(count.group(1)) > 0  # not 0 with $USER unset
