"""The evidence readers, on fixture trees of /proc and /sys and on this machine.

Fixture trees (tests/fixtures/<case>/) stand for ``/``: ``cgroup-v1`` (two
kernels, OOM kills in the counter and the kernel log), ``cgroup-v2`` (the limit
set on a parent cgroup), ``no-cgroup`` (a process in the root cgroup),
``garbage`` (every file holds nonsense), ``macos`` (no /proc, /sys or /dev at
all). ``unreadable`` is made here, from cgroup-v1 with every permission removed.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest

from troubleshooter import evidence
from troubleshooter.cgroup import (
    parse_mountinfo,
    read_meminfo,
    read_memory_cgroup,
    read_pids_cgroup,
)

FIXTURES = Path(__file__).parent / "fixtures"
CASES = ["cgroup-v1", "cgroup-v2", "no-cgroup", "garbage", "macos"]
MIB = 1024 * 1024


def test_cgroup_v1_limit_usage_peak_and_oom_kills() -> None:
    cgroup = read_memory_cgroup(FIXTURES / "cgroup-v1")
    assert cgroup["version"] == 1
    assert cgroup["path"] == "/project-7f3e"
    assert cgroup["dir"].endswith("sys/fs/cgroup/memory/project-7f3e")
    assert cgroup["limit"] == 2048 * MIB
    assert cgroup["usage"] == 1180 * MIB
    assert cgroup["peak"] == 2048 * MIB
    assert cgroup["oom_kills"] == 2
    assert cgroup["failcnt"] == 5512


def test_cgroup_v2_takes_the_lowest_limit_on_the_way_up() -> None:
    root = FIXTURES / "cgroup-v2"
    own = root / "sys/fs/cgroup/user.slice/project-9a2b.scope/memory.max"
    assert own.read_text().strip() == "max"  # the limit is set on the parent only
    cgroup = read_memory_cgroup(root)
    assert cgroup["version"] == 2
    assert cgroup["path"] == "/user.slice/project-9a2b.scope"
    assert cgroup["limit"] == 1024 * MIB
    assert cgroup["peak"] == 1023 * MIB
    assert (cgroup["oom_kills"], cgroup["ooms"], cgroup["failcnt"]) == (1, 1, 1840)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


V1_PIDS_MOUNT = "35 31 0:30 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
V2_MOUNT = "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n"


def test_pids_cgroup_v1_reads_its_cap_and_count(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "proc/self/cgroup": "12:pids:/project-7f3e\n11:memory:/project-7f3e\n",
        "proc/self/mountinfo": V1_PIDS_MOUNT,
        "sys/fs/cgroup/pids/project-7f3e/pids.max": "512\n",
        "sys/fs/cgroup/pids/project-7f3e/pids.current": "498\n",
    })  # fmt: skip
    pids = read_pids_cgroup(root)
    assert (pids["version"], pids["limit"], pids["current"]) == (1, 512, 498)
    assert pids["dir"].endswith("sys/fs/cgroup/pids/project-7f3e")


def test_pids_cgroup_v2_takes_the_parent_with_least_room(tmp_path: Path) -> None:
    """The own cgroup says max; the pod's cap, set on the parent, is the one that bites."""
    root = _tree(tmp_path, {
        "proc/self/cgroup": "0::/kubepods/pod1/c0\n",
        "proc/self/mountinfo": V2_MOUNT,
        "sys/fs/cgroup/kubepods/pod1/c0/pids.max": "max\n",
        "sys/fs/cgroup/kubepods/pod1/c0/pids.current": "300\n",
        "sys/fs/cgroup/kubepods/pod1/pids.max": "320\n",
        "sys/fs/cgroup/kubepods/pod1/pids.current": "310\n",
    })  # fmt: skip
    pids = read_pids_cgroup(root)
    assert (pids["version"], pids["limit"], pids["current"]) == (2, 320, 310)
    assert pids["dir"].endswith("kubepods/pod1")


def test_a_missing_pids_file_is_unknown(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"proc/self/cgroup": "8:pids:/\n", "proc/self/mountinfo": V1_PIDS_MOUNT})
    (root / "sys/fs/cgroup/pids").mkdir(parents=True)  # the root cgroup: no pids.max
    assert read_pids_cgroup(root) == {"version": None, "dir": None, "limit": None, "current": None}
    assert read_pids_cgroup(FIXTURES / "garbage")["limit"] is None


