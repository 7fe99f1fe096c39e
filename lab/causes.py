"""One scenario per way a kernel dies, each reproduced for real through a real server.

Each scenario takes a fresh folder, starts its own server there, opens a
notebook, does what a user would, and returns a run record (``lab.record``).
``CAUSES`` lists the scenarios of each cause id of ``troubleshooter.causes``,
and ``NOT_REPRODUCED`` the variants this lab cannot make happen, with why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from . import cgroups
from .scenario import (
    await_back,
    await_exit_status,
    await_kernel,
    close,
    finish,
    kernel_log,
    open_notebook,
    run_cells,
)
from .server import Servers, launcher, python_kernel

Run = dict[str, Any]
MEMORY_LIMIT = 200 * 1024 * 1024
DISK_SIZE = "2m"  # tmpfs size= syntax: 2 MiB
NPROC = 40
LOAD_COMPANION = "%load_ext troubleshooter"
COMPANION_LINES = 7
VERDICT_WORDS = ("Confirmed:", "Likely:", "Guess:")


class Unavailable(Exception):
    """This machine cannot make the scenario happen; the message says why."""


def _one_cell(
    servers: Servers, work: Path, name: str, how: str, code: str, *, cells: list[str] | None = None,
    env: dict[str, str] | None = None, wrap: dict[str, Any] | None = None,
    path: str = "crash.ipynb", companion: bool = False,
) -> Run:  # fmt: skip
    """Open a notebook, run ``cells`` (default: ``[code]``), wait for what follows.

    With ``companion``, the first cell is ``%load_ext troubleshooter`` and, once the kernel
    is back, the same line again: its post-mortem of the death goes in ``run["companion"]``.
    """
    stderr = work / "kernel.stderr"
    spec = python_kernel(
        sys.executable, wrap=launcher(stderr=stderr, **(wrap or {})), env=env or {}
    )
    with servers.use(work, spec) as server:
        notebook = open_notebook(server, path)
        post_mortem: list[str] = []
        try:
            run_cells(notebook, [LOAD_COMPANION] * companion + (cells or [code]))
            if notebook.channels and notebook.channels.died():
                await_exit_status(server, notebook.since)
                await_back(notebook)
                if companion and notebook.channels:
                    notebook.channels.displays.clear()
                    notebook.channels.run(LOAD_COMPANION, 60)
                    notebook.channels.read_until(lambda c: bool(c.displays), 10)
                    post_mortem = "\n".join(notebook.channels.displays).splitlines()
        finally:
            close(notebook)
        run = finish(notebook, name, how, code, stderr_file=stderr)
        if companion:  # its first lines, then its verdict
            verdict = [line for line in post_mortem if line.startswith(VERDICT_WORDS)]
            run["companion"] = post_mortem[:COMPANION_LINES] + verdict[:1]
        return run


# --- out of memory -------------------------------------------------------------------


@contextlib.contextmanager
def _cgroup() -> Iterator[cgroups.Cgroup]:
    try:
        with cgroups.memory_cgroup(MEMORY_LIMIT, "troubleshooter-lab") as cgroup:
            yield cgroup
    except cgroups.Unavailable as why:
        raise Unavailable(str(why)) from None


def _in_memory_cgroup(
    servers: Servers, work: Path, name: str, how: str, code: str, cells: list[str]
) -> Run:
    with _cgroup() as cgroup:
        wrap = {"cgroup": cgroup.procs}
        run = _one_cell(servers, work, name, how, code, cells=cells, wrap=wrap)
        run["oom_kills"] = cgroup.oom_kills()
        run["kernel_log"] = kernel_log(run["exit_pid"])
        return run


def oom_one_step(servers: Servers, work: Path) -> Run:
    code = 'data = b"x" * (1024 ** 3)  # 1 GB in one piece, written page by page'
    how = f"the kernel in a memory cgroup of {MEMORY_LIMIT >> 20} MB, no swap; one cell"
    return _in_memory_cgroup(servers, work, "one big allocation", how, code, [code])


def oom_slow_growth(servers: Servers, work: Path) -> Run:
    code = 'chunks.append(b"x" * 40_000_000)  # 40 MB more with every run of the cell'
    how = (
        f"the kernel in a memory cgroup of {MEMORY_LIMIT >> 20} MB, no swap; "
        "the same cell run again and again"
    )
    return _in_memory_cgroup(servers, work, "slow growth", how, code, ["chunks = []"] + [code] * 12)


# --- crashes in native code ------------------------------------------------------------


def native_null_read(servers: Servers, work: Path) -> Run:
    code = "import ctypes\nctypes.string_at(0)  # read memory at address 0"
    return _one_cell(servers, work, "NULL read through ctypes", "one cell, default kernel", code)


def native_with_companion(servers: Servers, work: Path) -> Run:
    """The NULL read again, in a kernel with the companion loaded (its post-mortem kept)."""
    code = "import ctypes\nctypes.string_at(0)  # read memory at address 0"
    how = "one cell, after %load_ext troubleshooter; the same line once the kernel was back"
    return _one_cell(servers, work, "NULL read, companion loaded", how, code, companion=True)


def illegal_instruction(servers: Servers, work: Path) -> Run:
    code = (
        "import ctypes, mmap\n"
        "rwx = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC\n"
        "page = mmap.mmap(-1, mmap.PAGESIZE, prot=rwx)\n"
        'page.write(b"\\x0f\\x0b")  # ud2: an instruction every x86-64 CPU refuses\n'
        "ctypes.CFUNCTYPE(None)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()"
    )
    how = (
        "machine code the CPU refuses, run from an executable page (SIGILL, as from a wheel "
        "built for a newer CPU)"
    )
    if os.uname().machine not in ("x86_64", "AMD64"):
        raise Unavailable(
            f"the ud2 instruction is x86-64 code; this machine is {os.uname().machine}"
        )
    return _one_cell(servers, work, "illegal instruction (SIGILL)", how, code)


# --- threads and processes -------------------------------------------------------------

_FILL_THREADS = (
    "import threading, time\n"
    "stop = threading.Event()\n"
    "threads = []\n"
    "for _ in range(10_000):\n"
    "    threads.append(threading.Thread(target=stop.wait))\n"
    "    threads[-1].start()"
)


def _as_nobody(work: Path) -> dict[str, Any]:
    if os.geteuid() != 0:
        raise Unavailable("needs root to run a kernel as another user with a lowered RLIMIT_NPROC")
    if shutil.which("setpriv") is None:
        raise Unavailable("needs setpriv (util-linux) to start the kernel as another user")
    home = work / "home"
    home.mkdir(parents=True)
    shutil.chown(home, "nobody")
    for folder in (work, work / "home"):
        folder.chmod(0o755)
    return {"HOME": str(home), "IPYTHONDIR": str(home / ".ipython")}


def threads_exhausted(servers: Servers, work: Path) -> Run:
    env = _as_nobody(work)
    how = f"the kernel as user nobody with RLIMIT_NPROC {NPROC} (ulimit -u); a cell starts threads"
    return _one_cell(servers, work, "threads failing", how, _FILL_THREADS, env=env,
                     wrap={"user": "nobody", "nproc": NPROC})  # fmt: skip


def openblas_threads(servers: Servers, work: Path) -> Run:
    env = _as_nobody(work)
    code = "import numpy  # OpenBLAS starts its threads here"
    how = (
        f"the kernel as user nobody with RLIMIT_NPROC {NPROC}; a cell holds every thread the limit "
        "allows, the next imports NumPy"
    )
    wrap = {"user": "nobody", "nproc": NPROC}
    name = "OpenBLAS thread start-up"
    return _one_cell(
        servers, work, name, how, code, cells=[_FILL_THREADS, code], env=env, wrap=wrap
    )


# --- recursion ---------------------------------------------------------------------------

_DEEP = (
    "import sys\n"
    "sys.setrecursionlimit(10**6)\n"
    "def depth(n):\n"
    "    return max(map(depth, [n + 1]))  # each call goes through C: the C stack grows\n"
    "depth(0)"
)


def stack_overflow_with_companion(servers: Servers, work: Path) -> Run:
    """The C stack overflow again, in a kernel with the companion loaded."""
    how = "one cell, after %load_ext troubleshooter; the same line once the kernel was back"
    return _one_cell(servers, work, "C stack overflow, companion loaded", how, _DEEP,
                     companion=True)  # fmt: skip


def oom_with_companion(servers: Servers, work: Path) -> Run:
    """One big allocation again, in a kernel with the companion (and its memory guard)."""
    code = 'data = b"x" * (1024 ** 3)  # 1 GB in one piece, written page by page'
    how = f"as above, {MEMORY_LIMIT >> 20} MB cgroup, after %load_ext troubleshooter"
    with _cgroup() as cgroup:
        run = _one_cell(servers, work, "one big allocation, companion loaded", how, code,
                        wrap={"cgroup": cgroup.procs}, companion=True)  # fmt: skip
        run["oom_kills"] = cgroup.oom_kills()
        return run


def c_stack_overflow(servers: Servers, work: Path) -> Run:
    how = "one cell; PYTHONFAULTHANDLER=1 in the kernel spec, as the guide suggests"
    return _one_cell(servers, work, "C stack overflow", how, _DEEP, env={"PYTHONFAULTHANDLER": "1"})


def recursion_error(servers: Servers, work: Path) -> Run:
    code = "def depth(n):\n    return depth(n + 1)\ndepth(0)"
    return _one_cell(servers, work, "RecursionError", "one cell, the default recursion limit", code)


# --- output ------------------------------------------------------------------------------


def iopub_flood(servers: Servers, work: Path) -> Run:
    code = 'for i in range(20_000):\n    print("x" * 500)  # 10 MB of output in a second or two'
    how = "one cell; the server's default IOPub data-rate limit (1,000,000 B/s over 3 s)"
    run = _one_cell(servers, work, "IOPub data rate exceeded", how, code)
    return run


# --- disk --------------------------------------------------------------------------------


@contextlib.contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[Path]:
    folder.mkdir(parents=True)
    if os.geteuid() != 0:
        raise Unavailable("needs root to mount a small tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise Unavailable(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        for attempt in (["umount", str(folder)], ["umount", "-l", str(folder)]):
            if (
                subprocess.run(attempt, capture_output=True, timeout=30, check=False).returncode
                == 0
            ):
                break


def disk_full(servers: Servers, work: Path) -> list[Run]:
    code = (
        'with open("results.bin", "wb") as out:\n'
        "    for _ in range(100):  # at most 100 MB\n"
        '        out.write(b"\\0" * 1024 * 1024)'
    )
    how = (
        "a 2 MiB tmpfs as the notebook folder and the server's runtime folder (where "
        "connection files go); one cell fills it, then a second notebook is opened"
    )
    stderr = work / "kernel.stderr"
    with _tmpfs(work / "disk", DISK_SIZE) as disk:
        root, runtime = disk / "notebooks", disk / "runtime"
        spec = python_kernel(sys.executable, wrap=launcher(stderr=stderr))
        with servers.use(work, spec, root=root, runtime=runtime) as server:
            notebook = open_notebook(server, "crash.ipynb")
            try:
                run_cells(notebook, [code])
            finally:
                close(notebook)
            run = finish(notebook, "writing a file", how, code, stderr_file=stderr)
            second = open_notebook(server, "second.ipynb")
            close(second)
            how = "then, with that disk still full, another notebook opened"
            return [run, finish(second, "opening another notebook", how, None)]


# --- the kernel's environment ------------------------------------------------------------


def no_ipykernel(servers: Servers, work: Path) -> Run:
    bare = work / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)],
                   check=True, timeout=120, capture_output=True)  # fmt: skip
    stderr = work / "kernel.stderr"
    spec = python_kernel(str(bare / "bin" / "python"), wrap=launcher(stderr=stderr))
    how = "a kernel spec whose python is a virtual environment without ipykernel"
    return _start_only(servers, work, spec, "python without ipykernel", how, stderr)


def removed_interpreter(servers: Servers, work: Path) -> Run:
    gone = work / "old-env" / "bin"
    gone.mkdir(parents=True)
    (gone / "python").symlink_to(sys.executable)
    spec = python_kernel(str(gone / "python"))
    shutil.rmtree(work / "old-env")
    how = "a kernel spec whose python was in an environment since removed"
    return _start_only(servers, work, spec, "removed interpreter", how, None)


def shadowed_stdlib(servers: Servers, work: Path) -> Run:
    """A random.py beside the notebook, shadowing the standard library's."""
    folder = servers.root / "homework"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "random.py").write_text("import random\n\nprint(random.randint(1, 6))\n")
    code = "import random\nprint(random.__file__)"
    with servers.use(work, python_kernel(sys.executable)) as server:
        notebook = open_notebook(server, "homework/dice.ipynb")
        try:
            run_cells(notebook, [code])
            order = "import sys\nprint(sys.path.index(''), len(sys.path))"
            run_cells(notebook, [order])
        finally:
            close(notebook)
    printed = notebook.channels.streams.get("stdout", "") if notebook.channels else ""
    if "homework" not in printed:
        raise Unavailable(
            "this ipykernel puts the notebook's folder after the standard library on sys.path, "
            "so `import random` in a cell gave " + " ".join(printed.split()[:1])
        )
    raise RuntimeError(f"random.py was imported ({printed!r}): add a scenario for it")


