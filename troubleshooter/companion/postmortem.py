"""The post-mortem: what the record of a kernel that died says, shown once in the next session.

:func:`.record.find_previous` picks the newest record left open by a process
that is gone, for this kernel id or this notebook, and marks it shown.
``explain(found)`` reads this machine's evidence now, hands it with the
record's counters, exit status and crash file to
:func:`troubleshooter.diagnose.diagnose` (the one diagnosis), and returns a
:class:`PostMortem`: plain text and an HTML form in which every string that came
from the user (code, paths, tracebacks) is escaped.
"""

from __future__ import annotations

import html
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from .record import Found

_FATAL = re.compile(r"Fatal Python error: (.+)")
_FRAME = re.compile(r'^\s*File "([^"]*)", line (\d+) in (\S+)', re.MULTILINE)
_SIGNAL_WORDS = {
    "Segmentation fault": "SIGSEGV",
    "Aborted": "SIGABRT",
    "Bus error": "SIGBUS",
    "Floating-point exception": "SIGFPE",
    "Floating point exception": "SIGFPE",
    "Illegal instruction": "SIGILL",
}
MAX_EVIDENCE = 6
LOG_SECONDS = 0.5  # time allowed for reading the kernel log again when the kill is not in it


@dataclass
class PostMortem:
    text: str
    html: str
    verdict: Any = None
    confidence: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    oom_kills: int | None = None  # counted in the kernel's memory cgroup while it ran

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}

    def __repr__(self) -> str:
        return self.text


def crash_signal(crash: str) -> str | None:
    """The signal in faulthandler's first line (``Fatal Python error: Segmentation fault``)."""
    match = _FATAL.search(crash)
    if not match:
        return None
    return next((sig for words, sig in _SIGNAL_WORDS.items() if words in match.group(1)), None)


def _same_cgroup(facts: Any, record: dict[str, Any]) -> dict[str, Any]:
    """``facts`` with only the kernels that shared the dead kernel's memory cgroup.

    This process (the new kernel) did not run when the old one died; kernels in
    other cgroups do not count against its limit.
    """
    processes = facts.get("processes")
    if not isinstance(processes, dict) or not isinstance(processes.get("kernels"), list):
        return facts
    from ..cgroup import parse_proc_cgroup, read_text

    path = (record.get("cgroup") or {}).get("path")
    kept = []
    for kernel in processes["kernels"]:
        pid = kernel.get("pid") if isinstance(kernel, dict) else None
        if pid == os.getpid():
            continue
        if path:
            paths = parse_proc_cgroup(read_text("/", f"/proc/{pid}/cgroup"))
            if path not in (paths.get("memory"), paths.get("")):
                continue
        kept.append(kernel)
    return {**facts, "processes": {**processes, "kernels": kept}}


def _longer_log(facts: dict[str, Any]) -> dict[str, Any]:
    """``facts`` with the kernel log read for up to half a second (``collect`` allows 50 ms).

    On a busy machine with a long log the newest records, this death's among
    them, come after 50 ms; the post-mortem runs once and can wait.
    """
    log = facts.get("kernel_log")
    if not isinstance(log, dict) or not log.get("source"):
        return facts
    from ..evidence import read_kernel_log

    uptime = facts.get("uptime")
    return {**facts, "kernel_log": read_kernel_log("/", uptime, seconds=LOG_SECONDS)}


def _logged_signal(facts: dict[str, Any], pid: Any) -> str | None:
    """The signal the kernel log shows ending process ``pid``: an OOM kill or a segfault."""
    log = facts.get("kernel_log")
    log = log if isinstance(log, dict) else {}
    for kind, signal in (("oom_kills", "SIGKILL"), ("segfaults", "SIGSEGV")):
        if any(isinstance(e, dict) and e.get("pid") == pid for e in log.get(kind) or []):
            return signal
    return None