def test_the_oldest_jupyter_server_is_found_with_its_age(tmp_path: Path) -> None:
    stat = "{pid} (python3) S 1 {pid} {pid} 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 1 1 1"
    status = "Name:\tpython3\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t 1000 kB\nThreads:\t4\n"
    root = _tree(tmp_path, {
        "proc/uptime": "1000.00 100.00\n",
        "proc/self/status": status,
        "proc/50/cmdline": "/usr/bin/python3\0/usr/local/bin/jupyter-lab\0--no-browser\0",
        "proc/50/stat": stat.format(pid=50, start=90_000),
        "proc/50/status": status,
        "proc/60/cmdline": "python3\0-m\0ipykernel_launcher\0-f\0/r/kernel-1.json\0",
        "proc/60/stat": stat.format(pid=60, start=10_000),
        "proc/60/status": status,
    })  # fmt: skip
    server = evidence.read_processes(root)["server"]
    assert server is not None and server["pid"] == 50
    assert server["age"] == pytest.approx(1000 - 90_000 / evidence._clock_ticks(), abs=0.2)


def test_a_process_in_the_root_cgroup_has_no_memory_cgroup() -> None:
    facts = evidence.collect(FIXTURES / "no-cgroup")
    assert facts["cgroup"]["version"] is None
    assert facts["cgroup"]["limit"] is None
    assert facts["machine"]["total"] == 8052564 * 1024  # the rest is still read


@pytest.mark.parametrize("case", CASES)
def test_collect_gives_json_for_every_fixture(case: str) -> None:
    facts = evidence.collect(FIXTURES / case)
    assert json.loads(json.dumps(facts)) == facts
    assert set(facts) >= {"machine", "cgroup", "processes", "limits", "disk", "kernel_log"}


def test_garbage_gives_unknown_never_an_error() -> None:
    facts = evidence.collect(FIXTURES / "garbage")
    assert facts["machine"] == {"total": None, "available": None}
    cgroup = facts["cgroup"]
    assert cgroup["version"] == 1  # the cgroup is found; its files make no sense
    assert [cgroup[k] for k in ("limit", "usage", "peak", "oom_kills", "failcnt")] == [None] * 5
    assert facts["limits"] == {"nproc": None, "as": None, "stack": None}
    assert facts["uptime"] is None
    assert facts["kernel_log"]["oom_kills"] == []
    # "100 MB" is not in kB, "NaN kB" is no number, and a directory is no file
    assert facts["processes"]["top"] == []


def test_a_machine_without_proc_reads_as_unknown() -> None:
    facts = evidence.collect(FIXTURES / "macos")
    assert facts["machine"] == {"total": None, "available": None}
    assert facts["cgroup"]["version"] is None
    assert facts["processes"]["scanned"] == 0
    assert facts["kernel_log"]["source"] is None
    assert facts["started"] is None


def test_kernels_are_recognised_with_their_memory_and_age() -> None:
    processes = evidence.read_processes(FIXTURES / "cgroup-v1")
    kernels = {k["pid"]: k for k in processes["kernels"]}
    assert set(kernels) == {4242, 4300, 4400}  # two ipykernels and an IRkernel
    assert kernels[4242]["rss"] == 620 * 1024 * 1024
    assert kernels[4242]["peak"] == 1900 * 1024 * 1024
    assert kernels[4242]["age"] == 3600
    assert kernels[4242]["connection"] == "kernel-3f1c2a9e-77aa-4c1e-9a53-1d2f0b7c5e11.json"
    assert [p["pid"] for p in processes["top"]][:2] == [4242, 4300]
    assert 2 not in [p["pid"] for p in processes["top"]]  # kthreadd has no memory of its own
    assert processes["threads"] == 11 + 4 + 12 + 12 + 3  # the user's processes only


def test_kernel_log_oom_kill_and_segfault() -> None:
    log = evidence.read_kernel_log(FIXTURES / "cgroup-v1", uptime=86400.5)
    assert log["source"] == "/dev/kmsg"
    [kill] = log["oom_kills"]
    assert (kill["pid"], kill["name"], kill["memcg"]) == (4177, "python3", "/project-7f3e")
    assert kill["anon_rss"] == 1702016 * 1024
    assert kill["ago"] == pytest.approx(200.5)
    [fault] = log["segfaults"]
    assert (fault["pid"], fault["address"]) == (3950, 0)