def shadowed_package(servers: Servers, work: Path) -> Run:
    folder = servers.root / "lesson"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "numpy.py").write_text("import numpy as np\n\nprint(np.arange(6).reshape(2, 3))\n")
    how = "a student's numpy.py (import numpy as np, then np.arange) beside the notebook"
    code = "import numpy as np\nnp.zeros(3)"
    return _one_cell(
        servers, work, "numpy.py beside the notebook", how, code, path="lesson/numpy-basics.ipynb"
    )


def _start_only(
    servers: Servers, work: Path, spec: dict[str, Any], name: str, how: str,
    stderr: Path | None,
    path: str = "crash.ipynb", code: str | None = None,
) -> Run:  # fmt: skip
    with servers.use(work, spec) as server:
        notebook = open_notebook(server, path)
        try:
            if notebook.kernel_id:
                if code and notebook.channels and not notebook.channels.died():
                    run_cells(notebook, [code])
                await_kernel(notebook, ("dead", "gone"))
        finally:
            close(notebook)
        if notebook.kernel_id:  # what the "dead" kernel's process ended with
            server.rest.request("DELETE", f"/api/kernels/{notebook.kernel_id}")
            await_exit_status(server, notebook.since)
        return finish(notebook, name, how, code, stderr_file=stderr)


