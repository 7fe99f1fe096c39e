"""``python -m troubleshooter run``: run the code outside Jupyter and report how it ended.

``run SCRIPT.py [ARGS]`` runs a script, ``run NOTEBOOK.ipynb`` runs a notebook's
code cells in order in one plain Python process (no Jupyter needed; lines with
IPython magics or ``!`` shell commands are skipped and listed), and
``run -- COMMAND ...`` runs any command. Python runs with ``faulthandler`` on
(``-X faulthandler`` and ``PYTHONFAULTHANDLER=1``), so a crash in compiled code
leaves a traceback.

The report names how the code ended (exit code, or signal by name), its peak
resident memory against the memory limit, the OOM kills counted during the run,
the faulthandler traceback on a crash, and the verdict of ``diagnose`` on all
of it. The code's own output passes through; with ``--json`` its standard output
goes to standard error, so that standard output holds only the JSON.

Exit status: 0 when the report was made, whatever the code did; 2 when there
was nothing to run (a missing file, a notebook that is not JSON).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .cgroup import read_memory_cgroup
from .diagnose import Verdict, diagnose, write_out
from .evidence import collect
from .facts import Facts
from .report import render, size_text
from .signals import parse_exit_code

HELP = "run a script, a notebook or a command outside Jupyter and report how it ended"

TAIL_BYTES = 64 * 1024  # the end of the code's error output kept for the report
TRACEBACK_LINES = 40
CELL_MARK = "[troubleshooter] code cell "

_MAGIC = re.compile(r"^\s*(?:[%!]|[\w.,\s\[\]]+=\s*[%!])|^[^#\n]*\?\s*$")
_CELL_MAGIC = re.compile(r"^\s*%%")

# The program that runs a notebook's cells: each cell is compiled under its own
# name, so tracebacks (faulthandler's too) say "NOTEBOOK [code cell N]".
NOTEBOOK_DRIVER = """\
import json, linecache, os, sys, traceback

with open(sys.argv[1], encoding="utf-8") as file:
    notebook = json.load(file)
sys.argv = [notebook["path"]]
sys.path[0] = os.getcwd()  # the notebook's folder, as in Jupyter: its modules import
namespace = {"__name__": "__main__", "__builtins__": __builtins__, "display": print}
for cell in notebook["cells"]:
    name = f"{notebook['path']} [code cell {cell['number']}]"
    linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(True), name)
    print(f"CELL_MARK{cell['number']}", file=sys.stderr, flush=True)
    try:
        exec(compile(cell["source"], name, "exec"), namespace)
    except Exception as error:  # shown from the cell down, with its source lines
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        sys.exit(1)
""".replace("CELL_MARK", CELL_MARK)


class NothingToRun(Exception):
    """The target cannot be run; the message says why, naming it."""


@dataclass
class Target:
    """What to run: the command, where, the source code (for clues), notes on the way."""

    command: list[str]
    label: str
    source: str = ""
    cwd: str | None = None
    skipped: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # temporary files to remove afterwards


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  python -m troubleshooter run analysis.py --input data.csv\n"
        "  python -m troubleshooter run --json mynotebook.ipynb\n"
        "  python -m troubleshooter run -- python -c 'import numpy'"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "target",
        nargs=argparse.REMAINDER,
        metavar="SCRIPT.py | NOTEBOOK.ipynb | -- COMMAND",
        help="what to run, with its arguments",
    )


def run(args: argparse.Namespace) -> int:
    try:
        target = make_target(list(args.target))
    except NothingToRun as error:
        print(f"run: {error}", file=sys.stderr)
        return 2
    try:
        verdict, ran = execute(target, quiet_stdout=args.json)
    except NothingToRun as error:
        print(f"run: {error}", file=sys.stderr)
        return 2
    finally:
        for path in target.files:
            shutil.rmtree(path, ignore_errors=True)
    if args.json:
        return write_out(json.dumps({**verdict.to_json(), "run": ran}, indent=2))
    return write_out(render_run(ran) + "\n\n" + render(verdict))


def make_target(words: list[str]) -> Target:
    """Turn the command line into a ``Target``."""
    if words and words[0] == "--":
        words = words[1:]
        if not words:
            raise NothingToRun("nothing after '--': give a command to run")
        return Target(words, " ".join(words))
    if not words:
        raise NothingToRun("give a script (.py), a notebook (.ipynb), or -- and a command")
    first = words[0]
    python = [sys.executable or "python3", "-X", "faulthandler"]
    if first.endswith(".ipynb"):
        return notebook_target(first, python)
    if first.endswith(".py"):
        source = _read_source(first)
        return Target([*python, first, *words[1:]], first, source)
    return Target(words, " ".join(words))


def _read_source(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except FileNotFoundError:
        raise NothingToRun(f"{path!r} does not exist") from None
    except OSError as error:
        raise NothingToRun(f"cannot read {path!r}: {error.strerror}") from None


def notebook_cells(text: str, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The code cells of a notebook, magics blanked out, and what was skipped.

    Lines keep their numbers: a skipped line becomes ``pass`` at its indentation.
    """
    try:
        notebook = json.loads(text)
    except ValueError as error:
        raise NothingToRun(f"{path!r} is not a notebook (not JSON: {error})") from None
    raw_cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(raw_cells, list):
        raise NothingToRun(f"{path!r} is not a notebook (no list of cells)")
    cells, skipped, number = [], [], 0
    for raw in raw_cells:
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        number += 1
        source = raw.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if _CELL_MAGIC.match(source):
            skipped.append(f"code cell {number}: cell magic {source.split()[0]} (whole cell)")
            continue
        lines = []
        for line_number, line in enumerate(source.splitlines(), 1):
            if _MAGIC.match(line):
                skipped.append(f"code cell {number}, line {line_number}: {line.strip()[:60]}")
                indent = line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}pass")
            else:
                lines.append(line)
        cells.append({"number": number, "source": "\n".join(lines) + "\n"})
    return cells, skipped


