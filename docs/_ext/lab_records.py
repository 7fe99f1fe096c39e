"""``lab-record``: what a cause looked like in a real run of the crash lab, collapsed.

In a page: ``:::{lab-record} out-of-memory`` (MyST) or ``.. lab-record:: out-of-memory``
reads ``docs/lab/out-of-memory.json`` (written by ``nox -s lab``, committed) and
puts a collapsed block "What it looked like in a real run" there (a plain
``<details>``: a sphinx-design dropdown's markup, its chevron's SVG above all, cost
the guide over 6 kB for nine of them): per run, what the user saw, the states the
server sent, the exit status and the server's telling log line. The build never
runs the lab. A missing or malformed record stops the build with the file and the
field at fault.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

if TYPE_CHECKING:
    from sphinx.application import Sphinx

TITLE = "What it looked like in a real run"
SHOWN_LINES = 5
LOG_LINES = 1
_UUID = re.compile(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_ROUTINE_LOG = ("Kernel started", "Culling kernels with idle durations", "…")


class RecordError(ExtensionError):
    def __init__(self, path: Path, field: str, problem: str) -> None:
        super().__init__(f"{path}: {field}: {problem}")


def _need(path: Path, value: Any, field: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise RecordError(path, field, f"should be {names}, is {type(value).__name__}")
    return value


def _strings(path: Path, value: Any, field: str) -> list[str]:
    for index, item in enumerate(_need(path, value, field, list)):
        _need(path, item, f"{field}[{index}]", str)
    return value


def load_record(path: Path, cause: str) -> dict[str, Any]:
    """The record of ``cause``, checked field by field."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(path, "file", "missing (run `nox -s lab` and commit it)") from None
    except ValueError as error:
        raise RecordError(path, "file", f"not JSON: {error}") from None
    _need(path, record, "record", dict)
    if record.get("cause") != cause:
        raise RecordError(path, "cause", f"should be {cause!r}, is {record.get('cause')!r}")
    runs = _need(path, record.get("runs"), "runs", list)
    missing = _need(path, record.get("not_reproduced"), "not_reproduced", list)
    if not runs and not missing:
        raise RecordError(path, "runs", "empty, and not_reproduced says nothing of why")
    for index, run in enumerate(runs):
        where = f"runs[{index}]"
        _need(path, run, where, dict)
        for key in ("name", "how"):
            _need(path, run.get(key), f"{where}.{key}", str)
        shown = _need(path, run.get("shown"), f"{where}.shown", dict)
        for key in ("front_end", "stderr", "output"):
            _strings(path, shown.get(key), f"{where}.shown.{key}")
        for key in ("cocalc", "reason"):
            _need(path, shown.get(key), f"{where}.shown.{key}", (str, type(None)))
        _strings(path, run.get("status"), f"{where}.status")
        _strings(path, run.get("log"), f"{where}.log")
        _need(path, run.get("exit"), f"{where}.exit", (str, type(None)))
    for index, item in enumerate(missing):
        _need(path, item, f"not_reproduced[{index}]", dict)
        for key in ("name", "why"):
            _need(path, item.get(key), f"not_reproduced[{index}].{key}", str)
    versions = _need(path, record.get("versions"), "versions", dict)
    for key in ("jupyter_server", "jupyter_client", "ipykernel", "python"):
        _need(path, versions.get(key), f"versions.{key}", str)
    _need(path, record.get("date"), "date", str)
    return record


def shown_lines(run: dict[str, Any]) -> list[str]:
    """What the user had in front of them, most telling first, a few lines."""
    shown = run["shown"]
    lines = list(shown["front_end"])
    lines += [text for text in (shown["cocalc"], shown["reason"]) if text]
    lines += shown["stderr"][-2:] + shown["output"][-2:]
    lines = [line for index, line in enumerate(lines) if line not in lines[:index]]
    return lines[:SHOWN_LINES] or ["(no message and no output)"]


def states_text(states: list[str]) -> str:
    """busy → idle → busy → idle → busy → restarting as "(busy → idle) x2 → busy → restarting"."""
    parts, index = [], 0
    while index < len(states):
        repeats = 1
        while states[index : index + 2] == states[index + 2 * repeats : index + 2 * repeats + 2]:
            repeats += 1
        if repeats > 1 and len(states[index : index + 2]) == 2:
            parts.append(f"({' → '.join(states[index : index + 2])}) x{repeats}")
            index += 2 * repeats
        else:
            parts.append(states[index])
            index += 1
    return " → ".join(parts) or "none"


def telling_log(run: dict[str, Any]) -> list[str]:
    """The server's lines about the death itself, without the routine ones."""
    lines = [line for line in run["log"] if not any(word in line for word in _ROUTINE_LOG)]
    return [_UUID.sub(lambda m: m.group(1) + "…", line) for line in lines[:LOG_LINES]]


def run_nodes(run: dict[str, Any]) -> list[nodes.Node]:
    head = nodes.paragraph()
    head += nodes.strong(text=run["name"])
    head += nodes.Text(f": {run['how']}.")
    lines = shown_lines(run)
    lines.append(f"states: {states_text(run['status'])}; exit: {run['exit'] or 'none'}")
    lines += [f"log: {line}" for line in telling_log(run)]
    text = "\n".join(lines)
    block = nodes.literal_block(text, text)
    block["language"] = "none"
    return [head, block]


class lab_record(nodes.General, nodes.Element):
    """A collapsed block: ``<details>`` in HTML, its contents as they are elsewhere."""


def visit_html(translator: Any, node: lab_record) -> None:
    translator.body.append(f'<details class="lab-record"><summary>{TITLE}</summary>\n')


def depart_html(translator: Any, node: lab_record) -> None:
    translator.body.append("</details>\n")


def visit_other(translator: Any, node: lab_record) -> None:
    pass


class LabRecordDirective(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        cause = self.arguments[0]
        path = Path(self.env.srcdir) / self.config.lab_records_dir / f"{cause}.json"
        self.env.note_dependency(str(path))
        record = load_record(path, cause)
        block = lab_record()
        self.set_source_info(block)
        for run in record["runs"]:
            if "companion" not in run:  # those repeat a run with the companion: records only
                block.extend(run_nodes(run))
        for item in record["not_reproduced"]:
            block += nodes.paragraph(text=f"Not reproduced here: {item['name']}: {item['why']}.")
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("lab_records_dir", "lab", "env", types=[str])
    other = (visit_other, visit_other)
    app.add_node(lab_record, html=(visit_html, depart_html), latex=other, text=other, man=other,
                 texinfo=other)  # fmt: skip
    app.add_directive("lab-record", LabRecordDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