# --- restarts and idle shutdowns ---------------------------------------------------------


def idle_cull(servers: Servers, work: Path) -> Run:
    options = (
        "--MappingKernelManager.cull_idle_timeout=3",
        "--MappingKernelManager.cull_interval=1",
    )
    how = (
        "the server's culler (cull_idle_timeout 3 s); the tab closed after x = 42, the "
        "notebook opened again once the kernel was gone"
    )
    code = "x = 42"
    with servers.use(work, python_kernel(sys.executable), options=options) as server:
        notebook = open_notebook(server, "crash.ipynb")
        try:
            run_cells(notebook, [code])
        finally:
            close(notebook)
        await_kernel(notebook, ("gone",))
        await_exit_status(server, notebook.since)
        reopened = open_notebook(server, "crash.ipynb")
        try:
            run_cells(reopened, ["x"])
        finally:
            close(reopened)
        run = finish(notebook, "idle culling", how, code, requested=True)
        run["shown"]["output"] = finish(reopened, "reopened", how, "x")["shown"]["output"]
        return run


def restart_request(servers: Servers, work: Path) -> Run:
    how = "x = 42, then POST /api/kernels/ID/restart, then x"
    code = "x = 42"
    with servers.use(work, python_kernel(sys.executable)) as server:
        notebook = open_notebook(server, "crash.ipynb")
        try:
            run_cells(notebook, [code])
            server.rest.request("POST", f"/api/kernels/{notebook.kernel_id}/restart")
            await_kernel(notebook, ("idle",))
            await_exit_status(server, notebook.since)
            if notebook.channels is not None:  # the restart kept the ports: the same websocket
                notebook.channels.run("x", 30)
        finally:
            close(notebook)
        return finish(notebook, "restart request", how, code, requested=True)