def _oom_kills_now(record: dict[str, Any], facts: dict[str, Any]) -> int | None:
    """The OOM-kill count of the old kernel's memory cgroup, read now."""
    old = record.get("cgroup") or {}
    now = facts.get("cgroup") or {}
    if old.get("path") and old.get("path") == now.get("path"):
        return now.get("oom_kills")
    folder = old.get("dir")
    if not folder or old.get("version") not in (1, 2):
        return None
    from ..cgroup import parse_cgroup_v1, parse_cgroup_v2, read_text

    parse = parse_cgroup_v1 if old["version"] == 1 else parse_cgroup_v2
    return parse(lambda name: read_text(folder, name)).get("oom_kills")


def explain(found: Found, facts: dict[str, Any] | None = None) -> PostMortem:
    """What killed the kernel of ``found``, through the troubleshooter's diagnosis."""
    if found.record is None:
        line = (
            f"troubleshooter: the record the last kernel left ({found.path}) {found.problem}, "
            "so there is nothing to explain about how it ended."
        )
        return PostMortem(line, f"<p>{html.escape(line)}</p>")
    from ..diagnose import diagnose
    from ..evidence import collect

    record, crash = found.record, found.crash
    facts = _same_cgroup(collect(), record) if facts is None else facts
    at_start = (record.get("cgroup") or {}).get("oom_kills")
    now = _oom_kills_now(record, facts)
    rose = now - at_start if isinstance(now, int) and isinstance(at_start, int) else None
    exit_info = record.get("exit")
    exit_info = exit_info if isinstance(exit_info, dict) else {}
    returncode = exit_info.get("returncode")
    signal = None
    if returncode is None:
        signal = _logged_signal(facts, record.get("pid"))
        if signal is None:
            facts = _longer_log(facts)  # the kill is the newest record: read the log to its end
            signal = _logged_signal(facts, record.get("pid"))
        signal = signal or crash_signal(crash)
    started = record.get("started") if isinstance(record.get("started"), (int, float)) else None
    cell = record.get("cell") if isinstance(record.get("cell"), dict) else None
    code = "\n".join(str(line) for line in (cell or {}).get("lines") or [])
    run = {
        "pid": record.get("pid"),
        "returncode": returncode,
        "oom_kills": rose,
        "duration": round(time.time() - started, 1) if started else None,
    }
    verdict = diagnose(
        facts, exit_code=returncode, signal=signal, text=crash or None, code=code, run=run
    )
    confidence = verdict.confidence
    died = exit_info.get("time") or record.get("updated")
    parts = _parts(record, cell, crash, rose, at_start, now, returncode, signal, died)
    text, markup = _render(parts, verdict, confidence)
    return PostMortem(text, markup, verdict, confidence, facts, rose)


def _when(stamp: Any) -> str:
    if not isinstance(stamp, (int, float)):
        return "at an unknown time"
    ago = max(0.0, time.time() - stamp)
    clock = time.strftime("%H:%M:%S", time.localtime(stamp))
    if ago < 90:
        return f"at {clock} ({ago:.0f} s ago)"
    if ago < 5400:
        return f"at {clock} ({ago / 60:.0f} min ago)"
    return f"at {time.strftime('%Y-%m-%d %H:%M', time.localtime(stamp))}"


