"""Read the evidence a dead kernel leaves on a Linux machine, with the standard library alone.

Every reader takes ``root``, the directory that stands for ``/`` (default ``"/"``),
so the same code reads the real machine, a fixture tree in the tests
(``tests/fixtures/<case>/proc/...``) or sample files in the browser demos. A file
that is missing, unreadable or full of garbage gives ``None`` ("unknown") and
never an exception. The ``parse_*`` functions take the text of one file and are
pure, for callers that already hold the text.

``collect(root)`` gathers everything into one JSON-ready dict, the ``Facts``
that ``troubleshooter.diagnose.diagnose`` reads (``troubleshooter.facts`` names
every key). Sizes are bytes, times are seconds, ``None`` means unknown and the
string ``"unlimited"`` means no limit.
"""

from __future__ import annotations

import os
import re
import sys
import time

from .cgroup import (
    MAX_FILE,
    Root,
    host_path,
    read_meminfo,
    read_memory_cgroup,
    read_pids_cgroup,
    read_text,
    to_int,
)
from .facts import (
    UNLIMITED,
    Disk,
    Facts,
    Fault,
    KernelLog,
    Kill,
    Limits,
    LogEntries,
    MachineFacts,
    Process,
    Processes,
    ServerProcess,
    Status,
)

PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "torch",
    "tensorflow",
    "matplotlib",
    "scikit-learn",
    "ipykernel",
    "jupyter_client",
    "pyzmq",
)
MAX_PROCESSES = 2000  # /proc entries scanned at most
TOP_PROCESSES = 5
MAX_LOG_RECORDS = 50_000
LOG_SECONDS = 0.05  # time allowed for reading the kernel log

_KERNEL_MARKERS = ("ipykernel_launcher", "ipykernel", "IRkernel", "IJulia")
_CONNECTION_FILE = re.compile(r"kernel-[\w.-]+\.json")
# a Jupyter server (Lab, Notebook, Server, a hub's single-user server), by its command line
_SERVER = re.compile(
    r"jupyter-(?:lab|notebook|server)\b|jupyterhub-singleuser|jupyter_server|jupyterlab$|notebook\.app"
)
_KMSG_RECORD = re.compile(r"(\d+),(\d+),(\d+),[^;]*;(.*)")
_DMESG_LINE = re.compile(r"\[\s*(\d+\.\d+)\]\s?(.*)")
_OOM_KILLED = re.compile(
    r"(?:Memory cgroup out of memory|Out of memory)[^:]*: Killed process (\d+) \(([^)]*)\)"
    r"(?:.*?anon-rss:(\d+)kB)?"
)
_OOM_KILL_INFO = re.compile(r"oom-kill:(\S+)")
_SEGFAULT = re.compile(r"(\S+?)\[(\d+)\]: segfault at ([0-9a-f]+) ip [0-9a-f]+ sp ([0-9a-f]+)")
_TRAP = re.compile(r"traps: (\S+?)\[(\d+)\] trap invalid opcode")


# --- processes -------------------------------------------------------------------------


def parse_status(text: str | None) -> Status:
    """``/proc/PID/status``: name, uid, resident memory now and at peak (bytes), threads."""
    fields: dict[str, str] = {}
    for line in (text or "").splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    uid = fields.get("Uid", "").split()
    return {
        "name": fields.get("Name") or None,
        "uid": to_int(uid[0]) if uid else None,
        "rss": _kib(fields.get("VmRSS")),
        "peak": _kib(fields.get("VmHWM")),
        "threads": to_int(fields.get("Threads")),
    }


def parse_stat_start(text: str | None) -> float | None:
    """When a process started, in clock ticks since boot (``/proc/PID/stat``, field 22)."""
    if not text or ")" not in text:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return to_int(fields[19]) if len(fields) > 19 else None


def is_kernel(argv: list[str]) -> bool:
    """A Jupyter kernel: ``ipykernel_launcher`` or a ``-f .../kernel-ID.json`` connection file."""
    return any(marker in arg for arg in argv for marker in _KERNEL_MARKERS) or any(
        _CONNECTION_FILE.search(arg) for arg in argv
    )