Scenario = Callable[[Servers, Path], Run | list[Run]]
CAUSES: dict[str, list[Scenario]] = {
    "out-of-memory": [oom_one_step, oom_slow_growth, oom_with_companion],
    "native-crash": [native_null_read, native_with_companion],
    "abi-mismatch": [illegal_instruction],
    "thread-limit": [threads_exhausted, openblas_threads],
    "stack-overflow": [c_stack_overflow, stack_overflow_with_companion, recursion_error],
    "output-flood": [iopub_flood],
    "disk-full": [disk_full],
    "broken-environment": [no_ipykernel, removed_interpreter, shadowed_package, shadowed_stdlib],
    "restart-or-idle": [idle_cull, restart_request],
}
NOT_REPRODUCED: dict[str, list[dict[str, str]]] = {
    "abi-mismatch": [
        {
            "name": "two OpenMP runtimes (OMP: Error #15)",
            "why": "needs two packages that each bring their own OpenMP runtime (for example "
            "Intel's libiomp5 beside LLVM's or GNU's); the lab's dependency group has none",
        },
        {
            "name": "a module compiled for NumPy 1.x under NumPy 2",
            "why": "needs a compiled package built against NumPy 1.x; the lab installs only "
            "NumPy 2 and nothing compiled against the old API",
        },
    ],
}