def notebook_target(path: str, python: list[str]) -> Target:
    cells, skipped = notebook_cells(_read_source(path), path)
    folder = tempfile.mkdtemp(prefix="troubleshooter-run-")
    driver, data = os.path.join(folder, "driver.py"), os.path.join(folder, "cells.json")
    with open(driver, "w", encoding="utf-8") as file:
        file.write(NOTEBOOK_DRIVER)
    with open(data, "w", encoding="utf-8") as file:
        json.dump({"path": os.path.basename(path), "cells": cells}, file)
    return Target(
        [*python, driver, data],
        path,
        source="\n".join(cell["source"] for cell in cells),
        cwd=os.path.dirname(os.path.abspath(path)),
        skipped=skipped,
        files=[folder],
    )


def execute(target: Target, quiet_stdout: bool = False) -> tuple[Verdict, dict[str, Any]]:
    """Run ``target``: the verdict, and what was measured (the ``run`` part of ``--json``)."""
    before = read_memory_cgroup()
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    started = time.monotonic()
    try:
        child = subprocess.Popen(
            target.command,
            stdout=sys.stderr.fileno() if quiet_stdout else None,
            stderr=subprocess.PIPE,
            cwd=target.cwd,
            env=env,
        )
    except FileNotFoundError:
        raise NothingToRun(f"{target.command[0]!r}: no such command") from None
    except OSError as error:
        raise NothingToRun(f"cannot start {target.command[0]!r}: {error.strerror}") from None
    tail: deque[bytes] = deque()
    copier = threading.Thread(target=_copy_stderr, args=(child.stderr, tail), daemon=True)
    copier.start()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the code
    try:
        returncode, peak = _wait(child)
    finally:
        signal.signal(signal.SIGINT, previous)
    copier.join(timeout=5)
    duration = time.monotonic() - started
    facts = collect()
    after = facts["cgroup"]
    stderr = b"".join(tail).decode("utf-8", "replace")
    oom = None
    kills_before, kills_after = before["oom_kills"], after["oom_kills"]
    if isinstance(kills_before, int) and isinstance(kills_after, int):
        oom = kills_after - kills_before if before["path"] == after["path"] else None
    death = parse_exit_code(returncode)
    run_facts = {
        "command": target.command,
        "label": target.label,
        "pid": child.pid,
        "returncode": returncode,
        "signal": death.signal,
        "exit_code": returncode if returncode >= 0 else None,
        "duration": round(duration, 2),
        "peak_rss": peak,
        "limit": _limit(facts),
        "oom_kills": oom,
        "last_cell": _last_cell(stderr),
        "skipped": target.skipped,
        "traceback": crash_traceback(stderr),
    }
    verdict = diagnose(
        facts,
        exit_code=returncode,
        text=stderr,
        code=target.source,
        run=run_facts,
    )
    return verdict, run_facts