def read_processes(
    root: Root = "/", top: int = TOP_PROCESSES, limit: int = MAX_PROCESSES
) -> Processes:
    """The processes using the most memory, every Jupyter kernel, and our user's threads."""
    try:
        pids = [name for name in os.listdir(host_path(root, "/proc")) if name.isdigit()]
    except OSError:
        return {
            "scanned": 0,
            "truncated": False,
            "top": [],
            "kernels": [],
            "threads": None,
            "uid": None,
            "server": None,
        }
    truncated = len(pids) > limit
    pids = pids[:limit]
    own = parse_status(read_text(root, "/proc/self/status"))
    uid = own["uid"] if own["uid"] is not None or os.fspath(root) != "/" else _getuid()
    uptime, ticks = read_uptime(root), _clock_ticks()
    found: list[Process] = []
    threads = 0
    oldest_server: ServerProcess | None = None  # the oldest Jupyter server
    for pid in pids:
        status = parse_status(read_text(root, f"/proc/{pid}/status"))
        rss = status["rss"]
        if rss is None:
            continue  # a kernel thread, or gone
        if status["uid"] == uid and status["threads"]:
            threads += status["threads"]
        argv = (read_text(root, f"/proc/{pid}/cmdline", 65536) or "").split("\0")
        kernel = is_kernel(argv)
        connection = _connection_file(argv)
        age = None
        server = not kernel and any(_SERVER.search(arg) for arg in argv[:3])
        if kernel or server:
            start = parse_stat_start(read_text(root, f"/proc/{pid}/stat"))
            if start is not None and uptime is not None:
                age = max(0.0, round(uptime - start / ticks, 1))
        if server and (oldest_server is None or (age or 0) > (oldest_server["age"] or 0)):
            oldest_server = {"pid": int(pid), "age": age}
        found.append(
            {
                "pid": int(pid),
                "name": status["name"],
                "rss": rss,
                "peak": status["peak"],
                "threads": status["threads"],
                "kernel": kernel,
                "age": age,
                "connection": connection,
            }
        )
    found.sort(key=lambda process: process["rss"], reverse=True)
    return {
        "scanned": len(pids),
        "truncated": truncated,
        "top": found[:top],
        "kernels": [process for process in found if process["kernel"]][:50],
        "threads": threads or None,
        "uid": uid,
        "server": oldest_server,
    }


def _connection_file(argv: list[str]) -> str | None:
    """The name of the kernel's connection file: the argument after ``-f``, or kernel-*.json."""
    for index, arg in enumerate(argv):
        if arg == "-f" and index + 1 < len(argv):
            return os.path.basename(argv[index + 1])
        if arg.startswith("--f="):
            return os.path.basename(arg[len("--f=") :])
    match = next((m for arg in argv if (m := _CONNECTION_FILE.search(arg))), None)
    return match.group(0) if match else None


def read_uptime(root: Root = "/") -> float | None:
    """Seconds since the machine booted (``/proc/uptime``)."""
    text = read_text(root, "/proc/uptime")
    try:
        return float(text.split()[0]) if text else None
    except (ValueError, IndexError):
        return None


def read_started(root: Root = "/", uptime: float | None = None) -> float | None:
    """How long ago PID 1 started, in seconds: in a container, the container's age."""
    start = parse_stat_start(read_text(root, "/proc/1/stat"))
    if start is None or uptime is None:
        return None
    return max(0.0, round(uptime - start / _clock_ticks(), 1))


def _kib(text: str | None) -> int | None:
    parts = (text or "").split()
    number = to_int(parts[0]) if len(parts) == 2 and parts[1] == "kB" else None
    return number * 1024 if number is not None else None


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK") or 100
    except (AttributeError, ValueError, OSError):
        return 100


def _getuid() -> int | None:
    return os.getuid() if hasattr(os, "getuid") else None


# --- limits and disks ------------------------------------------------------------------

_LIMIT_NAMES = {"Max processes": "nproc", "Max address space": "as", "Max stack size": "stack"}


def parse_limits(text: str | None) -> Limits:
    """``/proc/PID/limits``: ``{"nproc", "as", "stack"}``, each ``[soft, hard]``."""
    found: dict[str, list[int | str]] = {}
    for line in (text or "").splitlines():
        for title, key in _LIMIT_NAMES.items():
            if line.startswith(title):
                values = [_limit_value(v) for v in line[len(title) :].split()[:2]]
                pair = [value for value in values if value is not None]
                if len(pair) == 2:
                    found[key] = pair
    return _limits(found)


def _limits(found: dict[str, list[int | str]]) -> Limits:
    return {"nproc": found.get("nproc"), "as": found.get("as"), "stack": found.get("stack")}


def read_limits(root: Root = "/") -> Limits:
    """Limits on processes and threads, address space and stack, of this process."""
    limits = parse_limits(read_text(root, "/proc/self/limits"))
    if os.fspath(root) == "/" and all(value is None for value in limits.values()):
        limits = _resource_limits()  # macOS and other systems without /proc
    return limits


def _limit_value(text: str) -> int | str | None:
    return UNLIMITED if text == "unlimited" else to_int(text)


