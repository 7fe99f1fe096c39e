"""``python -m troubleshooter walk``: scripted answers, the prompt loop, deep links."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import urlsplit

import pytest

from troubleshooter import causes
from troubleshooter.cli import main
from troubleshooter.loader import load_builtin
from troubleshooter.walk import outcome_url

TREE = load_builtin()
PATHS = TREE.paths()


class Keyboard(io.StringIO):
    """Typed input: a terminal as far as ``walk`` can tell."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture
def typed(monkeypatch):
    def type_lines(*lines: str) -> None:
        monkeypatch.setattr("sys.stdin", Keyboard("".join(f"{line}\n" for line in lines)))

    return type_lines


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch):
    """Unless a test types, stdin is a pipe with nothing in it."""
    monkeypatch.setattr("sys.stdin", Pipe(""))


def walk_json(capsys, *argv: str) -> tuple[int, dict]:
    status = main(["walk", "--json", *argv])
    return status, json.loads(capsys.readouterr().out)


# --- every path, as the browser test clicks them ------------------------------------------


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p.answers) for p in PATHS])
def test_every_path_reaches_its_outcome(capsys, path):
    argv = [arg for answer in path.answers for arg in ("--answer", answer)]
    status, result = walk_json(capsys, "--no-input", *argv)
    outcome = TREE.nodes[path.outcome]
    assert status == 0
    assert result["tree"] == "kernel-terminated"
    assert result["outcome"] == path.outcome
    assert result["cause"] == outcome.cause
    assert result["path"] == [{"question": q, "answer": a} for q, a in path.choices]
    assert result["link"] == outcome_url(outcome)
    assert result["step"].endswith(f"?step={path.outcome}")


def test_text_output_shows_the_whole_outcome(capsys):
    status = main(["walk", "-a", "sigkill", "-a", "at-limit", "-a", "several"])
    out = capsys.readouterr().out
    outcome = TREE.nodes["oom-idle-kernels"]
    assert status == 0
    assert outcome.title in out
    assert "Cause: Out of memory (out-of-memory)" in out
    flat = " ".join(out.split())
    for step in outcome.steps:
        assert " ".join(step.split()) in flat
    assert " ".join(outcome.confirm.split()) in flat
    assert "https://doc.cocalc.com/howto/low-memory.html#jupyter-halt" in out
    assert "jupyter-kernel-terminated.html?step=oom-idle-kernels" in out
    # The answers given are repeated, for a support request.
    assert "“Kernel last terminated by signal SIGKILL.”" in out


def test_links_point_at_sections_that_exist(site):
    for outcome in TREE.outcomes():
        link = urlsplit(outcome_url(outcome))
        page = site.html / link.path.lstrip("/")
        assert page.is_file(), link.geturl()
        assert f'id="{link.fragment}"' in page.read_text(encoding="utf-8"), link.geturl()


# --- answers that stop early or do not fit ------------------------------------------------


def test_answers_that_stop_early_print_the_question_and_exit_3(capsys):
    status = main(["walk", "--answer", "sigkill"])
    out = capsys.readouterr().out
    question = TREE.nodes["memory-limit"]
    assert status == 3
    assert question.text in out
    assert question.command in out
    for answer in question.answers:
        assert f"[{answer.id}]" in out
    assert "--answer sigkill --answer at-limit" in out


def test_no_input_stops_even_at_a_terminal(capsys, typed):
    typed("1")
    status, result = walk_json(capsys, "--no-input", "-a", "exit-code")
    assert status == 3
    assert result["outcome"] is None
    assert result["question"]["id"] == "exit-code"
    assert [a["id"] for a in result["question"]["answers"]] == [
        a.id for a in TREE.nodes["exit-code"].answers
    ]


def test_unknown_answer_names_the_question_and_the_valid_ids(capsys):
    status = main(["walk", "-a", "sigkill", "-a", "maybe"])
    err = capsys.readouterr().err
    assert status == 2
    assert "question 'memory-limit' has no answer 'maybe'" in err
    assert "at-limit, below-limit" in err


def test_answer_after_an_outcome_is_refused(capsys):
    status = main(["walk", "-a", "restarted", "-a", "again"])
    assert status == 2
    assert "after outcome 'you-restarted'" in capsys.readouterr().err


def test_unknown_tree_id(capsys):
    assert main(["walk", "no-such-tree"]) == 2
    assert "no built-in tree 'no-such-tree'" in capsys.readouterr().err