def test_dmesg_lines_parse_like_kmsg_records() -> None:
    text = (
        "[ 3055.955144] Memory cgroup out of memory: Killed process 16935 (python) "
        "total-vm:319720kB, anon-rss:102016kB, file-rss:5840kB\n"
        "[ 3070.1] traps: python3[77] trap invalid opcode ip:7f sp:7ffd error:0 in x.so\n"
    )
    log = evidence.parse_kernel_log(text, uptime=3100.0)
    assert log["oom_kills"][0]["pid"] == 16935
    assert log["oom_kills"][0]["ago"] == pytest.approx(3100.0 - 3055.955, abs=0.1)
    assert log["traps"][0]["pid"] == 77


def test_mountinfo_unescapes_spaces_in_mount_points() -> None:
    line = r"35 31 0:30 / /sys/fs/cgroup/my\040memory rw - cgroup cgroup rw,memory"
    [mount] = parse_mountinfo(line)
    assert mount["mountpoint"] == "/sys/fs/cgroup/my memory"


def test_limits_from_proc() -> None:
    limits = evidence.read_limits(FIXTURES / "cgroup-v1")
    assert limits == {
        "nproc": [300, 300],
        "as": ["unlimited", "unlimited"],
        "stack": [8388608, "unlimited"],
    }


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder any user may walk into (pytest's own tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="troubleshooter-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


def test_unreadable_files_give_unknown(open_folder: Path) -> None:
    """Every file of cgroup-v1 without read permission, read by an ordinary user."""
    root = open_folder / "unreadable"
    shutil.copytree(FIXTURES / "cgroup-v1", root)
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(folder, name), 0)
    drop = ""
    if os.geteuid() == 0:  # root reads anything: become "nobody" before reading
        nobody = pwd.getpwnam("nobody")
        drop = f"os.setgroups([]); os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid}); "
    code = (
        "import json, os, sys; from troubleshooter.evidence import collect; "
        f"{drop}print(json.dumps(collect(sys.argv[1])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    facts = json.loads(done.stdout)
    assert facts["machine"]["total"] is None
    assert facts["cgroup"]["version"] is None  # /proc/self/cgroup itself is unreadable
    assert facts["limits"]["nproc"] is None
    assert facts["kernel_log"]["source"] is None
    assert facts["processes"]["top"] == []


# --- this machine ----------------------------------------------------------------------


def test_this_machine_memory_matches_the_kernel() -> None:
    facts = read_meminfo()
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert facts["total"] == pytest.approx(pages, rel=0.01)
    assert 0 < facts["available"] <= facts["total"]


def test_this_process_cgroup_is_the_one_proc_names() -> None:
    cgroup = read_memory_cgroup()
    if cgroup["version"] is None:
        pytest.skip("this machine puts the process in no memory cgroup")
    listed = Path("/proc/self/cgroup").read_text()
    assert cgroup["path"] in listed
    assert isinstance(cgroup["usage"], int) and cgroup["usage"] > 0
    files = os.listdir(cgroup["dir"])
    assert "memory.limit_in_bytes" in files or "memory.max" in files


def test_a_real_kernel_is_found_with_its_connection_file() -> None:
    jupyter_client = pytest.importorskip("jupyter_client")
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=60)  # started up, with IPython loaded
        pid = manager.provisioner.pid
        processes = evidence.read_processes(top=1000)
        [kernel] = [k for k in processes["kernels"] if k["pid"] == pid]
        assert kernel["connection"] == os.path.basename(manager.connection_file)
        assert kernel["rss"] > 10 * MIB
        assert kernel["age"] is not None and kernel["age"] < 120
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_package_versions_match_importlib_metadata() -> None:
    found = evidence.read_packages(("ipykernel", "jupyter_client", "no-such-package-here"))
    assert found["ipykernel"] == version("ipykernel")
    assert found["jupyter_client"] == version("jupyter_client")
    assert found["no-such-package-here"] is None


def test_disks_of_home_and_temp() -> None:
    [home, *_] = evidence.read_disks(evidence.default_disk_paths())
    usage = shutil.disk_usage(home["path"])
    assert home["total"] == usage.total
    assert evidence.read_disks(["/no/such/place"])[0]["free"] is None


def test_kernel_log_read_is_bounded() -> None:
    log = evidence.read_kernel_log(seconds=0.01)
    assert set(log) == {"source", "oom_kills", "segfaults", "traps"}


def test_psutil_fills_in_where_proc_is_missing() -> None:
    pytest.importorskip("psutil")
    unknown = evidence.collect(FIXTURES / "macos")
    machine, processes = evidence._psutil_readings(unknown["machine"], unknown["processes"])
    assert machine["total"] == read_meminfo()["total"]
    assert processes["scanned"] > 1
    assert processes["top"][0]["rss"] >= processes["top"][-1]["rss"] > 0