def _copy_stderr(stream: io.BufferedIOBase, tail: deque[bytes]) -> None:
    """Pass the code's error output through, keeping its last ``TAIL_BYTES``."""
    kept = 0
    out = getattr(sys.stderr, "buffer", None)
    for chunk in iter(lambda: stream.read1(8192), b""):
        if out is not None:
            try:
                out.write(chunk)
                out.flush()
            except (OSError, ValueError):
                out = None
        tail.append(chunk)
        kept += len(chunk)
        while kept - len(tail[0]) >= TAIL_BYTES:
            kept -= len(tail.popleft())


def _wait(child: subprocess.Popen) -> tuple[int, int | None]:
    """Wait for the child; its return code and peak resident memory in bytes (if known)."""
    if not hasattr(os, "wait4"):
        return child.wait(), None
    while True:
        try:
            _, status, usage = os.wait4(child.pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            return child.wait(), None
    child.returncode = os.waitstatus_to_exitcode(status)
    scale = 1 if sys.platform == "darwin" else 1024  # macOS counts bytes, Linux KiB
    return child.returncode, usage.ru_maxrss * scale


def _limit(facts: Facts) -> int | None:
    limit = facts["cgroup"]["limit"]
    total = facts["machine"]["total"]
    if isinstance(limit, int):
        return min(limit, total) if isinstance(total, int) else limit
    return total if isinstance(total, int) else None


def _last_cell(stderr: str) -> int | None:
    marks = re.findall(re.escape(CELL_MARK) + r"(\d+)", stderr)
    return int(marks[-1]) if marks else None


def crash_traceback(stderr: str) -> str | None:
    """The faulthandler traceback at the end of ``stderr``, or its last Python traceback."""
    lines = stderr.splitlines()
    for start in range(len(lines) - 1, -1, -1):
        if lines[start].startswith(("Fatal Python error:", "Traceback (most recent call last)")):
            return "\n".join(lines[start : start + TRACEBACK_LINES])
    return None


def render_run(run: dict[str, Any]) -> str:
    """How the run ended, its memory, what was skipped, and the traceback of a crash."""
    ending = (
        f"killed by signal {run['signal']} (return code {run['returncode']})"
        if run["returncode"] < 0
        else f"exited with code {run['exit_code']}"
    )
    share = ""
    if run["peak_rss"] and run["limit"]:
        share = f" ({100 * run['peak_rss'] / run['limit']:.0f}%)"
    oom = run["oom_kills"] if run["oom_kills"] is not None else "unknown"
    lines = [
        f"Run: {run['label']} {ending} after {run['duration']:.1f} s.",
        f"Peak memory {size_text(run['peak_rss'])} of the {size_text(run['limit'])} limit"
        f"{share}; OOM kills during the run: {oom}.",
    ]
    if run["last_cell"] is not None:
        lines.append(f"The last cell started was code cell {run['last_cell']}.")
    if run["skipped"]:
        lines.append("Skipped (IPython magics and shell commands do not run in plain Python):")
        lines += [f"  {item}" for item in run["skipped"][:20]]
    if run["traceback"] and run["returncode"] != 0:
        lines += ["", "Traceback:"] + [f"  {line}" for line in _squeeze(run["traceback"])]
    return "\n".join(lines)


def _squeeze(text: str) -> list[str]:
    """The lines of ``text``, with a run of repeated lines shown once and counted."""
    lines: list[str] = []
    repeats = 0
    for line in [*text.splitlines(), None]:
        if lines and line == lines[-1]:
            repeats += 1
            continue
        if repeats:
            lines.append(f"  [the line above, {repeats} more times]")
            repeats = 0
        if line is not None:
            lines.append(line)
    return lines
