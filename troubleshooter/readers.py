"""The readers: each answers one question of the kernel-terminated tree from the evidence.

A reader takes a ``Case`` (the facts ``troubleshooter.evidence.collect`` gathered,
the death, the output and code given) and returns a ``Reading``: the answer id
(``None``: it cannot tell), whether the answer was measured or only assumed,
and the evidence lines behind it. ``READERS`` maps question ids to readers;
``troubleshooter.diagnose.walk`` calls them.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .compiled import MAX_TEXT
from .facts import UNLIMITED, facts_part
from .messages import MessageReading, read
from .report import ago_text, clip, duration_text, plural, share_text, size_text
from .signals import Death

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Callable, Mapping

    # answer id (None: cannot tell), measured (not only assumed), evidence lines
    Reading = tuple[str | None, bool, list[str]]

NEAR_LIMIT = 0.95  # a peak this close to the limit counts as reaching it
DISK_NEARLY_FULL = 0.03  # free share below which a disk counts as full
DISK_MIN_FREE = 100 * 1024 * 1024
THREADS_NEAR_LIMIT = 0.9
KERNELS_SHARE = 0.25  # kernels holding this share of the limit "hold much of the memory"
RECENT_LOG = 24 * 3600  # kernel log lines older than this are left out
RECENT_RESTART = 15 * 60  # PID 1 younger than this: the whole unit restarted
RESTART_WINDOW = 5 * 60  # an OOM kill this long before the restart may have caused it
REPEATED_FRAMES = 20  # the same frame this many times in a row: runaway recursion

# What a reader looks for among the message's recognised lines (troubleshooter/signatures.toml):
# a clue name -> the signatures' field and the values that count.
CLUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "numpy": ("step", ("abi-numpy",)),
    "openmp": ("step", ("abi-openmp",)),
    "threads": ("cause", ("thread-limit",)),
    "stack": ("cause", ("stack-overflow",)),
    "iopub": ("cause", ("output-flood",)),
    "no-space": ("cause", ("disk-full",)),
    "no-module": ("step", ("kernel-spec-broken",)),
    "startup": ("cause", ("broken-environment",)),
    "segfault": ("cause", ("native-crash",)),
    "memory": ("cause", ("out-of-memory",)),
    "illegal": ("id", ("illegal-instruction", "win-illegal-instruction")),
    "killed": ("id", ("killed",)),
    "culled": ("id", ("server-culling",)),
}
# The clues error-output tries, in this order; each is also the id of the answer it gives.
ERROR_OUTPUT_CLUES = (
    "numpy",
    "openmp",
    "threads",
    "stack",
    "iopub",
    "no-space",
    "startup",
    "illegal",
    "segfault",
    "memory",
)
# Windows status codes a crashed kernel exits with: the answers of question windows-code
WINDOWS_CODES = {
    "access-violation": (3221225477, "0xC0000005"),
    "stack": (3221225725, "0xC00000FD"),
    "fast-fail": (3221226505, "0xC0000409"),
}
_WINDOWS_CODE = re.compile(r"(?<![\w-])(-?\d{10}|0x[0-9A-Fa-f]{8})(?!\w)")
_FRAME = re.compile(r'^\s*File "([^"]*)", line (\d+)(?:,)? in (\S+)', re.MULTILINE)
_RECURSION_LIMIT = re.compile(r"setrecursionlimit\s*\(\s*([^)]*?)\s*\)")
_SOURCE_FILE = re.compile(r'File "([^"]*?)([A-Za-z_]\w*)\.py"')
_SHADOW_NAMES = frozenset(
    getattr(sys, "stdlib_module_names", ())
    or ("random", "signal", "email", "math", "string", "types", "json", "socket", "copy")
)


# --- the evidence, in the terms the questions ask ----------------------------------------


@dataclass
class Case:
    """Everything known about one death, with helpers that phrase the evidence."""

    facts: Mapping[str, Any]
    death: Death
    text: str
    code: str
    run: dict[str, Any] | None
    previous: dict[str, Any] | None
    reading: MessageReading | None = None  # the text read; None: read it here

    def part(self, key: str) -> dict[str, Any]:
        return facts_part(self.facts, key)

    def __post_init__(self) -> None:
        if self.reading is None:
            self.reading = read(self.text[-MAX_TEXT:])

    @property
    def told(self) -> MessageReading:
        """What the text says, read by ``troubleshooter.messages``."""
        return self.reading if self.reading is not None else read(None)

    def clue(self, name: str) -> str | None:
        """The first recognised line of ``text`` that counts for clue ``name`` (see CLUES)."""
        key, values = CLUES[name]
        for recognised in self.told.lines:
            if getattr(recognised.signature, key) in values:
                return recognised.text[:160]
        return None

    def limit(self) -> int | None:
        """The memory limit in bytes: the cgroup's, else the machine's memory."""
        limit = self.part("cgroup").get("limit")
        if isinstance(limit, int) and limit > 0:
            total = self.part("machine").get("total")
            return min(limit, total) if isinstance(total, int) and total > 0 else limit
        total = self.part("machine").get("total")
        return total if isinstance(total, int) and total > 0 else None

    def log(self, kind: str) -> list[dict[str, Any]]:
        """Recent kernel-log entries of ``kind`` (``oom_kills``, ``segfaults``, ``traps``)."""
        entries = self.part("kernel_log").get(kind) or []
        return [
            entry
            for entry in entries
            if isinstance(entry, dict) and (entry.get("ago") is None or entry["ago"] < RECENT_LOG)
        ]

    def _recent_oom_kills(self) -> list[dict[str, Any]]:
        """Recent OOM kills in the kernel log; for a run, only those while it ran."""
        kills = self.log("oom_kills")
        duration = (self.run or {}).get("duration")
        if isinstance(duration, (int, float)):
            kills = [k for k in kills if isinstance(k.get("ago"), (int, float))]
            kills = [k for k in kills if k["ago"] <= duration + 5]
        return kills

    def _owns(self, kill: Mapping[str, Any]) -> bool | None:
        """Whether a logged kill hit this cgroup: True, False, or None (cannot be told).

        A run knows its process id. Otherwise the kill's cgroup must end with this one's
        path; a path of "/" (inside a cgroup namespace every container sees its own cgroup
        as "/") or a line that names no cgroup cannot be told from another tenant's kill.
        """
        pid = (self.run or {}).get("pid")
        if pid is not None and kill.get("pid") == pid:
            return True
        path, memcg = self.part("cgroup").get("path"), kill.get("memcg")
        if not path or not memcg:
            return None
        if path == "/":
            return True if memcg == "/" else None
        return memcg.rstrip("/").endswith(path.rstrip("/"))

    def own_oom_kills(self) -> list[dict[str, Any]]:
        """Recent OOM kills in the kernel log that certainly hit this cgroup."""
        return [k for k in self._recent_oom_kills() if self._owns(k) is True]

    def unattributed_oom_kills(self) -> list[dict[str, Any]]:
        """Recent OOM kills that may be this cgroup's or another tenant's: nothing tells."""
        return [k for k in self._recent_oom_kills() if self._owns(k) is None]

    def since_last_check(self) -> int | None:
        """OOM kills counted since the previous check, if it was of this cgroup and boot."""
        now = self.part("cgroup").get("oom_kills")
        previous = self.previous or {}
        before = previous.get("oom_kills")
        if not isinstance(now, int) or not isinstance(before, int) or self.restarted_since():
            return None
        return now - before if now >= before else None

    def restarted_since(self) -> bool:
        """The machine or container started again since the previous check."""
        previous = self.previous or {}
        if not previous:
            return False
        boot = self.facts.get("boot_id")
        if boot and previous.get("boot_id") and boot != previous["boot_id"]:
            return True
        now = self.part("cgroup").get("oom_kills")
        before = previous.get("oom_kills")
        if isinstance(now, int) and isinstance(before, int) and now < before:
            return True
        started, uptime = self.facts.get("started"), self.facts.get("uptime")
        start_then = previous.get("pid1_boot_time")
        if isinstance(started, (int, float)) and isinstance(uptime, (int, float)) and start_then:
            return abs((uptime - started) - start_then) > 5
        return False


# --- readers, one per question -----------------------------------------------------------


def read_message(case: Case) -> Reading:
    if code := windows_code(case.text):
        return "exit-code", True, [f"The message gives a Windows exit code, {code}."]
    if case.clue("no-module") and "ipykernel" in case.text:
        return "at-start", True, [f"The output says: {case.clue('no-module')}"]
    if case.text.strip():
        return "no-detail", True, ["The message names neither a signal nor an exit code."]
    return "no-detail", False, ["No message was given (--message, --signal or --exit-code)."]


def read_memory_limit(case: Case) -> Reading:
    """Only a rise of the OOM-kill count, or a kill of this cgroup in the kernel log, proves it.

    The count is cumulative (and on cgroup v2 counts child cgroups too), and the peak includes
    file cache and ``/dev/shm``: a peak at the limit alone is no proof.
    """
    cgroup = case.part("cgroup")
    evidence: list[str] = []
    if case.run is not None and isinstance(case.run.get("oom_kills"), int):
        during = case.run["oom_kills"]
        evidence.append(f"The OOM-kill counter rose by {during} during the run.")
        if during > 0:
            return "at-limit", True, evidence
        if cgroup.get("version"):
            return "below-limit", True, evidence
    kills = cgroup.get("oom_kills")
    since = case.since_last_check() if case.run is None else None
    where = f"memory cgroup v{cgroup.get('version')} {cgroup.get('path')}"
    if case.run is None and isinstance(kills, int):
        note = (
            f", {since} since the last check"
            if since is not None
            else " since it was created (first check here: nothing to compare with)"
            if not case.previous
            else " (the counter started again: a restart since the last check)"
        )
        evidence.append(f"The {where} counts {plural(kills, 'OOM kill')}{note}.")
    own_kills = case.own_oom_kills()
    for kill in own_kills[-2:]:
        evidence.append(f"Kernel log, {ago_text(kill.get('ago'))}: {clip(kill.get('text'))}")
    maybe = case.unattributed_oom_kills() if not own_kills else []
    for kill in maybe[-1:]:
        evidence.append(
            f"Kernel log, {ago_text(kill.get('ago'))}: {clip(kill.get('text'))} Whose kill it "
            f"was cannot be told: {_why_unattributed(case, kill)}, so it may be another "
            "container's or user's."
        )
    peak, limit, anon = cgroup.get("peak"), cgroup.get("limit"), cgroup.get("anon")
    near = isinstance(peak, int) and isinstance(limit, int) and peak >= NEAR_LIMIT * limit
    if isinstance(limit, int) and isinstance(peak, int):
        parts = ""
        if isinstance(anon, int):
            parts = (
                f"; programs hold {size_text(anon)} now, file cache "
                f"{size_text(cgroup.get('file'))} (cache counts in the peak and is given back)"
            )
        evidence.append(
            f"Peak memory use {size_text(peak)} of the {size_text(limit)} limit"
            f"{share_text(peak, limit)}{parts}."
        )
    if (since or 0) > 0 or own_kills:
        return "at-limit", True, evidence
    if since == 0:
        evidence.append("No OOM kill since the last check.")
        return "below-limit", True, evidence
    if isinstance(kills, int) and case.run is None:
        if kills == 0:
            return "below-limit", True, evidence
        evidence.append("Only a rise across the next crash would tie it to this one.")
        return "at-limit", False, evidence
    if near or maybe:
        return "at-limit", False, evidence
    if isinstance(kills, int) and (isinstance(peak, int) or limit == UNLIMITED):
        return "below-limit", True, evidence
    if case.part("kernel_log").get("source") and not case.log("oom_kills"):
        evidence.append("The kernel log shows no OOM kill in the last day.")
        return "below-limit", False, evidence
    evidence.append("The memory counters of this machine could not be read.")
    return "at-limit", False, evidence


def read_kernel_count(case: Case) -> Reading:
    processes = case.part("processes")
    kernels = [k for k in processes.get("kernels") or [] if isinstance(k, dict)]
    if not processes.get("scanned"):
        return "alone", False, ["The running processes could not be read."]
    held = sum(k.get("rss") or 0 for k in kernels)
    limit = case.limit()
    listing = ", ".join(
        f"pid {k.get('pid')} {size_text(k.get('rss'))}"
        + (f" up {duration_text(k.get('age'))}" if k.get("age") is not None else "")
        for k in kernels[:6]
    )
    if not kernels:
        return "alone", True, ["No other Jupyter kernel is running now."]
    evidence = [
        f"{len(kernels)} Jupyter kernel{'s' if len(kernels) > 1 else ''} running now, "
        f"holding {size_text(held)}{share_text(held, limit)} of {size_text(limit)}: {listing}."
    ]
    if limit and held >= KERNELS_SHARE * limit:
        return "several", True, evidence
    return "alone", True, evidence


def read_memory_pattern(case: Case) -> Reading:
    stack, _ = _stack_overflow_evidence(case)
    if stack:  # since Python 3.11 a runaway Python recursion fills memory, not the stack
        return "recursion", True, stack
    evidence = [
        "Whether memory jumped in one cell or climbed cell after cell cannot be read "
        "afterwards; the biggest single step is the likelier."
    ]
    limit = case.limit()
    for kill in case.own_oom_kills()[-1:]:
        if isinstance(kill.get("anon_rss"), int) and limit:
            evidence.append(
                f"The killed process {kill.get('name')} held {size_text(kill['anon_rss'])}"
                f"{share_text(kill['anon_rss'], limit)} of the limit when it was killed."
            )
    return "one-step", False, evidence


def read_who_stopped(case: Case) -> Reading:
    if case.run is not None:
        return "nobody", True, ["Nobody stopped the run: it ended by itself."]
    started = case.facts.get("started")
    if clue := case.clue("culled"):
        return "culled", True, [f"The server's log says: {clue}"]
    if isinstance(started, (int, float)) and started < RECENT_RESTART:
        return "whole-unit", True, [f"The first process (PID 1) started {ago_text(started)}."]
    server = case.part("processes").get("server")
    server = server if isinstance(server, dict) else {}
    age = server.get("age")
    if isinstance(age, (int, float)) and age < RECENT_RESTART:
        return (
            "whole-unit",
            True,
            [
                f"The Jupyter server (pid {server.get('pid')}) started {ago_text(age)}: it "
                "restarted, and its kernels with it, while the first process ran on."
            ],
        )
    if case.restarted_since():
        return "whole-unit", True, ["The machine or container restarted since the last check."]
    evidence = []
    if isinstance(started, (int, float)):
        evidence.append(f"The first process (PID 1) has been running for {duration_text(started)}.")
    if isinstance(age, (int, float)):
        evidence.append(f"The Jupyter server has been running for {duration_text(age)}.")
    signal = case.death.signal
    if signal in ("SIGTERM", "SIGINT", "SIGHUP") or case.death.exit_code == 0:
        evidence.append(f"{signal or 'Exit code 0'} is how a requested stop ends a kernel.")
        return "me", False, evidence
    return "nobody", False, evidence


def read_unit_stopped(case: Case) -> Reading:
    if clue := case.clue("memory"):
        return "oom", True, [f"The message says: {clue}"]
    started = case.facts.get("started")
    for kill in case.own_oom_kills():
        ago = kill.get("ago")
        # a kill from just before the first process started may have been the restart's cause
        if not isinstance(ago, (int, float)) or not isinstance(started, (int, float)):
            continue
        if started <= ago <= started + RESTART_WINDOW:
            text = clip(kill.get("text"))
            return "oom", True, [f"Kernel log, {ago_text(ago)}, just before the restart: {text}"]
    for kill in case.unattributed_oom_kills():
        ago = kill.get("ago")
        if not isinstance(ago, (int, float)) or not isinstance(started, (int, float)):
            continue
        if started <= ago <= started + RESTART_WINDOW:
            text, why = clip(kill.get("text")), _why_unattributed(case, kill)
            line = f"Kernel log, {ago_text(ago)}, just before the restart: {text} ({why})"
            return "oom", False, [line]
    evidence = ["Nothing read here says the restart was for memory; the counters start again at 0."]
    return "restart", False, evidence


def read_really_dead(case: Case) -> Reading:
    processes = case.part("processes")
    if not processes.get("scanned"):
        return None, False, ["The running processes could not be read."]
    kernels = [k for k in processes.get("kernels") or [] if isinstance(k, dict)]
    if not kernels:
        return "dead", True, ["No Jupyter kernel is running now."]
    listing = ", ".join(f"pid {k.get('pid')}" for k in kernels[:6])
    evidence = [
        f"{plural(len(kernels), 'Jupyter kernel')} still running ({listing}): reload the page "
        "and see whether one is this notebook's."
    ]
    return "alive", False, evidence


def windows_code(text: str) -> str | None:
    """The first Windows crash status in ``text``, as its hexadecimal name, if any."""
    for match in _WINDOWS_CODE.finditer(text):
        word = match.group(1)
        number = int(word, 16) if word.lower().startswith("0x") else int(word) & 0xFFFFFFFF
        if number >= 0xC0000000:
            return f"0x{number:08X}"
    return None


def read_exit_code(case: Case) -> Reading:
    """Answers only a Windows status: the other answers follow from the exit code itself."""
    if code := windows_code(case.text):
        return "code-windows", True, [f"Exit code {code} is a Windows crash status."]
    return None, False, []


def read_windows_code(case: Case) -> Reading:
    code = windows_code(case.text)
    if code is None:
        return None, False, []
    for answer, (number, name) in WINDOWS_CODES.items():
        if code == name:
            return answer, True, [f"Windows status {name} ({number})."]
    return "other", True, [f"Windows status {code}: none of the common crash codes."]


def read_segv_detail(case: Case) -> Reading:
    stack, hint = _stack_overflow_evidence(case)
    if stack:
        return "recursion", True, stack + hint
    if clue := case.clue("threads"):
        return "threads", True, [f"The output says: {clue}"]
    threads = _threads_near_limit(case)
    if threads:
        return "threads", True, threads
    if clue := case.clue("numpy"):
        return "numpy", True, [f"The output says: {clue}"]
    if hint:  # a fault at the stack pointer, but maybe of another process
        return "recursion", False, hint
    evidence = _crash_log_evidence(case)
    return "none", bool(case.text.strip()), evidence


def read_abort_detail(case: Case) -> Reading:
    if clue := case.clue("openmp"):
        return "openmp", True, [f"The output says: {clue}"]
    if clue := case.clue("stack"):
        return "stack", True, [f"The output says: {clue}"]
    if clue := case.clue("threads"):
        return "threads", True, [f"The output says: {clue}"]
    return "other", bool(case.text.strip()), _crash_log_evidence(case)


def read_bus_detail(case: Case) -> Reading:
    full, evidence = _full_disks(case)
    if full:
        return "full", True, evidence
    return "not-full", bool(evidence), evidence


def read_error_output(case: Case) -> Reading:
    for name in ERROR_OUTPUT_CLUES:
        if clue := case.clue(name):
            return name, True, [f"The output says: {clue}"]
    if shadow := _shadowing_file(case):
        return "startup", True, [shadow]
    full, disks = _full_disks(case)
    if full:
        return "no-space", True, disks
    threads = _threads_near_limit(case)
    if threads:
        return "threads", True, threads
    if case.text.strip():
        return "nothing", True, ["The output matches none of the known messages."]
    return "nothing", False, ["No output was given to search (--message)."]


def read_start_failure(case: Case) -> Reading:
    if clue := case.clue("no-module"):
        return "no-module", True, [f"The output says: {clue}"]
    if shadow := _shadowing_file(case):
        return "shadowed", True, [shadow]
    if clue := case.clue("no-space"):
        return "no-space", True, [f"The output says: {clue}"]
    full, disks = _full_disks(case)
    if full:
        return "no-space", True, disks
    if clue := case.clue("numpy") or case.clue("startup"):
        return "numpy", True, [f"The output says: {clue}"]
    if case.clue("killed"):
        return "killed", True, ["The kernel was “Killed” while it started."]
    return "other", bool(case.text.strip()), []


def read_script_error(case: Case) -> Reading:
    """The kind of error a script stopped on outside Jupyter, from its output."""
    if clue := case.clue("memory"):
        return "memory", True, [f"The output says: {clue}"]
    if clue := case.clue("no-space"):
        return "no-space", True, [f"The output says: {clue}"]
    if clue := case.clue("no-module") or case.clue("startup") or case.clue("numpy"):
        return "import", True, [f"The output says: {clue}"]
    if shadow := _shadowing_file(case):
        return "import", True, [shadow]
    if case.text.strip():
        return "other", True, ["The error is none of memory, disk space or imports."]
    return "other", False, ["No output was given to read the error from."]


def read_outside_jupyter(case: Case) -> Reading:
    if case.run is None:
        return None, False, ["Run the code outside Jupyter: python -m troubleshooter run FILE"]
    death = case.death
    if death.signal == "SIGKILL":
        return "killed", True, ["Outside Jupyter, it was killed by SIGKILL too."]
    if death.signal:
        return "crashes", True, [f"Outside Jupyter, it crashed too, by signal {death.signal}."]
    if death.exit_code == 0:
        return "runs", True, ["Outside Jupyter, it ran to the end (exit code 0)."]
    return (
        "python-error",
        True,
        [
            f"The code stopped with an error (exit code {death.exit_code}). In a notebook that "
            "error would show under the cell and leave the kernel running: fix it, then run again."
        ],
    )


READERS: dict[str, Callable[[Case], Reading]] = {
    "message": read_message,
    "exit-code": read_exit_code,
    "windows-code": read_windows_code,
    "really-dead": read_really_dead,
    "memory-limit": read_memory_limit,
    "kernel-count": read_kernel_count,
    "memory-pattern": read_memory_pattern,
    "who-stopped": read_who_stopped,
    "unit-stopped": read_unit_stopped,
    "segv-detail": read_segv_detail,
    "abort-detail": read_abort_detail,
    "bus-detail": read_bus_detail,
    "error-output": read_error_output,
    "start-failure": read_start_failure,
    "outside-jupyter": read_outside_jupyter,
    "script-error": read_script_error,
}
"""Question id -> its reader. ``which-signal`` is answered from the death by its deep-link
hints alone; ``exit-code`` too, but for Windows codes, which are beyond its hints' 0-255."""


