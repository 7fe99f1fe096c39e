"""``diagnose``: from evidence to the tree's outcome, on fixtures, on this machine, as a command."""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from troubleshooter import diagnose as dg
from troubleshooter.causes import CAUSES, step_url
from troubleshooter.evidence import collect
from troubleshooter.loader import load_builtin
from troubleshooter.messages import death_from
from troubleshooter.model import Outcome, Question
from troubleshooter.readers import READERS, Case
from troubleshooter.report import render
from troubleshooter.signals import Death, parse_exit_code, parse_signal
from troubleshooter.state import state_entry

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_CASES = ["cgroup-v1", "cgroup-v2", "no-cgroup", "garbage", "macos"]
TREE = load_builtin(dg.TREE_ID)
MIB = 1024 * 1024

MESSAGES = [
    None,
    "Kernel last terminated by signal SIGKILL.",
    "Kernel last terminated by signal SIGSEGV.",
    "Kernel last terminated by signal SIGABRT.",
    "Kernel last terminated by signal SIGBUS.",
    "Kernel last terminated by signal SIGILL.",
    "Kernel last terminated by signal SIGTERM.",
    "Kernel last terminated by signal SIGFPE.",
    "Kernel last exited with code 0.",
    "Kernel last exited with code 1.",
    "Kernel last exited with code 137.",
    "Kernel last exited with code 139.",
    "Kernel died.",
]
LINES = [
    "",
    "Fatal Python error: Cannot recover from stack overflow.",
    "OMP: Error #15: Initializing libiomp5.so, but found libomp.so already initialized.",
    "OpenBLAS blas_thread_init: pthread_create failed for thread 12 of 64: "
    "Resource temporarily unavailable",
    "A module that was compiled using NumPy 1.x cannot be run in NumPy 2.0.0",
    "IOPub data rate exceeded.",
    "OSError: [Errno 28] No space left on device",
    "/usr/bin/python3: No module named ipykernel_launcher",
    'File "/home/user/work/random.py", line 3, in <module>',
    "Fatal Python error: Segmentation fault",
    "MemoryError",
]


@functools.cache
def _collected(case: str) -> str:
    return json.dumps(collect(FIXTURES / case))


def fixture(case: str) -> dict[str, Any]:
    """The facts read from a fixture tree (a fresh copy each time)."""
    return json.loads(_collected(case))


def test_each_question_has_a_reader_or_deep_link_hints() -> None:
    for question in TREE.questions():
        hinted = all(answer.signals or answer.exit_codes for answer in question.answers)
        assert question.id in READERS or hinted, f"no reader for question {question.id!r}"
    assert set(READERS) <= {q.id for q in TREE.questions()}, "a reader for a missing question"


def _cases() -> list[Case]:
    """Many combinations of evidence, banner, output and run, to try every reader on."""
    cases = []
    for name, message, lines in itertools.product(FIXTURE_CASES, MESSAGES, LINES):
        facts = fixture(name)
        death = death_from(message=message)
        text = "\n".join(part for part in (message, lines) if part)
        cases.append(Case(facts, death, text, "", None, None))
    for returncode in (0, 1, -9, -11, -6, 137):
        death = parse_exit_code(returncode)
        for oom in (0, 1):
            run = {"returncode": returncode, "oom_kills": oom, "pid": 1}
            cases.append(Case(fixture("cgroup-v2"), death, "", "", run, None))
    return cases


def test_readers_answer_only_with_answers_their_question_has() -> None:
    questions = {q.id: q for q in TREE.questions()}
    for case in _cases():
        for question_id, reader in READERS.items():
            answer, measured, evidence = reader(case)
            valid = {a.id for a in questions[question_id].answers}
            assert answer is None or answer in valid, (question_id, answer)
            assert isinstance(measured, bool)
            assert all(isinstance(line, str) and line for line in evidence)


def test_every_outcome_diagnose_gives_is_in_the_tree_with_its_cause() -> None:
    reached: dict[str, str] = {}
    for case in _cases():
        verdict = dg.diagnose(
            case.facts,
            message=case.text or None,
            exit_code=case.run["returncode"] if case.run else None,
            run=case.run,
        )
        assert verdict.cause in CAUSES
        node = TREE.nodes.get(verdict.outcome)
        assert isinstance(node, Outcome), verdict.outcome
        assert node.cause == verdict.cause
        reached[verdict.outcome] = verdict.cause
        # the answers taken are a real walk through the tree
        answers = [step.answer for step in verdict.path if step.answer]
        _, end = TREE.trace(answers)
        assert end.id == verdict.outcome or isinstance(end, Question)
    # the evidence alone reaches nearly every outcome; the rest need the reader's own answer
    assert set(reached) >= {
        "oom-one-big-step",
        "oom-idle-kernels",
        "native-crash",
        "abi-numpy",
        "abi-openmp",
        "abi-cpu",
        "thread-limit",
        "stack-overflow",
        "output-flood",
        "disk-full",
        "kernel-spec-broken",
        "shadowed-module",
        "you-restarted",
        "works-outside-jupyter",
        "report",
    }, sorted(reached)


