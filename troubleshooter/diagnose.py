"""``python -m troubleshooter diagnose``: read the evidence, answer the tree, name the cause.

The command reads what this machine can tell about a dead kernel
(``troubleshooter.evidence``), answers the questions of the kernel-terminated
decision tree from that evidence, and names the outcome: a cause id from
``troubleshooter.causes``, an outcome id of the tree, the evidence behind each
answer, what to do, and links to the wizard step and to the guide.

Python API (pure: no files are read or written, so it runs on sample data, in
the browser too)::

    from troubleshooter.evidence import collect
    from troubleshooter.diagnose import diagnose

    facts = collect("tests/fixtures/cgroup-v1")   # or collect() for this machine
    verdict = diagnose(facts, message="Kernel last terminated by signal SIGKILL.")
    verdict.cause        # "out-of-memory"
    verdict.outcome      # "oom-idle-kernels"
    verdict.evidence     # ["The message names signal SIGKILL ...", ...]
    verdict.link         # the wizard, opened at the step to check next, or at the outcome
    print(render(verdict))          # the text the command prints
    verdict.to_json()               # what ``--json`` prints

``diagnose(facts, message=, signal=, exit_code=, text=, code=, run=, previous=,
tree=)``: ``facts`` is the dict ``evidence.collect`` returns (any key may be
missing or ``None``); ``text`` is more output to search for clues (the lines
under the banner, a captured stderr); ``code`` the source that ran;
``run`` what ``troubleshooter run`` measured (``{"returncode", "oom_kills"}``);
``previous`` the record of the last check (``state_entry``) for "N OOM kills
since the last check"; ``tree`` the tree as ``Tree.to_json_dict()`` gives it
(default: the built-in kernel-terminated tree).

How a question is answered: answers whose deep-link hints (``signals``,
``exit_codes``) fit the death are taken first, by the tree's own rule. Otherwise
the question's reader below decides from the evidence. A reader may only assume
an answer (nothing measured says so): the walk goes on, and the link opens the
wizard at the first assumed question so the reader can check it. A reader that
cannot even guess stops the walk; the verdict is then the one cause all the
reachable outcomes share, or ``unknown``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .causes import CAUSES, guide_url, step_url
from .evidence import UNLIMITED, collect
from .signals import Death, parse_exit_code, parse_message, parse_signal

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Callable

    # answer id (None: cannot tell), measured (not only assumed), evidence lines
    Reading = tuple[str | None, bool, list[str]]

HELP = "read this machine's evidence and name why the kernel died"

TREE_ID = "kernel-terminated"
TREE_DATA: dict[str, Any] | None = None  # the downloadable single file carries the tree here
FALLBACK_OUTCOME = "report"
STATE_NAME = "jupyter-kernel-troubleshooter"

NEAR_LIMIT = 0.95  # a peak this close to the limit counts as reaching it
DISK_NEARLY_FULL = 0.03  # free share below which a disk counts as full
DISK_MIN_FREE = 100 * 1024 * 1024
THREADS_NEAR_LIMIT = 0.9
KERNELS_SHARE = 0.25  # kernels holding this share of the limit "hold much of the memory"
RECENT_LOG = 24 * 3600  # kernel log lines older than this are left out
RECENT_RESTART = 15 * 60  # PID 1 younger than this: the whole unit restarted
REPEATED_FRAMES = 20  # the same frame this many times in a row: runaway recursion

CLUES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "numpy": r"compiled using NumPy 1\.x|numpy\.core\.multiarray failed to import"
        r"|undefined symbol",
        "openmp": r"OMP: Error #15",
        "threads": r"pthread_create failed|can't start new thread|RLIMIT_NPROC"
        r"|Resource temporarily unavailable",
        "stack": r"Cannot recover from stack overflow",
        "iopub": r"IOPub data rate exceeded",
        "no-space": r"No space left on device|Disk quota exceeded|\[Errno 28\]|\[Errno 122\]",
        "no-module": r"No module named '?ipykernel|No such file or directory",
        "startup": r"No module named|ModuleNotFoundError|ImportError",
        "segfault": r"Segmentation fault|Aborted|Bus error|Fatal Python error|core dumped",
        "memory": r"MemoryError|Cannot allocate memory|std::bad_alloc",
    }.items()
}
_FRAME = re.compile(r'^\s*File "([^"]*)", line (\d+)(?:,)? in (\S+)', re.MULTILINE)
_RECURSION_LIMIT = re.compile(r"setrecursionlimit\s*\(\s*([^)]*?)\s*\)")
_SOURCE_FILE = re.compile(r'File "([^"]*?)([A-Za-z_]\w*)\.py"')
_SHADOW_NAMES = frozenset(
    getattr(sys, "stdlib_module_names", ())
    or ("random", "signal", "email", "math", "string", "types", "json", "socket", "copy")
)


@dataclass
class Step:
    """One question answered: which answer, whether measured or assumed, and why."""

    question: str
    answer: str | None
    measured: bool
    evidence: list[str] = field(default_factory=list)


@dataclass
class Verdict:
    cause: str
    outcome: str | None
    title: str
    evidence: list[str]
    steps: list[str]
    link: str
    guide: str
    path: list[Step]
    facts: dict[str, Any]
    check_next: str | None = None  # the first question answered by assumption
    counters: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The one-line verdict."""
        cause = CAUSES[self.cause].title
        if cause.lower() == self.title.lower():
            return f"Verdict: {cause}."
        return f"Verdict: {cause}. {self.title}."

    def to_json(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "outcome": self.outcome,
            "title": self.title,
            "summary": self.summary,
            "evidence": self.evidence,
            "steps": self.steps,
            "link": self.link,
            "guide": self.guide,
            "check_next": self.check_next,
            "path": [
                {"question": s.question, "answer": s.answer, "measured": s.measured}
                for s in self.path
            ],
            "counters": self.counters,
            "facts": self.facts,
        }