def _stack_overflow_evidence(case: Case) -> tuple[list[str], list[str]]:
    """Signs of a stack overflow: (from this process, from the kernel log of maybe another)."""
    evidence: list[str] = []
    hint: list[str] = []
    if clue := case.clue("stack"):
        evidence.append(f"The output says: {clue}")
    frames = _FRAME.findall(case.text)
    run, longest, repeated = 1, 1, None
    for index in range(1, len(frames)):
        run = run + 1 if frames[index] == frames[index - 1] else 1
        if run > longest:
            longest, repeated = run, frames[index]
    if repeated and longest >= REPEATED_FRAMES:
        evidence.append(
            f"The traceback repeats {repeated[2]} ({os.path.basename(repeated[0])}, line "
            f"{repeated[1]}) {longest} times in a row: runaway recursion."
        )
    if match := _RECURSION_LIMIT.search(case.code):
        evidence.append(f"The code raises the recursion limit: {match.group(0)}")
    for fault in case.log("segfaults")[-1:]:
        address, sp = fault.get("address"), fault.get("sp")
        pid = (case.run or {}).get("pid")
        if pid is not None and fault.get("pid") != pid:
            continue  # a run knows its process: another one's fault says nothing
        if address and sp and abs(address - sp) < 64 * 1024:
            line = f"Kernel log, {ago_text(fault.get('ago'))}: a fault at the stack pointer: "
            (evidence if pid else hint).append(line + clip(fault["text"]))
    return evidence, hint