@pytest.mark.parametrize(
    "death",
    [Death(signal=parse_signal(s)) for s in ("KILL", "SEGV", "ABRT", "BUS", "ILL", "TERM", "FPE")]
    + [parse_exit_code(c) for c in (0, 1, 2, 134, 137, 139, 143, 255)],
)
def test_deep_link_answers_match_the_tree(death: Death) -> None:
    data = TREE.to_json_dict()
    expected = TREE.deep_link(death)
    node, taken = data["nodes"][data["start"]], []
    while node["kind"] == "question" and (answer := dg.hinted_answer(node, death)):
        taken.append(answer)
        node = data["nodes"][next(a["target"] for a in node["answers"] if a["id"] == answer)]
    assert taken == expected


# --- verdicts on fixtures ------------------------------------------------------------------


def test_sigkill_with_oom_kills_and_big_idle_kernels() -> None:
    verdict = dg.diagnose(fixture("cgroup-v1"), message="Kernel last terminated by signal SIGKILL.")
    assert (verdict.cause, verdict.outcome) == ("out-of-memory", "oom-idle-kernels")
    joined = "\n".join(verdict.evidence)
    assert "counts 2 OOM kills" in joined
    assert "Killed process 4177 (python3)" in joined
    assert "3 Jupyter kernels running now" in joined
    assert verdict.check_next is None
    assert verdict.link == step_url("oom-idle-kernels")
    assert verdict.steps == list(TREE.nodes["oom-idle-kernels"].steps)
    assert verdict.summary.startswith("Confirmed: Out of memory.")
    assert verdict.confidence == "confirmed"


def test_exit_137_with_an_old_oom_kill_asks_to_check_the_counter() -> None:
    # The counter is cumulative: a kill counted before, with no reading to compare, proves
    # nothing about this death (content review, finding 3), so the walk only assumes it.
    verdict = dg.diagnose(fixture("cgroup-v2"), exit_code=137)
    assert (verdict.cause, verdict.outcome) == ("out-of-memory", "oom-one-big-step")
    assert verdict.check_next == "memory-limit"
    assert verdict.link == step_url("memory-limit")
    assert "Exit code 137 means signal SIGKILL." in verdict.evidence
    assert any("Only a rise across the next crash" in line for line in verdict.evidence)


def test_exit_137_with_a_rise_since_the_last_check_asks_about_the_pattern() -> None:
    facts = fixture("cgroup-v2")
    previous = {**dg.state_entry(facts, 0), "oom_kills": facts["cgroup"]["oom_kills"] - 1}
    verdict = dg.diagnose(facts, exit_code=137, previous=previous)
    assert (verdict.cause, verdict.outcome) == ("out-of-memory", "oom-one-big-step")
    assert verdict.check_next == "memory-pattern"
    assert verdict.link == step_url("memory-pattern")


def test_no_rise_since_the_last_check_is_not_memory() -> None:
    facts = fixture("cgroup-v2")
    previous = dg.state_entry(facts, 0)
    verdict = dg.diagnose(facts, exit_code=137, previous=previous)
    step = next(step for step in verdict.path if step.question == "memory-limit")
    assert (step.answer, step.measured) == ("below-limit", True)
    assert "No OOM kill since the last check." in verdict.evidence


def test_oom_kills_since_the_last_check() -> None:
    facts = fixture("cgroup-v1")
    previous = state_entry(facts, 0)
    previous["oom_kills"] = 1
    verdict = dg.diagnose(facts, signal="KILL", previous=previous)
    assert "counts 2 OOM kills, 1 since the last check" in "\n".join(verdict.evidence)
    assert verdict.counters["oom_kills_since_last_check"] == 1


def test_a_counter_that_went_down_means_a_restart() -> None:
    facts = fixture("cgroup-v1")
    previous = {**state_entry(facts, 0), "oom_kills": 9}
    verdict = dg.diagnose(facts, signal="TERM", previous=previous)
    assert verdict.outcome == "server-stopped"
    assert verdict.counters["oom_kills_since_last_check"] is None


