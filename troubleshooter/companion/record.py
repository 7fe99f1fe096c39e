"""The flight recorder's files: one small JSON record per kernel process, and its crash file.

A record lives in ``jupyter-kernel-troubleshooter/`` beside the kernel's
connection file (Jupyter's runtime directory, where the server finds it too), or
in the user cache directory when that folder cannot be written. Its name is
``<key>-<pid>.json``, where the key is the kernel id from the connection file
(``kernel-<id>.json``; a restart keeps it) or ``ipython`` outside a Jupyter
kernel. Beside it, ``<key>-<pid>.crash`` receives faulthandler's traceback and
``<key>-<pid>.exit`` the exit status the server extension saw.

The kernel keeps its own record open (:class:`Page`) and rewrites it in place
with one ``pwrite`` of at most one page (4 KiB) at offset 0, padded with spaces
to its longest length so far: the kernel's death, even SIGKILL in the middle of
a write, leaves the old or the new record, never half of one (the kernel checks
for a fatal signal between pages, not within one), and no file is created or
renamed per cell. Other writers (the post-mortem marking a record shown, the
server noting an exit status) replace whole files atomically (a temporary file,
then ``os.replace``). Every file is readable by the user alone (records hold the
first lines of code). Reading never raises: a missing, unreadable or corrupt
record gives ``None`` and a reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

FORMAT = 1
FOLDER = "jupyter-kernel-troubleshooter"
MAX_BYTES = 64 * 1024  # a file read as a record is never bigger than this
PAGE = 4096  # the kernel's own record fits in one page
KEEP_PER_KERNEL = 3  # records kept per kernel id
MAX_AGE = 7 * 24 * 3600  # records older than this are removed
MAX_RECORDS = 200  # files looked at in one folder, at most
CELL_LINES = 12  # lines of the running cell kept
CELL_CHARS = 1200
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def kernel_id(connection_file: str | None) -> str | None:
    """The kernel id in a connection file's name (``kernel-<id>.json``), if any.

    A connection file named otherwise (jupyter_client's temporary ``tmpXXXX.json``)
    gives its stem: a restart keeps the file, so the key stays the same.
    """
    name = os.path.basename(connection_file or "")
    if _is_kernel_file(name):
        return name[len("kernel-") : -len(".json")]
    stem = "".join(c if c in _SAFE else "_" for c in os.path.splitext(name)[0])[:80]
    return stem or None


def _is_kernel_file(name: str) -> bool:
    """``kernel-<id>.json``, the name Jupyter gives connection files in its runtime folder."""
    return name.startswith("kernel-") and name.endswith(".json") and len(name) > 12


def parse_name(name: str) -> tuple[str, int] | None:
    """``(key, pid)`` of a record's file name ``<key>-<pid>.json``, or ``None``."""
    if not name.endswith(".json"):
        return None
    key, _, pid = name[: -len(".json")].rpartition("-")
    if not key or not pid.isdigit() or not set(key) <= _SAFE:
        return None
    return key, int(pid)


def cache_folder() -> str:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, FOLDER, "kernels")


def folders(connection_file: str | None) -> list[str]:
    """Where records may be, the preferred first: beside the connection file, then the cache."""
    found = []
    runtime = os.environ.get("JUPYTER_RUNTIME_DIR")
    if connection_file and _is_kernel_file(os.path.basename(connection_file)):
        found.append(os.path.join(os.path.dirname(os.path.abspath(connection_file)), FOLDER))
    if runtime:
        found.append(os.path.join(runtime, FOLDER))
    found.append(cache_folder())
    return list(dict.fromkeys(found))


def writable_folder(candidates: list[str]) -> str | None:
    """The first candidate folder that exists or can be made, private to the user."""
    for folder in candidates:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            info = os.lstat(folder)
        except OSError:
            continue
        ours = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        if ours and not os.path.islink(folder) and os.access(folder, os.W_OK):
            return folder
    return None


def clip_cell(source: str) -> list[str]:
    """The first lines of a cell, bounded in count and length."""
    lines, size = [], 0
    for line in source.splitlines()[:CELL_LINES]:
        line = line[:200]
        size += len(line)
        if size > CELL_CHARS:
            break
        lines.append(line)
    return lines


def encode(record: dict[str, Any], limit: int = PAGE) -> bytes:
    """``record`` as JSON in at most ``limit`` bytes, dropping detail until it fits."""
    data = json.dumps(record, separators=(",", ":"), default=str).encode()
    if len(data) <= limit:
        return data
    cell = record.get("cell") if isinstance(record.get("cell"), dict) else None
    smaller = {**record, "cells": (record.get("cells") or [])[-3:]}
    if cell:
        lines = [str(line)[:100] for line in cell.get("lines") or []]
        smaller["cell"] = {**cell, "lines": lines[:3]}
    for key in ("notebook", "python"):
        if isinstance(smaller.get(key), str):
            smaller[key] = smaller[key][-300:]
    data = json.dumps(smaller, separators=(",", ":"), default=str).encode()
    if len(data) <= limit:
        return data
    smaller = {k: v for k, v in smaller.items() if k not in ("cells", "python")}
    return json.dumps(smaller, separators=(",", ":"), default=str).encode()[:limit]