def _crash_log_evidence(case: Case) -> list[str]:
    evidence = []
    if clue := case.clue("segfault"):
        evidence.append(f"The output says: {clue}")
    pid = (case.run or {}).get("pid")
    for fault in case.log("segfaults")[-1:]:
        if pid is None or fault.get("pid") == pid:
            evidence.append(f"Kernel log, {ago_text(fault.get('ago'))}: {clip(fault.get('text'))}")
    return evidence


def _shadowing_file(case: Case) -> str | None:
    """A traceback line through a file of the user's named like a standard module."""
    for match in _SOURCE_FILE.finditer(case.text):
        folder, name = match.groups()
        if name in _SHADOW_NAMES and "/lib/python" not in folder and "\\Lib\\" not in folder:
            return f"The traceback runs through {folder}{name}.py, named like a standard module."
    return None


def _why_unattributed(case: Case, kill: Mapping[str, Any]) -> str:
    if not kill.get("memcg"):
        return "the log line names no cgroup"
    if case.part("cgroup").get("path") == "/":
        return "this cgroup's path reads as “/”, as it does inside a container"
    return "this process's memory cgroup is not known"


def _threads_near_limit(case: Case) -> list[str]:
    """Threads and processes close to a cap: the pids cgroup's ``pids.max``, or ``ulimit -u``."""
    found = []
    pids = case.part("pids")
    cap, count = pids.get("limit"), pids.get("current")
    if isinstance(cap, int) and isinstance(count, int) and count >= THREADS_NEAR_LIMIT * cap:
        found.append(
            f"The pids cgroup {pids.get('dir')} holds {count} threads and processes; its cap "
            f"(pids.max) is {cap}."
        )
    threads = case.part("processes").get("threads")
    nproc = case.part("limits").get("nproc")
    soft = nproc[0] if isinstance(nproc, list) and nproc else None
    if isinstance(threads, int) and isinstance(soft, int) and threads >= THREADS_NEAR_LIMIT * soft:
        found.append(
            f"This user runs {threads} threads; the limit (ulimit -u) is {soft}. In a "
            "container, others running under the same user id share that limit unseen."
        )
    return found


def _full_disks(case: Case) -> tuple[bool, list[str]]:
    evidence, full = [], False
    for disk in case.facts.get("disk") or []:
        free, total = disk.get("free"), disk.get("total")
        if not isinstance(free, int) or not isinstance(total, int) or total <= 0:
            continue
        nearly = free < DISK_MIN_FREE or free < DISK_NEARLY_FULL * total
        full = full or nearly
        evidence.append(
            f"{disk.get('path')}: {size_text(free)} free of {size_text(total)}"
            + (" — nearly full." if nearly else ".")
        )
    return full, evidence