def _resource_limits() -> Limits:
    found: dict[str, list[int | str]] = {}
    try:
        import resource
    except ImportError:
        return _limits(found)
    for key, name in (("nproc", "RLIMIT_NPROC"), ("as", "RLIMIT_AS"), ("stack", "RLIMIT_STACK")):
        try:
            pair = resource.getrlimit(getattr(resource, name))
        except (AttributeError, ValueError, OSError):
            continue
        found[key] = [UNLIMITED if v == resource.RLIM_INFINITY else v for v in pair]
    return _limits(found)


def read_disks(paths: list[str]) -> list[Disk]:
    """Free and total bytes on the file systems holding ``paths``."""
    disks: list[Disk] = []
    for path in paths:
        free = total = None
        try:
            info = os.statvfs(path)
            free, total = info.f_bavail * info.f_frsize, info.f_blocks * info.f_frsize
        except (AttributeError, OSError, ValueError):
            pass
        disks.append({"path": path, "free": free, "total": total})
    return disks


def default_disk_paths() -> list[str]:
    """The home directory and the temporary directory, as a program would find them."""
    paths = [os.path.expanduser("~")]
    for name in ("TMPDIR", "TEMP", "TMP"):
        if os.environ.get(name):
            paths.append(os.environ[name])
            break
    else:
        paths.append("/tmp")
    return list(dict.fromkeys(paths))


# --- the kernel log --------------------------------------------------------------------


def parse_kernel_log(text: str, uptime: float | None = None) -> LogEntries:
    """OOM kills, segfaults and invalid-opcode traps in kernel log text.

    Accepts ``/dev/kmsg`` records (``6,123,4567890,-;message``) and ``dmesg``
    lines (``[ 4.567890] message``). ``uptime`` turns timestamps into ``ago``.
    """
    kills: list[Kill] = []
    segfaults: list[Fault] = []
    traps: list[Fault] = []
    memcgs: dict[int, str] = {}
    for line in text.splitlines():
        stamp, message = _log_line(line)
        if message is None:
            continue
        ago = round(uptime - stamp, 1) if uptime is not None and stamp is not None else None
        if ago is not None and ago < 0:
            ago = None  # a log from another boot, or a sample
        if match := _OOM_KILL_INFO.search(message):
            info = dict(item.partition("=")[::2] for item in match.group(1).split(","))
            if (pid := to_int(info.get("pid"))) is not None:
                memcgs[pid] = info.get("task_memcg") or info.get("oom_memcg") or ""
        elif match := _OOM_KILLED.search(message):
            pid = int(match.group(1))
            anon = to_int(match.group(3))
            kills.append(
                {
                    "pid": pid,
                    "name": match.group(2),
                    "anon_rss": anon * 1024 if anon is not None else None,
                    "memcg": memcgs.get(pid),
                    "ago": ago,
                    "text": message.strip()[:300],
                }
            )
        elif match := _SEGFAULT.search(message):
            segfaults.append(
                {
                    "pid": int(match.group(2)),
                    "name": match.group(1),
                    "address": int(match.group(3), 16),
                    "sp": int(match.group(4), 16),
                    "ago": ago,
                    "text": message.strip()[:300],
                }
            )
        elif match := _TRAP.search(message):
            traps.append(
                {
                    "pid": int(match.group(2)),
                    "name": match.group(1),
                    "address": None,
                    "sp": None,
                    "ago": ago,
                    "text": message.strip()[:300],
                }
            )
    return {"oom_kills": kills[-20:], "segfaults": segfaults[-20:], "traps": traps[-20:]}


def _log_line(line: str) -> tuple[float | None, str | None]:
    if match := _KMSG_RECORD.match(line):
        return int(match.group(3)) / 1e6, match.group(4)
    if match := _DMESG_LINE.match(line):
        return float(match.group(1)), match.group(2)
    if line and not line[0].isspace():
        return None, line
    return None, None


def read_kernel_log(
    root: Root = "/", uptime: float | None = None, seconds: float = LOG_SECONDS
) -> KernelLog:
    """The OOM and crash lines of the kernel log, if this user may read it.

    Reads ``/dev/kmsg`` without blocking, for at most ``seconds``; on the real
    machine, when ``/dev/kmsg`` cannot be opened, tries ``dmesg`` (1 s at most).
    ``source`` is ``None`` when the log could not be read.
    """
    text, source = _read_kmsg(root, seconds), "/dev/kmsg"
    if text is None and os.fspath(root) == "/":
        text, source = _run_dmesg(), "dmesg"
    if text is None:
        return {"source": None, "oom_kills": [], "segfaults": [], "traps": []}
    return {"source": source, **parse_kernel_log(text, uptime)}


