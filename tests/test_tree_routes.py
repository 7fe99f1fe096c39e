"""Where each first answer of the kernel-terminated tree can lead.

A reader picks one answer to the first question, from what the message says; after that only
the rest of the tree is open to them. These tests fix which outcomes each first answer can
reach, so that a change which cuts a route off (as the old "it only says the kernel died"
route, which could reach 9 of 19 outcomes and never asked about the error lines) fails here.
"""

from __future__ import annotations

import pytest

from troubleshooter.causes import CAUSES
from troubleshooter.loader import load_builtin

TREE = load_builtin("kernel-terminated")
ALL = {outcome.id for outcome in TREE.outcomes()}
MEMORY = {"oom-one-big-step", "oom-growth", "oom-idle-kernels", "oom-workers",
          "oom-spike-not-on-meter"}  # fmt: skip
# first answer -> every outcome reachable from it
REACHABLE = {
    "says-memory": MEMORY | {"native-crash", "works-outside-jupyter", "abi-numpy",
                             "kernel-spec-broken", "shadowed-module", "disk-full", "report",
                             "stack-overflow", "script-fails"},
    "sigkill": ALL - {"abi-cpu", "abi-openmp", "gpu-memory", "output-flood", "still-running",
                      "thread-limit"},
    "other-signal": ALL - {"still-running"},
    "exit-code": ALL - {"still-running"},
    "disconnected": ALL,
    "at-start": {"kernel-spec-broken", "shadowed-module", "disk-full", "abi-numpy",
                 "oom-idle-kernels", "report"},
    "restarted": {"you-restarted"},
    "whole-unit": (ALL - {"abi-cpu", "abi-openmp", "gpu-memory", "output-flood", "still-running",
                          "thread-limit", "code-exits", "kernel-culled", "you-restarted"}),
    "no-detail": ALL - {"still-running"},
}  # fmt: skip


def outcomes_from(first: str) -> set[str]:
    return {path.outcome for path in TREE.paths() if path.answers[0] == first}


def test_every_first_answer_is_listed() -> None:
    assert set(REACHABLE) == {answer.id for answer in TREE.nodes[TREE.start].answers}


@pytest.mark.parametrize("first", sorted(REACHABLE))
def test_outcomes_each_first_answer_reaches(first: str) -> None:
    assert outcomes_from(first) == REACHABLE[first]


def test_no_detail_reaches_every_cause_of_a_death() -> None:
    """The answer every JupyterLab, VS Code, Colab and hub user gives reaches every cause.

    The one exception is "disconnected": a reader who saw the kernel die has ruled it out.
    """
    causes = {TREE.nodes[outcome].cause for outcome in outcomes_from("no-detail")}
    assert causes == set(CAUSES) - {"disconnected"}


def test_no_detail_asks_about_the_error_lines_before_memory() -> None:
    first = TREE.nodes[TREE.start].answer("no-detail")
    assert first is not None and first.target == "error-output"
    lines = TREE.nodes["error-output"]
    assert lines.answers[-1].target == "memory-limit"  # no lines at all: memory comes next
    targets = {answer.target for answer in lines.answers}
    assert {"abi-openmp", "abi-numpy", "thread-limit", "stack-overflow", "output-flood",
            "disk-full", "start-failure", "native-crash", "gpu-memory"} <= targets  # fmt: skip


def test_a_stop_of_the_whole_unit_asks_about_memory() -> None:
    """An OOM kill of the server or pod stops everything at once (review finding 6, user 5)."""
    for question, answer in (("message", "whole-unit"), ("who-stopped", "whole-unit")):
        node = TREE.nodes[question].answer(answer)
        assert node is not None and node.target == "unit-stopped"
    oom = TREE.nodes["unit-stopped"].answer("oom")
    assert oom is not None and oom.target == "kernel-count"


def test_windows_codes_have_their_own_answer() -> None:
    answer = TREE.nodes["exit-code"].answer("code-windows")
    assert answer is not None and "3221225477" in answer.label
    targets = {a.id: a.target for a in TREE.nodes[answer.target].answers}
    assert targets["access-violation"] == "native-crash"
    assert targets["stack"] == "stack-overflow"


def test_outside_jupyter_a_python_error_is_read_by_its_last_line() -> None:
    """A script's own traceback (review finding 11) leads on by its error, not to kernel start."""
    answer = TREE.nodes["outside-jupyter"].answer("python-error")
    assert answer is not None and answer.target == "script-error"
    targets = {a.id: a.target for a in TREE.nodes["script-error"].answers}
    assert targets == {"memory": "oom-one-big-step", "no-space": "disk-full",
                       "import": "start-failure", "other": "script-fails"}  # fmt: skip


def test_a_sigkill_can_lead_to_runaway_recursion() -> None:
    """Since Python 3.11 a runaway Python recursion fills memory: it ends in SIGKILL, not
    SIGSEGV (review finding 5), so the memory route must reach the stack-overflow outcome."""
    route = ["sigkill", "at-limit", "alone", "recursion"]
    assert TREE.follow(route).id == "stack-overflow"