def test_a_young_first_process_means_the_whole_unit_restarted() -> None:
    facts = fixture("cgroup-v2")
    facts["started"] = 240.0
    verdict = dg.diagnose(facts, message="Kernel last terminated by signal SIGTERM.")
    assert (verdict.cause, verdict.outcome) == ("restart-or-idle", "server-stopped")
    # why it restarted cannot be read afterwards (the counters start again): the reader is
    # asked to check whether it was for memory (scenarios review, user 5)
    assert verdict.check_next == "unit-stopped"


def test_sigterm_without_a_restart_assumes_a_deliberate_stop() -> None:
    verdict = dg.diagnose(fixture("cgroup-v2"), signal="SIGTERM")
    assert verdict.outcome == "you-restarted"
    assert verdict.check_next == "who-stopped"


@pytest.mark.parametrize(
    ("message", "outcome", "cited"),
    [
        # Py_FatalError aborts: this line ends in SIGABRT (134), not SIGSEGV (review finding 5)
        ("Kernel last terminated by signal SIGABRT.\n" + LINES[1], "stack-overflow", LINES[1]),
        ("Kernel last terminated by signal SIGABRT.\n" + LINES[2], "abi-openmp", "OMP: Error"),
        ("Kernel last terminated by signal SIGILL.", "abi-cpu", "signal SIGILL"),
        ("Kernel last exited with code 1.\n" + LINES[4], "abi-numpy", "compiled using NumPy"),
        ("Kernel last exited with code 1.\n" + LINES[3], "thread-limit", "pthread_create"),
        ("Kernel last exited with code 1.\n" + LINES[5], "output-flood", "IOPub"),
        ("Kernel last exited with code 1.\n" + LINES[6], "disk-full", "No space left"),
        ("Kernel last exited with code 1.\n" + LINES[7], "kernel-spec-broken", "ipykernel"),
        ("Kernel last exited with code 1.\n" + LINES[8], "shadowed-module", "random.py, named"),
        ("Kernel last terminated by signal SIGSEGV.\n" + LINES[9], "native-crash", LINES[9]),
    ],
)
def test_the_lines_under_the_message_decide(message: str, outcome: str, cited: str) -> None:
    verdict = dg.diagnose(fixture("cgroup-v2"), message=message)
    assert verdict.outcome == outcome
    assert verdict.cause == TREE.nodes[outcome].cause
    assert any(cited in line for line in verdict.evidence), verdict.evidence


def test_a_nearly_full_disk_explains_a_bus_error() -> None:
    facts = fixture("cgroup-v2")
    facts["disk"] = [{"path": "/dev/shm", "free": 1024, "total": 64 * MIB}]
    verdict = dg.diagnose(facts, signal="SIGBUS")
    assert (verdict.cause, verdict.outcome) == ("disk-full", "disk-full")
    assert "/dev/shm: 1.0 KiB free of 64.0 MiB — nearly full." in verdict.evidence


def test_threads_at_the_limit_explain_a_segfault() -> None:
    facts = fixture("cgroup-v1")
    facts["processes"]["threads"] = 299
    verdict = dg.diagnose(facts, signal=11)
    assert verdict.outcome == "thread-limit"
    assert any(
        line.startswith("This user runs 299 threads; the limit (ulimit -u) is 300.")
        for line in verdict.evidence
    )


def test_a_pids_cgroup_at_its_cap_explains_a_segfault() -> None:
    """In a container the thread cap is pids.max, while ulimit -u says "unlimited" (finding 10)."""
    facts = fixture("cgroup-v2")
    facts["limits"]["nproc"] = ["unlimited", "unlimited"]
    facts["pids"] = {"version": 2, "dir": "/sys/fs/cgroup", "limit": 1024, "current": 1019}
    verdict = dg.diagnose(facts, signal=11)
    assert verdict.outcome == "thread-limit"
    assert any("1019 threads and processes; its cap (pids.max) is 1024" in line
               for line in verdict.evidence)  # fmt: skip
    facts["pids"] = {"version": 2, "dir": "/sys/fs/cgroup", "limit": 1024, "current": 40}
    assert dg.diagnose(facts, signal=11).outcome != "thread-limit"


def _kill_line(memcg: str | None) -> dict[str, Any]:
    return {"pid": 4177, "name": "python3", "anon_rss": 900 * MIB, "memcg": memcg, "ago": 60.0,
            "text": "Memory cgroup out of memory: Killed process 4177 (python3)"}  # fmt: skip