class Page:
    """The kernel's own record file: one page, rewritten in place.

    ``write(record)`` copies the record into a shared memory map of the file: no
    system call, so the main thread keeps the GIL (a system call would hand it
    to ipykernel's threads, which costs a cell up to milliseconds on a busy
    machine). ``write(record, syscall=True)`` uses one ``pwrite`` instead, for
    the guard's thread: a SIGKILL arriving during it leaves the old page or the
    new one. The page is padded with spaces, which JSON readers skip.
    """

    def __init__(self, path: str) -> None:
        import mmap

        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.pwrite(self.fd, b" " * PAGE, 0)
            self.map: Any = mmap.mmap(self.fd, PAGE)
        except (OSError, ValueError):
            self.map = None

    def write(self, record: dict[str, Any], syscall: bool = False) -> bool:
        try:
            data = encode(record).ljust(PAGE)
            if self.map is not None and not syscall:
                self.map[:PAGE] = data
            else:
                os.pwrite(self.fd, data, 0)
        except (OSError, ValueError, TypeError, RuntimeError):  # RuntimeError: changed meanwhile
            return False
        return True

    def close(self) -> None:
        try:
            if self.map is not None:
                self.map.close()
            os.close(self.fd)
        except (OSError, ValueError):
            pass


def write(path: str, record: dict[str, Any]) -> bool:
    """Replace ``path`` with ``record`` atomically, mode 0600; ``False`` if it failed."""
    try:
        data = json.dumps(record, separators=(",", ":"), default=str).encode()
        if len(data) > MAX_BYTES:
            record = {**record, "cells": record.get("cells", [])[-3:], "cell": _short(record)}
            data = json.dumps(record, separators=(",", ":"), default=str).encode()[:MAX_BYTES]
        temporary = f"{path}.{threading.get_ident()}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except (OSError, ValueError, TypeError, RuntimeError):  # RuntimeError: changed meanwhile
        return False
    return True


def _short(record: dict[str, Any]) -> Any:
    cell = record.get("cell")
    if isinstance(cell, dict):
        return {**cell, "lines": (cell.get("lines") or [])[:2]}
    return cell


def read(path: str) -> tuple[dict[str, Any] | None, str | None]:
    """A record and ``None``, or ``None`` and why it could not be read."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except OSError as error:
        return None, f"cannot be read ({error.strerror or error})"
    if len(data) > MAX_BYTES:
        return None, "is larger than a record can be"
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "is not a readable record (its contents are damaged)"
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None, "is not a record this version understands"
    return record, None


def read_text(path: str, limit: int = 32 * 1024) -> str:
    """The last ``limit`` bytes of a text file (a crash file), or ``""``."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            size = file.tell()
            file.seek(max(0, size - limit))
            return file.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""


def listing(folder: str) -> list[tuple[str, str, int, float]]:
    """``(path, key, pid, modified)`` of the records in ``folder``, newest first."""
    found = []
    try:
        names = os.listdir(folder)[: MAX_RECORDS * 3]
    except OSError:
        return []
    for name in names:
        parsed = parse_name(name)
        if parsed is None:
            continue
        path = os.path.join(folder, name)
        try:
            modified = os.stat(path).st_mtime
        except OSError:
            continue
        found.append((path, *parsed, modified))
    found.sort(key=lambda item: item[3], reverse=True)
    return found[:MAX_RECORDS]


def prune(folder: str, keep: set[str], now: float | None = None) -> int:
    """Remove records (and their crash files) beyond the last few per kernel or over a week old.

    ``keep`` holds paths never removed (this kernel's own record). Returns how many went.
    """
    now = time.time() if now is None else now
    seen: dict[str, int] = {}
    removed = 0
    for path, key, _pid, modified in listing(folder):
        seen[key] = seen.get(key, 0) + 1
        if path in keep or (seen[key] <= KEEP_PER_KERNEL and now - modified < MAX_AGE):
            continue
        for victim in (path, crash_path(path), exit_path(path)):
            try:
                os.remove(victim)
            except OSError:
                continue
        removed += 1
    return removed


def process_alive(pid: Any) -> bool:
    """Whether a process with this pid runs now (a recycled pid counts as alive: we keep quiet)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, owned by someone else
    return True


def crash_path(path: str) -> str:
    """Where faulthandler writes for the record at ``path``."""
    return path[: -len(".json")] + ".crash"


def exit_path(path: str) -> str:
    """Where the server extension notes the exit status of the record's process."""
    return path[: -len(".json")] + ".exit"


@dataclass
class Found:
    """A dead kernel's record (or, with ``problem``, why it could not be read)."""

    path: str
    record: dict[str, Any] | None = None
    problem: str | None = None
    crash: str = ""


def find_previous(folder: str, kernel_id: str | None, notebook: str | None) -> Found | None:
    """The newest open record of a dead process of this kernel or notebook, marked shown."""
    me = os.getpid()
    for path, key, pid, _modified in listing(folder):
        if pid == me or process_alive(pid):
            continue
        own_key = kernel_id is not None and key == kernel_id
        if not own_key and not notebook:
            continue
        record, problem = read(path)
        if record is None:
            if own_key:  # ours by its name, but unreadable: say so once
                _forget(path)
                return Found(path, problem=problem)
            continue
        same = (kernel_id and record.get("kernel_id") == kernel_id) or (
            notebook and record.get("notebook") == notebook
        )
        if not same or record.get("closed") or record.get("shown"):
            continue
        record["shown"] = round(time.time(), 3)
        write(path, record)
        exit_info, _ = read(exit_path(path))
        if exit_info is not None:
            record["exit"] = exit_info
        return Found(path, record, crash=read_text(crash_path(path)))
    return None


def _forget(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