# --- the evidence, in the terms the questions ask ----------------------------------------


@dataclass
class Case:
    """Everything known about one death, with helpers that phrase the evidence."""

    facts: dict[str, Any]
    death: Death
    text: str
    code: str
    run: dict[str, Any] | None
    previous: dict[str, Any] | None

    def part(self, key: str) -> dict[str, Any]:
        value = self.facts.get(key)
        return value if isinstance(value, dict) else {}

    def clue(self, name: str) -> str | None:
        """The first line of ``text`` that matches clue ``name``."""
        match = CLUES[name].search(self.text)
        if not match:
            return None
        start = self.text.rfind("\n", 0, match.start()) + 1
        end = self.text.find("\n", match.end())
        line = self.text[start : end if end != -1 else None].strip()
        return line[:160]

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

    def own_oom_kills(self) -> list[dict[str, Any]]:
        """Recent OOM kills in the kernel log that hit this cgroup (or any, if unknown).

        For a run, only those that happened while it ran.
        """
        path = self.part("cgroup").get("path")
        kills = self.log("oom_kills")
        duration = (self.run or {}).get("duration")
        if isinstance(duration, (int, float)):
            kills = [k for k in kills if isinstance(k.get("ago"), (int, float))]
            kills = [k for k in kills if k["ago"] <= duration + 5]
        if not path or path == "/":
            return kills
        return [k for k in kills if not k.get("memcg") or k["memcg"].endswith(path)]

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


def size_text(value: Any) -> str:
    """Bytes as people read them: ``1.5 GiB``; ``unknown`` and ``unlimited`` as such."""
    if value == UNLIMITED:
        return "unlimited"
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "unknown"
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{int(value)} B"


