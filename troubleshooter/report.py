"""The report ``diagnose`` prints: the verdict, why, what to do, and what was read.

Also the phrasing the readers share: sizes, durations and shares as people read them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .facts import UNLIMITED, facts_part

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable, Mapping

    from .diagnose import Verdict


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


def clip(text: Any, width: int = 120) -> str:
    text = str(text or "")
    return text if len(text) <= width else text[: width - 1].rstrip(" ,") + "…"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def duration_text(seconds: Any) -> str:
    """A length of time in the unit that suits it: ``45 s``, ``12 min``, ``3.5 h``, ``2 days``."""
    if not isinstance(seconds, (int, float)):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


def ago_text(seconds: Any) -> str:
    """When, ``seconds`` before now: ``12 min ago``."""
    if not isinstance(seconds, (int, float)):
        return "at an unknown time"
    return f"{duration_text(seconds)} ago"


def share_text(part: Any, whole: Any) -> str:
    if isinstance(part, int) and isinstance(whole, int) and whole > 0:
        return f" ({100 * part / whole:.0f}%)"
    return ""


def render(verdict: Verdict) -> str:
    """The human-readable report: the verdict first, then why, what to do, and the readings."""
    lines = [verdict.summary, ""]
    if verdict.first_check:
        lines += [f"First check: {verdict.first_check}", ""]
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


def describe_facts(facts: Mapping[str, Any]) -> list[str]:
    """One line per kind of evidence; ``unknown`` for what could not be read."""

    def part(key: str) -> dict[str, Any]:
        return facts_part(facts, key)

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
            f"; pid {k.get('pid')} {size_text(k.get('rss'))} up {duration_text(k.get('age'))}"
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
            f"kernel log  {log['source']}: {plural(len(log.get('oom_kills') or []), 'OOM kill')}, "
            f"{plural(len(log.get('segfaults') or []), 'segfault')}"
        )
    else:
        lines.append("kernel log  unknown: not readable by this user")
    packages = part("packages")
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