def test_broken_tree_file_is_named(capsys, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text('[tree]\nid = "x"\ntitle = "X"\nstart = "a"\n', encoding="utf-8")
    assert main(["walk", str(broken)]) == 2
    err = capsys.readouterr().err
    assert f"{broken}: no [[node]] tables" in err
    assert f"{broken}: [tree]: start 'a' is not a node" in err


# --- the interactive prompt loop ----------------------------------------------------------


def test_interactive_walk_with_a_mistake_and_going_back(capsys, typed):
    # Wrong number, then the first answer, back, then by id, by number, and one more by id.
    typed("99", "1", "b", "exit-code", "1", "at-limit", "several")
    status = main(["walk"])
    out = capsys.readouterr().out
    assert status == 0
    assert "'99' is not an answer here. Type a number from 1 to 7" in out
    # Back after "1" (SIGKILL) shows the first question again.
    assert out.count("1. What does the message about the kernel say?") == 2
    assert "2. Which exit code does the message give?" in out
    assert "3. Did the project reach its memory limit?" in out
    assert TREE.nodes["oom-idle-kernels"].title in out
    assert "-> 137" in out


def test_interactive_back_at_the_start_and_blank_input(capsys, typed):
    typed("b", "", "at-start", "OTHER")
    status = main(["walk"])
    out = capsys.readouterr().out
    assert status == 0
    assert "nothing to go back to" in out
    assert "'' is not an answer here" in out
    assert TREE.nodes["report"].title in out


def test_end_of_input_stops_with_3(capsys, typed):
    typed("exit-code")
    status = main(["walk"])
    out = capsys.readouterr().out
    assert status == 3
    assert "No more input: stopped at question 'exit-code'" in out


def test_quit(capsys, typed):
    typed("q")
    assert main(["walk"]) == 3
    assert "Stopped." in capsys.readouterr().out


def test_interactive_continues_after_given_answers(capsys, typed):
    typed("2", "growth")
    status = main(["walk", "-a", "sigkill", "-a", "at-limit"])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("So far:")
    assert "3. Are other kernels holding much of the memory?" in out
    assert "4. Does memory jump in one cell" in out
    assert TREE.nodes["oom-growth"].title in out


def test_interactive_json_keeps_questions_off_stdout(capsys, typed):
    typed("restarted")
    status = main(["walk", "--json"])
    captured = capsys.readouterr()
    assert status == 0
    assert json.loads(captured.out)["outcome"] == "you-restarted"
    assert "1. What does the message about the kernel say?" in captured.err


# --- starting from the message ------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--signal", "SIGKILL", ["sigkill"]),
        ("--signal", "9", ["sigkill"]),
        ("--signal", "137", ["sigkill"]),
        ("--signal", "segv", ["other-signal", "sigsegv"]),
        ("--exit-code", "137", ["exit-code", "code-137"]),
        ("--exit-code", "-11", ["other-signal", "sigsegv"]),
        ("--exit-code", "139", ["exit-code", "code-signal", "sigsegv"]),
        ("--exit-code", "1", ["exit-code", "code-error"]),
        ("--message", "Kernel last terminated by signal SIGABRT.", ["other-signal", "sigabrt"]),
        ("--message", "Kernel last exited with code 0.", ["exit-code", "code-0"]),
    ],
)
def test_deep_link_options_start_at_the_step(capsys, option, value, expected):
    status, result = walk_json(capsys, option, value)
    assert status == 3
    assert [step["answer"] for step in result["path"]] == expected
    assert result["question"]["id"] == TREE.follow(expected).id


def test_deep_link_to_an_outcome(capsys):
    status, result = walk_json(capsys, "--signal", "SIGILL")
    assert status == 0
    assert result["outcome"] == "abi-cpu"
    assert result["cause"] == "abi-mismatch"


def test_deep_link_then_answers(capsys):
    status, result = walk_json(capsys, "--message", "signal: SIGSEGV", "-a", "none")
    assert status == 0
    assert result["outcome"] == "native-crash"
    assert result["link"] == causes.guide_url("native-crash")


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--signal", "<script>alert(1)</script>"),
        ("--exit-code", "1e9"),
        ("--message", "Kernel terminated -- this might be caused by running out of memory"),
    ],
)
def test_unreadable_deep_link_starts_at_the_first_question(capsys, option, value):
    status = main(["walk", option, value])
    captured = capsys.readouterr()
    assert status == 3
    assert "points to no particular step; starting at the first question" in captured.err
    assert re.search(r"^1\. What does the message", captured.out, re.MULTILINE)


def test_deep_link_options_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["walk", "--signal", "9", "--exit-code", "137"])
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