def _clip(text: Any, width: int = 120) -> str:
    text = str(text or "")
    return text if len(text) <= width else text[: width - 1].rstrip(" ,") + "…"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _ago(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "at an unknown time"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _duration(seconds: Any) -> str:
    return _ago(seconds)[: -len(" ago")] if isinstance(seconds, (int, float)) else "unknown"


def _share(part: Any, whole: Any) -> str:
    if isinstance(part, int) and isinstance(whole, int) and whole > 0:
        return f" ({100 * part / whole:.0f}%)"
    return ""


# --- readers, one per question -----------------------------------------------------------


def read_message(case: Case) -> Reading:
    if case.clue("no-module") and "ipykernel" in case.text:
        return "at-start", True, [f"The output says: {case.clue('no-module')}"]
    if case.text.strip():
        return "no-detail", True, ["The message names neither a signal nor an exit code."]
    return "no-detail", False, ["No message was given (--message, --signal or --exit-code)."]


def read_memory_limit(case: Case) -> Reading:
    cgroup = case.part("cgroup")
    evidence: list[str] = []
    measured_kill = False
    if case.run is not None and isinstance(case.run.get("oom_kills"), int):
        during = case.run["oom_kills"]
        evidence.append(f"The OOM-kill counter rose by {during} during the run.")
        measured_kill = during > 0
        if not measured_kill and cgroup.get("version"):
            return "below-limit", True, evidence
    kills = cgroup.get("oom_kills")
    where = f"memory cgroup v{cgroup.get('version')} {cgroup.get('path')}"
    if case.run is None and isinstance(kills, int):
        since = case.since_last_check()
        note = (
            f", {since} since the last check"
            if since is not None
            else " (first check here: nothing to compare with)"
            if not case.previous
            else " (the counter started again: a restart since the last check)"
        )
        evidence.append(f"The {where} counts {_plural(kills, 'OOM kill')}{note}.")
        measured_kill = measured_kill or kills > 0
    own_kills = case.own_oom_kills()
    for kill in own_kills[-2:]:
        evidence.append(f"Kernel log, {_ago(kill.get('ago'))}: {_clip(kill.get('text'))}")
    measured_kill = measured_kill or bool(own_kills)
    peak, limit = cgroup.get("peak"), cgroup.get("limit")
    near = isinstance(peak, int) and isinstance(limit, int) and peak >= NEAR_LIMIT * limit
    if isinstance(limit, int) and isinstance(peak, int):
        share = _share(peak, limit)
        evidence.append(
            f"Peak memory use {size_text(peak)} of the {size_text(limit)} limit{share}."
        )
    if measured_kill:
        return "at-limit", True, evidence
    if near:  # cgroup v1 counts page cache in the peak: a hint, not proof
        return "at-limit", not isinstance(kills, int), evidence
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
        + (f" up {_duration(k.get('age'))}" if k.get("age") is not None else "")
        for k in kernels[:6]
    )
    if not kernels:
        return "alone", True, ["No other Jupyter kernel is running now."]
    evidence = [
        f"{len(kernels)} Jupyter kernel{'s' if len(kernels) > 1 else ''} running now, "
        f"holding {size_text(held)}{_share(held, limit)} of {size_text(limit)}: {listing}."
    ]
    if limit and held >= KERNELS_SHARE * limit:
        return "several", True, evidence
    return "alone", True, evidence


def read_memory_pattern(case: Case) -> Reading:
    evidence = [
        "Whether memory jumped in one cell or climbed cell after cell cannot be read "
        "afterwards; the biggest single step is the likelier."
    ]
    limit = case.limit()
    for kill in case.own_oom_kills()[-1:]:
        if isinstance(kill.get("anon_rss"), int) and limit:
            evidence.append(
                f"The killed process {kill.get('name')} held {size_text(kill['anon_rss'])}"
                f"{_share(kill['anon_rss'], limit)} of the limit when it was killed."
            )
    return "one-step", False, evidence


def read_who_stopped(case: Case) -> Reading:
    if case.run is not None:
        return "nobody", True, ["Nobody stopped the run: it ended by itself."]
    started = case.facts.get("started")
    if isinstance(started, (int, float)) and started < RECENT_RESTART:
        return "whole-unit", True, [f"The first process (PID 1) started {_ago(started)}."]
    if case.restarted_since():
        return "whole-unit", True, ["The machine or container restarted since the last check."]
    evidence = []
    if isinstance(started, (int, float)):
        evidence.append(f"The first process (PID 1) has been running for {_duration(started)}.")
    signal = case.death.signal
    if signal in ("SIGTERM", "SIGINT", "SIGHUP") or case.death.exit_code == 0:
        evidence.append(f"{signal or 'Exit code 0'} is how a requested stop ends a kernel.")
        return "me", False, evidence
    return "nobody", False, evidence


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
    for clue_name, answer in (
        ("numpy", "numpy"),
        ("openmp", "openmp"),
        ("threads", "threads"),
        ("stack", "stack"),
        ("iopub", "iopub"),
        ("no-space", "no-space"),
        ("startup", "startup"),
        ("segfault", "segfault"),
        ("memory", "memory"),
    ):
        if clue := case.clue(clue_name):
            return answer, True, [f"The output says: {clue}"]
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
    return "other", bool(case.text.strip()), []


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
        None,
        True,
        [
            f"The code stopped with an error (exit code {death.exit_code}). In a notebook that "
            "error would show under the cell and leave the kernel running: fix it, then run again."
        ],
    )