@pytest.mark.parametrize(
    ("path", "memcg"),
    [("/", "/kubepods/burstable/pod1/c0ffee"), ("/project-7f3e", None)],
    ids=["namespaced-root", "no-cgroup-in-the-line"],
)
def test_a_kill_that_may_be_another_tenants_is_likely_not_confirmed(path, memcg) -> None:
    """Inside a container, the kernel log shows every tenant's kills (review finding 4): a
    kill that cannot be told apart from this cgroup's makes OOM likely, and says why."""
    facts = fixture("cgroup-v1")
    facts["cgroup"]["path"] = path
    facts["cgroup"]["oom_kills"] = None
    facts["kernel_log"]["oom_kills"] = [_kill_line(memcg)]
    verdict = dg.diagnose(facts, message="Kernel died.")
    assert verdict.cause == "out-of-memory"
    assert verdict.confidence == "likely"
    assert any("cannot be told" in line and "another container's" in line
               for line in verdict.evidence)  # fmt: skip


def test_a_kill_of_this_cgroup_confirms() -> None:
    facts = fixture("cgroup-v1")
    facts["cgroup"]["oom_kills"] = None
    facts["kernel_log"]["oom_kills"] = [_kill_line("/project-7f3e")]
    assert dg.diagnose(facts, message="Kernel died.").confidence == "confirmed"
    facts["kernel_log"]["oom_kills"] = [_kill_line("/project-other")]  # a neighbour's kill
    assert dg.diagnose(facts, message="Kernel died.").confidence != "confirmed"


def test_a_young_jupyter_server_means_it_restarted_alone() -> None:
    """PID 1 runs on when only the Jupyter server restarts in the container (finding 19)."""
    facts = fixture("cgroup-v2")
    facts["started"] = 86_400.0
    facts["processes"]["server"] = {"pid": 77, "age": 120.0}
    verdict = dg.diagnose(facts, signal="SIGTERM")
    step = next(step for step in verdict.path if step.question == "who-stopped")
    assert (step.answer, step.measured) == ("whole-unit", True)
    assert any("The Jupyter server (pid 77) started" in line for line in verdict.evidence)
    facts["processes"]["server"] = {"pid": 77, "age": 86_000.0}
    assert dg.diagnose(facts, signal="SIGTERM").outcome == "you-restarted"


def test_a_culling_line_means_the_kernel_was_culled() -> None:
    line = "[W 2026-12-01 ServerApp] Culling 'idle' kernel 'python3' (8c1e) with 0 connections"
    verdict = dg.diagnose(fixture("cgroup-v2"), message=line)
    assert (verdict.outcome, verdict.confidence) == ("kernel-culled", "confirmed")


def test_a_runaway_recursion_killed_for_memory_is_named() -> None:
    """Python 3.11+ recursion fills memory, so a raised limit ends in SIGKILL (finding 5)."""
    facts = fixture("cgroup-v1")
    code = "import sys\nsys.setrecursionlimit(10**6)\ndef walk(n): return walk(n + 1)\n"
    previous = {**state_entry(facts, 0), "oom_kills": facts["cgroup"]["oom_kills"] - 1}
    facts["processes"]["kernels"] = []
    verdict = dg.diagnose(facts, signal="SIGKILL", code=code, previous=previous)
    assert verdict.outcome == "stack-overflow"
    assert ("memory-pattern", "recursion") in [(s.question, s.answer) for s in verdict.path]


def test_a_script_stopping_on_its_own_error_outside_jupyter() -> None:
    """A script's own traceback outside Jupyter (finding 11) did not kill the kernel."""
    text = "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'"
    run = {"returncode": 1, "oom_kills": 0, "duration": 2.0, "pid": 999}
    verdict = dg.diagnose(fixture("cgroup-v2"), exit_code=1, text=text, run=run)
    assert verdict.outcome == "script-fails"
    assert [(s.question, s.answer) for s in verdict.path][-2:] == [
        ("outside-jupyter", "python-error"), ("script-error", "other")]  # fmt: skip


def test_a_repeated_traceback_frame_means_recursion() -> None:
    frames = '  File "/home/u/walk.py", line 4 in down\n' * 40
    text = "Fatal Python error: Segmentation fault\n\nCurrent thread:\n" + frames
    verdict = dg.diagnose(fixture("cgroup-v2"), signal="SIGSEGV", text=text)
    assert verdict.outcome == "stack-overflow"
    assert any("repeats down (walk.py, line 4) 40 times" in line for line in verdict.evidence)


def test_nothing_known_gives_the_start_and_an_honest_unknown() -> None:
    verdict = dg.diagnose({})
    assert verdict.cause in CAUSES
    assert verdict.check_next == "message"
    assert verdict.link == step_url("message")


