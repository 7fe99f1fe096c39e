"""What ``diagnose`` remembers between checks: the OOM-kill counter, per cgroup.

The one file the command writes: ``state_path()``, a JSON file of ``{"version",
"checks": {state_key(facts): state_entry(facts, now)}}``. A missing or corrupt
file reads as empty; a file that cannot be written is skipped.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from .facts import facts_part

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Mapping

STATE_NAME = "jupyter-kernel-troubleshooter"


def state_path() -> str:
    """``$XDG_CACHE_HOME/jupyter-kernel-troubleshooter/state.json`` (``~/.cache`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, STATE_NAME, "state.json")


def state_key(facts: Mapping[str, Any]) -> str:
    cgroup = facts_part(facts, "cgroup")
    return (
        f"cgroup-v{cgroup.get('version')}:{cgroup.get('path')}" if cgroup.get("path") else "machine"
    )


def state_entry(facts: Mapping[str, Any], now: float) -> dict[str, Any]:
    """What the next check compares with."""
    cgroup = facts_part(facts, "cgroup")
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