READERS: dict[str, Callable[[Case], Reading]] = {
    "message": read_message,
    "memory-limit": read_memory_limit,
    "kernel-count": read_kernel_count,
    "memory-pattern": read_memory_pattern,
    "who-stopped": read_who_stopped,
    "segv-detail": read_segv_detail,
    "abort-detail": read_abort_detail,
    "bus-detail": read_bus_detail,
    "error-output": read_error_output,
    "start-failure": read_start_failure,
    "outside-jupyter": read_outside_jupyter,
}
"""Question id -> its reader. Questions whose answers carry deep-link hints
(``which-signal``, ``exit-code``) are answered from the death and need none."""


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
            line = f"Kernel log, {_ago(fault.get('ago'))}: a fault at the stack pointer: "
            (evidence if pid else hint).append(line + _clip(fault["text"]))
    return evidence, hint


def _crash_log_evidence(case: Case) -> list[str]:
    evidence = []
    if clue := case.clue("segfault"):
        evidence.append(f"The output says: {clue}")
    pid = (case.run or {}).get("pid")
    for fault in case.log("segfaults")[-1:]:
        if pid is None or fault.get("pid") == pid:
            evidence.append(f"Kernel log, {_ago(fault.get('ago'))}: {_clip(fault.get('text'))}")
    return evidence


def _shadowing_file(case: Case) -> str | None:
    """A traceback line through a file of the user's named like a standard module."""
    for match in _SOURCE_FILE.finditer(case.text):
        folder, name = match.groups()
        if name in _SHADOW_NAMES and "/lib/python" not in folder and "\\Lib\\" not in folder:
            return f"The traceback runs through {folder}{name}.py, named like a standard module."
    return None


def _threads_near_limit(case: Case) -> list[str]:
    threads = case.part("processes").get("threads")
    nproc = case.part("limits").get("nproc")
    soft = nproc[0] if isinstance(nproc, list) and nproc else None
    if isinstance(threads, int) and isinstance(soft, int) and threads >= THREADS_NEAR_LIMIT * soft:
        return [f"This user runs {threads} threads; the limit (ulimit -u) is {soft}."]
    return []


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


# --- walking the tree ----------------------------------------------------------------------


def load_tree_data() -> dict[str, Any] | None:
    """The kernel-terminated tree as ``Tree.to_json_dict()`` gives it, or ``None``."""
    if TREE_DATA is not None:
        return TREE_DATA
    try:
        from .model import load_builtin

        return load_builtin(TREE_ID).to_json_dict()
    except Exception:  # a broken install must still give a verdict
        return None


def hinted_answer(question: dict[str, Any], death: Death) -> str | None:
    """The answer whose deep-link hints fit ``death`` (the rule in ``model``'s docstring)."""
    best: tuple[int, str] | None = None
    for answer in question.get("answers", []):
        tier = None
        code = death.exit_code
        if code is not None and any(
            low <= code <= high for low, high in answer.get("exit_codes", [])
        ):
            tier = 1
        elif death.signal is not None and death.signal in answer.get("signals", []):
            tier = 2
        elif death.signal is not None and "*" in answer.get("signals", []):
            tier = 3
        if tier is not None and (best is None or tier < best[0]):
            best = (tier, answer["id"])
    return best[1] if best else None


def walk(tree: dict[str, Any], case: Case) -> tuple[list[Step], str]:
    """Answer questions from the start until an outcome, or a question nobody can answer."""
    nodes = tree["nodes"]
    node_id = tree["start"]
    path: list[Step] = []
    while nodes[node_id]["kind"] == "question" and len(path) < len(nodes):
        question = nodes[node_id]
        hinted = hinted_answer(question, case.death)
        if hinted is not None:
            step = Step(node_id, hinted, True, [])
        elif node_id in READERS:
            answer, measured, evidence = READERS[node_id](case)
            step = Step(node_id, answer, measured, evidence)
        else:
            step = Step(node_id, None, False, [])
        targets = {a["id"]: a["target"] for a in question["answers"]}
        if step.answer not in targets:
            step.answer = None
            path.append(step)
            break
        path.append(step)
        node_id = targets[step.answer]
    return path, node_id