@pytest.mark.parametrize(
    "facts", [None, [], {"cgroup": "x"}, {"processes": {"kernels": [None, 3]}}, {"disk": [{}]}]
)
def test_malformed_facts_never_raise(facts: Any) -> None:
    verdict = dg.diagnose(facts, message="Kernel last terminated by signal SIGKILL.")
    assert verdict.cause in CAUSES
    render(verdict)


def test_render_leads_with_the_verdict_and_says_unknown() -> None:
    text = render(dg.diagnose(fixture("macos"), exit_code=137))
    first = text.splitlines()[0]
    assert first == "Likely: Out of memory. One step needs more memory than the server has."
    assert "cgroup      unknown" in text
    assert "kernel log  unknown" in text


def test_without_the_tree_the_verdict_is_unknown_not_an_error() -> None:
    verdict = dg.diagnose(fixture("cgroup-v1"), signal="KILL", tree={})
    assert verdict.cause == "unknown"


# --- the command on this machine -----------------------------------------------------------


def _command(*args: str, cache: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "troubleshooter", "diagnose", *args],
        capture_output=True,
        text=True,
        input=stdin,
        cwd=ROOT,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
        check=False,
        timeout=60,
    )


def test_json_on_this_machine(tmp_path: Path) -> None:
    done = _command("--json", "--message", "Kernel last exited with code 1.", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert {"cause", "outcome", "evidence", "link", "facts"} <= set(result)
    assert result["cause"] in CAUSES
    assert isinstance(TREE.nodes[result["outcome"]], Outcome)
    assert result["facts"]["machine"]["total"] > 0
    assert "The kernel exited with code 1." in result["evidence"]


def test_counters_are_remembered_and_a_corrupt_state_is_replaced(tmp_path: Path) -> None:
    state = tmp_path / "jupyter-kernel-troubleshooter" / "state.json"
    state.parent.mkdir()
    state.write_text("{ not json")
    first = _command("--json", cache=tmp_path)
    assert first.returncode == 0, first.stderr
    saved = json.loads(state.read_text())
    [entry] = saved["checks"].values()
    second = json.loads(_command("--json", cache=tmp_path).stdout)
    if entry["oom_kills"] is None:
        pytest.skip("this machine has no readable OOM-kill counter")
    assert second["counters"]["oom_kills_since_last_check"] == 0
    assert second["counters"]["last_check"] == entry["time"]


def test_human_output_leads_with_the_verdict(tmp_path: Path) -> None:
    done = _command("--signal", "SIGSEGV", "--no-state", cache=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith(("Confirmed: ", "Likely: ", "Guess: "))
    assert "\nWhat was read:\n" in done.stdout
    assert not (tmp_path / "jupyter-kernel-troubleshooter").exists()


def test_message_from_standard_input(tmp_path: Path) -> None:
    banner = "Kernel last terminated by signal SIGILL.\nIllegal instruction (core dumped)"
    done = _command("--json", "--no-state", "--message", "-", cache=tmp_path, stdin=banner)
    assert json.loads(done.stdout)["outcome"] == "abi-cpu"


@pytest.mark.parametrize(
    ("option", "value"), [("--exit-code", "abc"), ("--signal", "SIGNOPE"), ("--exit-code", "999")]
)
def test_bad_options_name_the_culprit(tmp_path: Path, option: str, value: str) -> None:
    done = _command(option, value, "--no-state", cache=tmp_path)
    assert done.returncode == 2
    assert option in done.stderr and repr(value) in done.stderr
    assert "Traceback" not in done.stderr


def test_a_closed_pipe_is_no_traceback(tmp_path: Path) -> None:
    command = f"{sys.executable} -m troubleshooter diagnose --json --no-state | head -c 10"
    done = subprocess.run(
        command, shell=True, capture_output=True, text=True, cwd=ROOT, check=False, timeout=60
    )
    assert "Traceback" not in done.stderr


def test_disconnected_is_read_and_asks_whether_the_kernel_still_runs() -> None:
    """JupyterLab's status "Disconnected" (review finding 15): nothing may have died."""
    verdict = dg.diagnose(fixture("cgroup-v1"), message='State is "Python 3 | Disconnected"')
    assert [(s.question, s.answer) for s in verdict.path] == [
        ("message", "disconnected"), ("really-dead", "alive")]  # fmt: skip
    assert (verdict.outcome, verdict.confidence) == ("still-running", "likely")
    assert verdict.check_next == "really-dead"  # the reader reloads the page to be sure
