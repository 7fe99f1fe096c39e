"""The kernel companion: ``%load_ext troubleshooter`` in a notebook.

- :mod:`.record`: the flight recorder's files (one record and one crash file per
  kernel process, written atomically, private to the user, pruned).
- :mod:`.guard`: the memory guard thread that stops a cell before the OOM killer.
- :mod:`.kernel`: what runs in the kernel (IPython events, faulthandler, the record).
- :mod:`.postmortem`: the next session's explanation, through ``diagnose``.
- :mod:`.server`: the Jupyter server extension that records exit statuses.
- :mod:`.install`: ``python -m troubleshooter kernel install|uninstall``.

Nothing here imports Sphinx; IPython is imported only when IPython loads us.
"""

from __future__ import annotations

import contextlib
from typing import Any

_companion: Any = None


def load(shell: Any) -> None:
    """Start the companion in ``shell`` (IPython's InteractiveShell); loading twice does nothing."""
    global _companion
    if _companion is not None:
        return
    from .kernel import Companion

    # a cell runs when the kernel has a parent message; at kernel start it has none
    at_start = not getattr(shell, "parent_header", None)
    companion = Companion(shell, at_start=at_start)
    _companion = companion
    with contextlib.suppress(Exception):
        shell.register_magic_function(_magic, "line", "troubleshooter")
    companion.start()


def unload(shell: Any) -> None:
    global _companion
    if _companion is not None:
        _companion.stop()
        _companion = None


def current() -> Any:
    """The running companion, or ``None``."""
    return _companion


USAGE = """%troubleshooter                 show the guard's settings and this kernel's record
%troubleshooter off | on        turn the memory guard off or on
%troubleshooter warn 80 stop 92 warning and stop thresholds, in percent of the limit"""


def _magic(line: str) -> None:
    """``%troubleshooter [on|off] [warn N] [stop N]``: the memory guard's settings."""
    from .kernel import _share

    companion = _companion
    if companion is None:
        print("troubleshooter: not loaded (run %load_ext troubleshooter)")
        return
    words = line.lower().split()
    guard = companion.guard
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("off", "on"):
            guard.enabled = word == "on"
            if not guard.enabled:
                guard.running.clear()
        elif word in ("warn", "stop") and index + 1 < len(words):
            value = _share(words[index + 1], -1.0)
            if value < 0:
                print(f"troubleshooter: {words[index + 1]!r} is not a share between 5 and 99.5%")
                return
            setattr(guard, word, value)
            index += 1
        else:
            print(USAGE)
            return
        index += 1
    if guard.warn > guard.stop:
        guard.warn = guard.stop
    print(companion.settings_text())