def _read_kmsg(root: Root, seconds: float) -> str | None:
    try:
        fd = os.open(host_path(root, "/dev/kmsg"), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return None
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    try:
        while len(chunks) < MAX_LOG_RECORDS and time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 8192)  # the device gives one record per read
            except BrokenPipeError:
                continue  # that record was overwritten while we read: skip it
            except OSError:
                break  # no more records (EAGAIN), or a read the device refuses
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def _run_dmesg() -> str | None:
    import shutil
    import subprocess

    if not shutil.which("dmesg"):
        return None
    try:
        done = subprocess.run(["dmesg"], capture_output=True, timeout=1, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout[-MAX_FILE:].decode("utf-8", "replace")


# --- Python and packages ---------------------------------------------------------------


def read_packages(
    names: tuple[str, ...] = PACKAGES, path: list[str] | None = None
) -> dict[str, str | None]:
    """Installed versions of ``names``, from the ``*.dist-info`` folders on ``sys.path``.

    Listing the folders is much faster than ``importlib.metadata``; a package
    that is not installed gives ``None``.
    """
    wanted = {_normalise(name): name for name in names}
    versions: dict[str, str | None] = dict.fromkeys(names)
    for folder in path if path is not None else sys.path:
        try:
            entries = os.listdir(folder or ".")
        except (OSError, TypeError, ValueError):
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name, _, version = entry[: -len(".dist-info")].partition("-")
            key = wanted.get(_normalise(name))
            if key and versions[key] is None and version:
                versions[key] = version
    return versions


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_boot_id(root: Root = "/") -> str | None:
    text = read_text(root, "/proc/sys/kernel/random/boot_id", 100)
    return text.strip() or None if text else None


def _psutil_readings(machine: MachineFacts, processes: Processes) -> tuple[MachineFacts, Processes]:
    """Memory and processes from psutil, where it is installed; the inputs unchanged if not."""
    try:
        import psutil
    except ImportError:
        return machine, processes
    try:
        memory = psutil.virtual_memory()
        machine = {"total": memory.total, "available": memory.available}
        now = time.time()
        found: list[Process] = []
        fields = ["pid", "name", "memory_info", "cmdline", "num_threads", "create_time"]
        for number, process in enumerate(psutil.process_iter(fields)):
            if number >= MAX_PROCESSES:
                break
            info = process.info
            if not info.get("memory_info"):
                continue
            argv = info.get("cmdline") or []
            kernel = is_kernel(argv)
            found.append(
                {
                    "pid": info["pid"],
                    "name": info.get("name"),
                    "rss": info["memory_info"].rss,
                    "peak": None,
                    "threads": info.get("num_threads"),
                    "kernel": kernel,
                    "age": round(now - info["create_time"], 1) if info.get("create_time") else None,
                    "connection": _connection_file(argv),
                }
            )
    except Exception:  # psutil is a bonus: any failure leaves the readings unknown
        return machine, processes
    found.sort(key=lambda process: process["rss"], reverse=True)
    processes = {
        **processes,
        "scanned": len(found),
        "top": found[:TOP_PROCESSES],
        "kernels": [process for process in found if process["kernel"]][:50],
    }
    return machine, processes


# --- everything ------------------------------------------------------------------------


def collect(root: Root = "/", disks: list[str] | None = None) -> Facts:
    """Every reading above, as ``Facts``.

    On the real machine (``root="/"``) it also asks the standard library for what
    ``/proc`` does not say (limits without ``/proc``, the Python running it), and
    psutil, when installed, for memory and processes on systems without ``/proc``;
    under another ``root`` the disks are those of ``disks`` (none by default).
    """
    real = os.fspath(root) == "/"
    uptime = read_uptime(root)
    machine, processes = read_meminfo(root), read_processes(root)
    if real and machine["total"] is None and not processes["scanned"]:
        machine, processes = _psutil_readings(machine, processes)  # no /proc: macOS, Windows
    return {
        "machine": machine,
        "cgroup": read_memory_cgroup(root),
        "processes": processes,
        "pids": read_pids_cgroup(root),
        "limits": read_limits(root),
        "disk": read_disks(disks if disks is not None else default_disk_paths() if real else []),
        "kernel_log": read_kernel_log(root, uptime),
        "uptime": uptime,
        "started": read_started(root, uptime),
        "boot_id": read_boot_id(root),
        "python": {
            "version": ".".join(map(str, sys.version_info[:3])),
            "executable": sys.executable or None,
        },
        "packages": read_packages() if real else dict.fromkeys(PACKAGES),
    }
