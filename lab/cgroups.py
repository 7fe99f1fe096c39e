"""Memory cgroups made for one experiment, and removed afterwards.

Shared by the crash lab and the reproduction tests. Creating a cgroup needs root
and a writable memory controller (cgroup v1 or v2); where either is missing,
``memory_cgroup`` raises ``Unavailable`` with a sentence saying which, so a test
can skip and a lab record can say why.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from troubleshooter.cgroup import find_memory_cgroup


class Unavailable(Exception):
    """This machine cannot make what was asked for; the message says why."""


@dataclass
class Cgroup:
    version: int
    path: Path  # the directory of the cgroup
    name: str  # the cgroup as /proc/PID/cgroup shows it
    limit: int

    @property
    def procs(self) -> Path:
        return self.path / "cgroup.procs"

    def inside(self, command: list[str]) -> list[str]:
        """``command``, started as a member of this cgroup (the shell joins, then execs)."""
        quoted = " ".join(quote(word) for word in command)
        return ["/bin/sh", "-c", f"echo $$ > {quote(str(self.procs))} && exec {quoted}"]

    def oom_kills(self) -> int:
        if self.version == 1:
            text = (self.path / "memory.oom_control").read_text()
        else:
            text = (self.path / "memory.events").read_text()
        return int(
            next(line.split()[1] for line in text.splitlines() if line.startswith("oom_kill "))
        )


def quote(word: str) -> str:
    """``word`` quoted for /bin/sh."""
    return "'" + word.replace("'", "'\\''") + "'"


def _parent() -> tuple[int, Path, str]:
    """Where a memory cgroup may be created, or ``Unavailable`` naming what is missing."""
    if os.geteuid() != 0:
        raise Unavailable("needs root to create a memory cgroup")
    found = find_memory_cgroup()
    if found is None:
        raise Unavailable("no memory cgroup (v1 or v2) for this process")
    folder = Path(found["dir"])
    if found["version"] == 2:
        # cgroup v2 puts processes only in leaves: use the top of the hierarchy, whose
        # children get the memory controller when it is delegated to them
        mount = folder
        while (mount.parent / "cgroup.controllers").exists():
            mount = mount.parent
        control = (mount / "cgroup.subtree_control").read_text().split()
        if "memory" not in control:
            raise Unavailable("cgroup v2 without the memory controller enabled for child cgroups")
        return 2, mount, "/"
    return 1, folder, found["path"].rstrip("/") + "/"


@contextlib.contextmanager
def memory_cgroup(limit: int, prefix: str = "troubleshooter") -> Iterator[Cgroup]:
    """A new memory cgroup limited to ``limit`` bytes with no swap, removed on exit."""
    version, parent, above = _parent()
    name = f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = parent / name
    try:
        path.mkdir()
    except OSError as error:
        raise Unavailable(f"cannot create a memory cgroup in {parent}: {error.strerror}") from None
    try:
        if version == 1:
            (path / "memory.limit_in_bytes").write_text(str(limit))
            if (path / "memory.memsw.limit_in_bytes").exists():  # no escape into swap
                (path / "memory.memsw.limit_in_bytes").write_text(str(limit))
        else:
            (path / "memory.max").write_text(str(limit))
            if (path / "memory.swap.max").exists():
                (path / "memory.swap.max").write_text("0")
        yield Cgroup(version, path, above + name, limit)
    finally:
        remove(path, parent)


def remove(path: Path, parent: Path) -> None:
    """Move anything left in the cgroup back to its parent, then remove it."""
    deadline = time.monotonic() + 10
    while True:
        try:
            for pid in (path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):  # it may have ended meanwhile
                    (parent / "cgroup.procs").write_text(pid)
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
