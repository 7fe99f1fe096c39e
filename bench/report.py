"""Figures, budgets and the results table: the part of the bench that judges and reports.

A figure is one measured number with an optional budget. Its result is one of

- ``within`` / ``over``: measured, and on the right or wrong side of its budget;
- ``no budget``: measured, reported for information;
- ``not measured``: the piece that would produce it does not exist yet (the note says why);
- ``failed``: the piece exists but measuring it failed (the note says how).

A bench run fails when any figure is ``over`` or ``failed``; ``not measured`` does not fail it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Op = Literal["<=", ">="]
Status = Literal["within", "over", "no budget", "not measured", "failed"]
FAILING: frozenset[str] = frozenset({"over", "failed"})


@dataclass(frozen=True)
class Budget:
    """A limit a figure must respect: ``value <= limit`` or ``value >= limit``."""

    op: Op
    limit: float
    source: str = ""  # where the promise comes from, e.g. "issue 2"

    def allows(self, value: float) -> bool:
        return value <= self.limit if self.op == "<=" else value >= self.limit


@dataclass
class Figure:
    """One row of the results table."""

    group: str
    name: str
    unit: str
    value: float | None = None
    budget: Budget | None = None
    note: str = ""
    failed: bool = False
    status: Status = field(init=False)

    def __post_init__(self) -> None:
        self.status = classify(self.value, self.budget, failed=self.failed)


def classify(value: float | None, budget: Budget | None, *, failed: bool = False) -> Status:
    """Judge one figure against its budget."""
    if failed:
        return "failed"
    if value is None:
        return "not measured"
    if budget is None:
        return "no budget"
    return "within" if budget.allows(value) else "over"


def not_measured(
    group: str, name: str, unit: str, why: str, budget: Budget | None = None
) -> Figure:
    """A row for a piece that is not there yet: reported, but not a failure."""
    return Figure(group, name, unit, budget=budget, note=f"not measured yet: {why}")


def failed(group: str, name: str, unit: str, why: str, budget: Budget | None = None) -> Figure:
    """A row for a piece that exists but could not be measured: a failure of the run."""
    return Figure(group, name, unit, budget=budget, note=f"failed: {why}", failed=True)


def run_failed(figures: list[Figure]) -> bool:
    return any(figure.status in FAILING for figure in figures)


# ----------------------------------------------------------------------------- formatting


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "B":
        return f"{value:,.0f} B ({value / 1000:,.1f} kB)" if value >= 1000 else f"{value:,.0f} B"
    if unit == "s":
        return f"{value:.2f} s"
    if float(value).is_integer():
        return f"{value:,.0f}" + (f" {unit}" if unit else "")
    return f"{value:,.2f}" + (f" {unit}" if unit else "")


def format_budget(budget: Budget | None, unit: str) -> str:
    if budget is None:
        return "—"
    limit = budget.limit
    if unit == "B":
        shown = f"{limit:,.0f} B"
    elif unit == "s":
        shown = f"{limit:g} s"
    else:
        shown = f"{limit:,.0f}" + (f" {unit}" if unit else "")
    return f"{'≤' if budget.op == '<=' else '≥'} {shown}"


_MARKDOWN_SPECIAL = "\\`*_[]<>|"


def escape(text: str) -> str:
    """Make free text safe inside a Markdown (MyST) table cell: one line, no markup."""
    text = " ".join(text.split())
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in text)


RESULT_LABEL = {
    "within": "within",
    "over": "**over**",
    "no budget": "—",
    "not measured": "not measured",
    "failed": "**failed**",
}


def describe_machine(machine: dict[str, Any]) -> str:
    parts = [
        machine.get("cpu", "unknown CPU"),
        f"{machine.get('cores', '?')} cores",
        f"{machine.get('memory_gib', '?')} GiB memory",
        machine.get("os", "unknown OS"),
        f"Python {machine.get('python', '?')}",
        machine.get("chromium", "Chromium ?"),
    ]
    if machine.get("lighthouse"):
        parts.append(f"Lighthouse {machine['lighthouse']}")
    return ", ".join(str(part) for part in parts)


def render_markdown(results: dict[str, Any]) -> str:
    """The results as Markdown: when and where they were taken, then one row per figure."""
    figures = results["figures"]
    over = sum(1 for f in figures if f["status"] == "over")
    broken = sum(1 for f in figures if f["status"] == "failed")
    missing = sum(1 for f in figures if f["status"] == "not measured")
    within = sum(1 for f in figures if f["status"] == "within")
    lines = [
        f"Measured on {results['date']} at commit `{results.get('commit', 'unknown')}`, "
        f"on {escape(describe_machine(results['machine']))}.",
        "",
        f"{within} within budget, {over} over budget, {broken} failed, {missing} not measured yet.",
        "",
        "| figure | value | budget | result | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for figure in figures:
        budget = Budget(**figure["budget"]) if figure["budget"] else None
        lines.append(
            "| "
            + " | ".join(
                [
                    escape(f"{figure['group']}: {figure['name']}"),
                    escape(format_value(figure["value"], figure["unit"])),
                    escape(format_budget(budget, figure["unit"])),
                    RESULT_LABEL[figure["status"]],
                    escape(figure["note"]),
                ]
            )
            + " |"
        )
    lines += _by_kind_table(results.get("details", {}).get("pages", {}))
    return "\n".join(lines) + "\n"


KINDS = ("document", "stylesheet", "script", "image", "font", "other")


def _by_kind_table(pages: dict[str, Any]) -> list[str]:
    """Bytes (and requests) before any interaction, by type of request, per page and server."""
    if not pages:
        return []
    lines = [
        "",
        "Bytes transferred before any interaction, by type of request (number of requests in "
        "brackets):",
        "",
        "| page | served | " + " | ".join(KINDS) + " | total |",
        "| --- | --- | " + " | ".join("---:" for _ in KINDS) + " | ---: |",
    ]
    for label, page in pages.items():
        for server, title in (("plain", "http.server"), ("gzip", "gzip")):
            load = page.get(server)
            if not load:
                continue
            cells = []
            for kind in KINDS:
                entry = load["by_kind"].get(kind)
                cells.append(f"{entry['bytes']:,} ({entry['requests']})" if entry else "—")
            total = f"{load['bytes']:,} ({load['requests']})"
            lines.append(f"| {escape(label)} | {title} | " + " | ".join(cells) + f" | {total} |")
    return lines


def results_dict(
    figures: list[Figure],
    *,
    date: str,
    commit: str,
    machine: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "date": date,
        "commit": commit,
        "machine": machine,
        "figures": [asdict(figure) for figure in figures],
        "details": details or {},
    }


def write(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write results.json and results.md into ``folder``; return both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "results.json"
    md_path = folder / "results.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(render_markdown(results))
    return json_path, md_path