def _outcomes_below(tree: dict[str, Any], node_id: str) -> list[str]:
    nodes, seen, found, todo = tree["nodes"], set(), [], [node_id]
    while todo:
        current = todo.pop(0)
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        node = nodes[current]
        if node["kind"] == "outcome":
            found.append(current)
        else:
            todo.extend(answer["target"] for answer in node["answers"])
    return found


def _death_evidence(death: Death, who: str = "The kernel") -> list[str]:
    if death.signal and death.exit_code is not None:
        return [f"Exit code {death.exit_code} means signal {death.signal}."]
    if death.signal:
        return [f"{who} ended by signal {death.signal}."]
    if death.exit_code is not None:
        return [f"{who} exited with code {death.exit_code}."]
    return []


def diagnose(
    facts: dict[str, Any],
    *,
    message: str | None = None,
    signal: str | int | None = None,
    exit_code: str | int | None = None,
    text: str | None = None,
    code: str | None = None,
    run: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    tree: dict[str, Any] | None = None,
) -> Verdict:
    """The verdict for ``facts`` (see the module docstring). Pure: reads no files."""
    facts = facts if isinstance(facts, dict) else {}
    death = _death(message, signal, exit_code)
    case = Case(
        facts=facts,
        death=death,
        text="\n".join(part for part in (message, text) if part)[-20000:],
        code=code or "",
        run=run,
        previous=previous if isinstance(previous, dict) else None,
    )
    tree = tree if tree is not None else load_tree_data()
    counters = _counters(case)
    if not tree:
        return Verdict(
            "unknown", None, "The decision tree could not be loaded", _death_evidence(death),
            [], step_url(TREE_ID), guide_url("unknown"), [], facts, None, counters,
        )  # fmt: skip
    path, node_id = walk(tree, case)
    nodes = tree["nodes"]
    stopped = nodes[node_id]["kind"] != "outcome"
    if stopped:
        below = _outcomes_below(tree, node_id)
        causes = {nodes[o]["cause"] for o in below}
        if len(causes) == 1:
            outcome_id = below[0]
        else:
            outcome_id = FALLBACK_OUTCOME if FALLBACK_OUTCOME in nodes else None
    else:
        outcome_id = node_id
    outcome = nodes.get(outcome_id) if outcome_id else None
    cause = outcome["cause"] if outcome else "unknown"
    unsure = next((s.question for s in path if not s.measured), None)
    evidence = _death_evidence(death, "The kernel" if run is None else "The code")
    for step in path:
        evidence.extend(line for line in step.evidence if line not in evidence)
    title = outcome["title"] if outcome else "No outcome fits"
    return Verdict(
        cause=cause,
        outcome=outcome_id,
        title=title,
        evidence=evidence,
        steps=list(outcome["steps"]) if outcome else [],
        link=step_url(unsure or outcome_id or TREE_ID),
        guide=guide_url(cause),
        path=path,
        facts=facts,
        check_next=unsure,
        counters=counters,
    )


def _death(message: Any, signal: Any, exit_code: Any) -> Death:
    if exit_code is not None:
        found = parse_exit_code(exit_code)
        if found.signal or found.exit_code is not None:
            return found
    if signal is not None and (name := parse_signal(signal)):
        return Death(signal=name)
    return parse_message(message) if message else Death()


def _counters(case: Case) -> dict[str, Any]:
    cgroup = case.part("cgroup")
    counters: dict[str, Any] = {
        "oom_kills": cgroup.get("oom_kills"),
        "oom_kills_since_last_check": case.since_last_check(),
        "last_check": (case.previous or {}).get("time"),
        "kernels": [],
    }
    for kernel in case.part("processes").get("kernels") or []:
        age = kernel.get("age") if isinstance(kernel, dict) else None
        if isinstance(age, (int, float)) and case.part("kernel_log").get("source"):
            kills = [k for k in case.own_oom_kills() if isinstance(k.get("ago"), (int, float))]
            counters["kernels"].append(
                {
                    "pid": kernel.get("pid"),
                    "oom_kills_since_start": sum(1 for k in kills if k["ago"] < age),
                }
            )
    return counters