def _mib(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return "unknown"
    if value >= 1 << 30:
        return f"{value / (1 << 30):.2f} GiB"
    return f"{value / (1 << 20):.0f} MiB"


def _parts(
    record: dict[str, Any],
    cell: dict[str, Any] | None,
    crash: str,
    rose: int | None,
    at_start: Any,
    now: Any,
    returncode: Any,
    signal: str | None,
    died: Any,
) -> dict[str, Any]:
    """The facts of this death, as lines of plain text (escaped later for HTML)."""
    facts: list[str] = []
    if cell:
        lines = [str(line) for line in cell.get("lines") or []]
        first = next((line for line in lines if line.strip()), "")
        facts.append(f"Running: cell [{cell.get('count')}]: {first.strip()[:120]}")
        peak = cell.get("peak")
        if peak:
            facts.append(
                f"Memory in that cell reached {_mib(peak)} of {_mib(record.get('limit'))}."
            )
    else:
        facts.append("No cell was running: the kernel died between cells.")
    if isinstance(at_start, int) and isinstance(now, int):
        facts.append(
            f"OOM kills in the memory cgroup: {at_start} when the kernel started, {now} now."
        )
    if returncode is not None:
        from ..signals import parse_exit_code

        named = parse_exit_code(returncode).signal
        how = f" (signal {named})" if named else ""
        facts.append(f"Exit status {returncode}{how}, as the Jupyter server saw it.")
    elif signal and crash_signal(crash) == signal:
        facts.append(f"faulthandler caught signal {signal}.")
    elif signal:
        facts.append(f"The kernel log shows signal {signal} ending process {record.get('pid')}.")
    frames = _frames(crash, cell)
    return {
        "title": f"The last kernel {_whose(record)}died {_when(died)}.",
        "facts": facts,
        "frames": frames,
    }


def _whose(record: dict[str, Any]) -> str:
    notebook = record.get("notebook")
    return f"of {notebook} " if isinstance(notebook, str) and notebook else ""


def _frames(crash: str, cell: dict[str, Any] | None) -> list[str]:
    """The Python lines faulthandler saw running in the main thread (innermost first)."""
    block = crash
    if "Current thread" in crash:
        block = crash[crash.index("Current thread") :]
        end = block.find("\n\n")
        block = block if end == -1 else block[:end]
    lines = [str(line) for line in (cell or {}).get("lines") or []]
    shown = []
    for path, number, function in _FRAME.findall(block)[:8]:
        entry = f"{os.path.basename(path)}, line {number}, in {function}"
        in_cell = "ipykernel_" in path or path.startswith("<ipython-input")
        if in_cell and 0 < int(number) <= len(lines):
            entry += f": {lines[int(number) - 1].strip()[:120]}"
        shown.append(entry)
    return shown


def _render(parts: dict[str, Any], verdict: Any, confidence: str) -> tuple[str, str]:
    summary = verdict.summary  # led by how sure it is: "Confirmed: Out of memory. ..."
    evidence = list(verdict.evidence)[:MAX_EVIDENCE]
    steps = list(verdict.steps)
    text = [f"troubleshooter: {parts['title']}", *(f"  {line}" for line in parts["facts"])]
    if parts["frames"]:
        text += ["  Python was running (innermost first):"]
        text += [f"    {frame}" for frame in parts["frames"]]
    text += ["", summary]
    text += [f"  - {line}" for line in evidence]
    if steps:
        text += ["What to do:", *(f"  {n}. {step}" for n, step in enumerate(steps, 1))]
    text += [f"Troubleshooter: {verdict.link}", f"Guide: {verdict.guide}"]

    e = html.escape
    markup = [
        '<div class="troubleshooter-postmortem" role="note">',
        f"<p><strong>troubleshooter:</strong> {e(parts['title'])}</p>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in parts["facts"]) + "</ul>",
    ]
    if parts["frames"]:
        markup.append(
            "<p>Python was running (innermost first):</p><pre>"
            + e("\n".join(parts["frames"]))
            + "</pre>"
        )
    markup.append(f'<p><strong data-confidence="{e(confidence)}">{e(summary)}</strong></p>')
    markup.append("<ul>" + "".join(f"<li>{e(line)}</li>" for line in evidence) + "</ul>")
    if steps:
        markup.append(
            "<p>What to do:</p><ol>" + "".join(f"<li>{e(step)}</li>" for step in steps) + "</ol>"
        )
    markup.append(
        f'<p><a href="{e(verdict.link)}" target="_blank" rel="noopener">Open the troubleshooter '
        f'at this step</a> · <a href="{e(verdict.guide)}" target="_blank" rel="noopener">'
        "Read the guide's section</a></p></div>"
    )
    return "\n".join(text), "\n".join(markup)