# --- remembering counters between runs ---------------------------------------------------


def state_path() -> str:
    """``$XDG_CACHE_HOME/jupyter-kernel-troubleshooter/state.json`` (``~/.cache`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, STATE_NAME, "state.json")


def state_key(facts: dict[str, Any]) -> str:
    cgroup = facts.get("cgroup") if isinstance(facts.get("cgroup"), dict) else {}
    return (
        f"cgroup-v{cgroup.get('version')}:{cgroup.get('path')}" if cgroup.get("path") else "machine"
    )


def state_entry(facts: dict[str, Any], now: float) -> dict[str, Any]:
    """What the next check compares with."""
    cgroup = facts.get("cgroup") if isinstance(facts.get("cgroup"), dict) else {}
    started, uptime = facts.get("started"), facts.get("uptime")
    boot_time = (
        round(uptime - started, 1)
        if isinstance(started, (int, float)) and isinstance(uptime, (int, float))
        else None
    )
    return {
        "time": round(now),
        "boot_id": facts.get("boot_id"),
        "oom_kills": cgroup.get("oom_kills"),
        "pid1_boot_time": boot_time,
    }


def load_state(path: str) -> dict[str, Any]:
    """The saved state, or an empty one if it is missing or corrupt."""
    try:
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) and isinstance(state.get("checks"), dict) else {}


def save_state(path: str, state: dict[str, Any]) -> bool:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(state, file, indent=1)
        os.replace(temporary, path)
    except OSError:
        return False
    return True


# --- the command ---------------------------------------------------------------------------


def render(verdict: Verdict) -> str:
    """The human-readable report: the verdict first, then why, what to do, and the readings."""
    lines = [verdict.summary, ""]
    if verdict.outcome:
        lines.append(f"Cause: {verdict.cause}   Outcome: {verdict.outcome}")
    lines += ["", "Why:"]
    lines += [f"  - {line}" for line in verdict.evidence] or ["  - (no evidence could be read)"]
    if verdict.check_next:
        lines += [
            "",
            f"Not measured: the answer to '{verdict.check_next}' was assumed. Check it here:",
            f"  {verdict.link}",
        ]
    if verdict.steps:
        lines += ["", "What to do:"]
        lines += [f"  {number}. {step}" for number, step in enumerate(verdict.steps, 1)]
    lines += ["", f"Troubleshooter: {verdict.link}", f"Guide:          {verdict.guide}", ""]
    lines += ["What was read:"] + [f"  {line}" for line in describe_facts(verdict.facts)]
    return "\n".join(lines)


def describe_facts(facts: dict[str, Any]) -> list[str]:
    """One line per kind of evidence; ``unknown`` for what could not be read."""

    def part(key: str) -> dict[str, Any]:
        value = facts.get(key)
        return value if isinstance(value, dict) else {}

    machine, cgroup, processes = part("machine"), part("cgroup"), part("processes")
    limits, log, python = part("limits"), part("kernel_log"), part("python")
    lines = [
        f"memory      {size_text(machine.get('total'))} in the machine, "
        f"{size_text(machine.get('available'))} available"
    ]
    if cgroup.get("version"):
        lines.append(
            f"cgroup      v{cgroup['version']} {cgroup.get('path')}: limit "
            f"{size_text(cgroup.get('limit'))}, usage {size_text(cgroup.get('usage'))}, peak "
            f"{size_text(cgroup.get('peak'))}, OOM kills {_count(cgroup.get('oom_kills'))}, "
            f"failcnt {_count(cgroup.get('failcnt'))}"
        )
    else:
        lines.append("cgroup      unknown: no memory cgroup found for this process")
    kernels = processes.get("kernels") or []
    lines.append(
        f"kernels     {len(kernels)} running"
        + "".join(
            f"; pid {k.get('pid')} {size_text(k.get('rss'))} up {_duration(k.get('age'))}"
            for k in kernels[:5]
        )
        if processes.get("scanned")
        else "kernels     unknown: the process list could not be read"
    )
    top = processes.get("top") or []
    if top:
        lines.append(
            "top memory  "
            + "; ".join(
                f"{p.get('name')} (pid {p.get('pid')}) {size_text(p.get('rss'))}" for p in top
            )
        )
    nproc = limits.get("nproc")
    lines.append(
        f"limits      threads {_count(processes.get('threads'))} of "
        f"{_pair(nproc, _count)}; address space {_pair(limits.get('as'), size_text)}; "
        f"stack {_pair(limits.get('stack'), size_text)}"
    )
    for disk in facts.get("disk") or []:
        lines.append(
            f"disk        {disk.get('path')}: {size_text(disk.get('free'))} free of "
            f"{size_text(disk.get('total'))}"
        )
    if log.get("source"):
        lines.append(
            f"kernel log  {log['source']}: {_plural(len(log.get('oom_kills') or []), 'OOM kill')}, "
            f"{_plural(len(log.get('segfaults') or []), 'segfault')}"
        )
    else:
        lines.append("kernel log  unknown: not readable by this user")
    packages = facts.get("packages") if isinstance(facts.get("packages"), dict) else {}
    found = ", ".join(f"{name} {version}" for name, version in packages.items() if version)
    lines.append(
        f"python      {python.get('version') or 'unknown'} {python.get('executable') or ''}"
        + (f"; {found}" if found else "")
    )
    return lines


def _count(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "unknown"


def _pair(value: Any, show: Callable[[Any], str]) -> str:
    if isinstance(value, list) and value:
        return show(value[0]) if value[0] != UNLIMITED else "unlimited"
    return "unknown"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument(
        "--message",
        metavar="TEXT",
        help='the banner, and any lines under it: "Kernel last terminated by signal SIGKILL." '
        "(- reads it from standard input)",
    )
    parser.add_argument("--signal", metavar="SIGNAL", help="the signal: SIGKILL, KILL, 9")
    parser.add_argument("--exit-code", metavar="CODE", help="the exit code: 137, 1, -9")
    parser.add_argument(
        "--root",
        metavar="PATH",
        default="/",
        help="read the evidence from copies of /proc, /sys and /dev under PATH instead of / "
        "(sample files, or a copy taken elsewhere)",
    )
    parser.add_argument(
        "--no-state",
        action="store_true",
        help="neither read nor update the saved counters (" + state_path() + ")",
    )


def check_options(args: argparse.Namespace, command: str = "diagnose") -> str | None:
    """A message naming the option that makes no sense, or ``None``."""
    if args.exit_code is not None and parse_exit_code(args.exit_code) == Death():
        return (
            f"{command}: --exit-code {args.exit_code!r} is not an exit code "
            "(a number from 0 to 255, or -N for signal N)"
        )
    if args.signal is not None and parse_signal(args.signal) is None:
        return (
            f"{command}: --signal {args.signal!r} is not a signal "
            "(a name such as SIGKILL or KILL, or a number such as 9)"
        )
    return None


def run(args: argparse.Namespace) -> int:
    problem = check_options(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    message = args.message
    if message == "-":
        message = sys.stdin.read(200_000)
    if not os.path.isdir(args.root):
        print(f"diagnose: --root {args.root!r} is not a folder", file=sys.stderr)
        return 2
    facts = collect(args.root)
    path = state_path()
    state = {} if args.no_state else load_state(path)
    key = state_key(facts)
    previous = state.get("checks", {}).get(key)
    verdict = diagnose(
        facts,
        message=message,
        signal=args.signal,
        exit_code=args.exit_code,
        previous=previous if isinstance(previous, dict) else None,
    )
    if not args.no_state:
        state = {
            "version": 1,
            "checks": {**state.get("checks", {}), key: state_entry(facts, time.time())},
        }
        save_state(path, state)
    return write_out(json.dumps(verdict.to_json(), indent=2) if args.json else render(verdict))


def write_out(text: str) -> int:
    """Print, and leave quietly when the reader of the output has gone (``| head``)."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command on its own (the downloadable single file calls this)."""
    parser = argparse.ArgumentParser(prog="troubleshooter-diagnose", description=HELP)
    configure(parser)
    return run(parser.parse_args(argv))
