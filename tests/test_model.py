"""The tree model: loading, the whole-graph checks, paths and deep links."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from troubleshooter import causes
from troubleshooter.loader import builtin_ids, load_builtin, load_tree
from troubleshooter.messages import death_in as parse_message
from troubleshooter.model import AnswerError, Outcome, Question, TreeError
from troubleshooter.signals import SIGNALS, Death, parse_exit_code, parse_signal

# A small valid tree; the malformed cases below each change one thing in it.
SMALL = """
[tree]
id = "small"
title = "A small tree"
start = "first"

[[node]]
id = "first"
kind = "question"
text = "What does the message say?"
check = "Read the banner."
command = "echo hello"

  [[node.answers]]
  id = "signal"
  label = "A signal"
  target = "which"
  signals = ["*"]

  [[node.answers]]
  id = "code"
  label = "An exit code"
  target = "crash"
  exit_codes = [1, "2-128"]

[[node]]
id = "which"
kind = "question"
text = "Which signal?"
check = "It follows the word signal on {{ service }}."

  [[node.answers]]
  id = "kill"
  label = "SIGKILL"
  target = "memory"
  signals = ["SIGKILL"]

  [[node.answers]]
  id = "other"
  label = "Another one"
  target = "crash"
  signals = ["*"]

[[node]]
id = "memory"
kind = "outcome"
title = "Out of memory"
cause = "out-of-memory"
text = "The kernel used too much memory."
steps = ["Use less memory.", "Run it again."]
guide = "need-less-memory"
confirm = "The cell finishes."

[[node]]
id = "crash"
kind = "outcome"
title = "A crash"
cause = "native-crash"
text = "Compiled code crashed."
steps = ["Update the library."]
guide = "native-crash"
confirm = "It no longer crashes."
"""


def write(tmp_path: Path, text: str, name: str = "tree.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    """The lines of the TreeError that loading ``text`` raises."""
    path = write(tmp_path, text)
    with pytest.raises(TreeError) as caught:
        load_tree(path)
    lines = str(caught.value).splitlines()
    assert lines, "a TreeError without a message"
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    return lines


def test_small_tree_loads(tmp_path):
    tree = load_tree(write(tmp_path, SMALL))
    assert tree.id == "small"
    assert list(tree.nodes) == ["first", "which", "memory", "crash"]
    first = tree.nodes["first"]
    assert isinstance(first, Question)
    assert first.command == "echo hello"
    assert first.answers[1].exit_codes == ((1, 1), (2, 128))
    assert isinstance(tree.nodes["memory"], Outcome)
    assert tree.nodes["memory"].steps == ("Use less memory.", "Run it again.")


def test_platform_names_are_filled_in(tmp_path):
    path = write(tmp_path, SMALL)
    assert "your Jupyter service" in load_tree(path).nodes["which"].check
    named = load_tree(path, platform={"service": "ExampleHub", "no-such-key": "x"})
    assert named.nodes["which"].check == "It follows the word signal on ExampleHub."


# --- malformed trees: each is rejected, naming the file and the culprit ---------------


def swap(old: str, new: str, text: str = SMALL) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        pytest.param(
            swap('target = "crash"\n  exit_codes', 'target = "nowhere"\n  exit_codes'),
            "node 'first', answer 'code': target 'nowhere' is not a node",
            id="unknown-target",
        ),
        pytest.param(
            SMALL + '\n[[node]]\nid = "lonely"\nkind = "outcome"\ntitle = "t"\n'
            'cause = "unknown"\ntext = "t"\nsteps = ["s"]\nguide = "g"\nconfirm = "c"\n',
            "node 'lonely': unreachable from start 'first'",
            id="unreachable",
        ),
        pytest.param(
            swap('target = "memory"', 'target = "first"'),
            "cycle: 'first' -> 'which' -> 'first'",
            id="cycle",
        ),
        pytest.param(
            SMALL[: SMALL.index('  [[node.answers]]\n  id = "kill"')]
            + SMALL[SMALL.index('[[node]]\nid = "memory"') :],
            "node 'which': a question needs at least one answer",
            id="question-without-answers",
        ),
        pytest.param(
            SMALL + '\n  [[node.answers]]\n  id = "more"\n  label = "More"\n  target = "first"\n',
            "node 'crash': an outcome cannot have answers",
            id="outcome-with-answers",
        ),
        pytest.param(
            swap('id = "crash"', 'id = "memory"'),
            "node 'memory': duplicate node id",
            id="duplicate-node-id",
        ),
        pytest.param(
            swap('id = "other"', 'id = "kill"'),
            "node 'which': duplicate answer id 'kill'",
            id="duplicate-answer-id",
        ),
        pytest.param(
            swap('text = "Which signal?"', 'text = "   "'),
            "node 'which': 'text' is empty",
            id="empty-text",
        ),
        pytest.param(
            swap('label = "Another one"', 'label = ""'),
            "node 'which', answer 'other': 'label' is empty",
            id="empty-label",
        ),
        pytest.param(
            swap('title = "A crash"', 'title = ""'),
            "node 'crash': 'title' is empty",
            id="empty-title",
        ),
        pytest.param(
            swap('steps = ["Update the library."]', 'steps = ["Update.", " "]'),
            "node 'crash': step 2 is empty",
            id="empty-step",
        ),
        pytest.param(
            swap('steps = ["Update the library."]', "steps = []"),
            "node 'crash': 'steps' must be a non-empty list of strings",
            id="no-steps",
        ),
        pytest.param(
            swap('cause = "native-crash"', 'cause = "gremlins"'),
            "node 'crash': unknown cause 'gremlins'",
            id="unknown-cause",
        ),
        pytest.param(
            swap('id = "crash"\nkind = "outcome"', 'id = "crash"\nkind = "answer"'),
            "node 'crash': unknown kind 'answer'",
            id="unknown-kind",
        ),
        pytest.param(
            swap('id = "crash"\nkind = "outcome"', 'id = "crash"'),
            "node 'crash': missing 'kind'",
            id="missing-kind",
        ),
        pytest.param(
            swap('confirm = "It no longer crashes."\n', ""),
            "node 'crash': missing 'confirm'",
            id="missing-confirm",
        ),
        pytest.param(
            swap('check = "Read the banner."\n', ""),
            "node 'first': missing 'check'",
            id="missing-check",
        ),
        pytest.param(
            swap('  label = "SIGKILL"\n', ""),
            "node 'which', answer 'kill': missing 'label'",
            id="missing-label",
        ),
        pytest.param(
            swap('  target = "memory"\n', ""),
            "node 'which', answer 'kill': missing 'target'",
            id="missing-target",
        ),
        pytest.param(
            swap('id = "crash"\n', ""),
            "node #4: missing 'id'",
            id="missing-node-id",
        ),
        pytest.param(
            swap('start = "first"\n', ""),
            "[tree]: missing 'start'",
            id="missing-start",
        ),
        pytest.param(
            swap('start = "first"', 'start = "nowhere"'),
            "[tree]: start 'nowhere' is not a node",
            id="unknown-start",
        ),
        pytest.param(
            swap('start = "first"', 'start = "memory"'),
            "[tree]: start 'memory' is an outcome",
            id="start-is-outcome",
        ),
        pytest.param(
            swap('signals = ["SIGKILL"]', 'signals = ["SIGNOPE"]'),
            "node 'which', answer 'kill': unknown signal 'SIGNOPE'",
            id="unknown-signal",
        ),
        pytest.param(
            swap('signals = ["SIGKILL"]', 'signals = ["kill"]'),
            "node 'which', answer 'kill': unknown signal 'kill'",
            id="signal-not-canonical",
        ),
        pytest.param(
            swap('exit_codes = [1, "2-128"]', 'exit_codes = [1, "128-2"]'),
            "node 'first', answer 'code': bad exit code '128-2'",
            id="backwards-range",
        ),
        pytest.param(
            swap('exit_codes = [1, "2-128"]', "exit_codes = [1, 300]"),
            "node 'first', answer 'code': bad exit code 300",
            id="exit-code-too-big",
        ),
        pytest.param(
            swap('exit_codes = [1, "2-128"]', "exit_codes = [true]"),
            "node 'first', answer 'code': bad exit code True",
            id="exit-code-boolean",
        ),
        pytest.param(
            swap('id = "which"', 'id = "Which One"'),
            "node #2: bad id 'Which One'",
            id="bad-node-id",
        ),
        pytest.param(
            swap('guide = "native-crash"', 'guide = "Native Crash"'),
            "node 'crash': 'Native Crash' is not a Sphinx label",
            id="bad-guide-label",
        ),
        pytest.param(
            swap("{{ service }}", "{{ servce }}"),
            "node 'which', 'check': unknown platform name {{ servce }}",
            id="unknown-placeholder",
        ),
        pytest.param(
            swap('command = "echo hello"', 'comand = "echo hello"'),
            "node 'first': unknown field 'comand'",
            id="unknown-field",
        ),
        pytest.param(
            swap('text = "Which signal?"', "text = 42"),
            "node 'which': 'text' must be a string, not int",
            id="text-not-string",
        ),
        pytest.param(
            swap('[tree]\nid = "small"', '[tree]\nid = "small"\nid = "again"'),
            "not valid TOML: ",
            id="duplicate-toml-key",
        ),
        pytest.param("", "missing the [tree] table", id="empty-file"),
    ],
)
def test_malformed_tree_is_rejected(tmp_path, broken, expected):
    lines = problems(tmp_path, broken)
    assert any(expected in line for line in lines), "\n".join(lines)


def test_bad_toml_syntax_names_the_line(tmp_path):
    broken = swap('title = "A small tree"', 'title = "A small tree')
    lines = problems(tmp_path, broken)
    assert len(lines) == 1
    assert "not valid TOML" in lines[0]
    assert "line 4" in lines[0]


def test_every_problem_is_reported_together(tmp_path):
    broken = swap('target = "memory"', 'target = "gone"')
    broken = swap('cause = "native-crash"', 'cause = "gremlins"', broken)
    broken = swap('id = "other"', 'id = "kill"', broken)
    lines = problems(tmp_path, broken)
    assert len(lines) == 4, lines  # 'memory' is unreachable now, too
    joined = "\n".join(lines)
    for culprit in ("'gone'", "'gremlins'", "duplicate answer id 'kill'", "node 'memory'"):
        assert culprit in joined


def test_missing_file_is_a_tree_error(tmp_path):
    with pytest.raises(TreeError, match=r"nope\.toml: cannot read the tree"):
        load_tree(tmp_path / "nope.toml")


def test_unknown_builtin_lists_the_known_ones():
    with pytest.raises(TreeError, match=r"no built-in tree '\.\./etc'.*kernel-terminated"):
        load_builtin("../etc")


# --- walking the small tree -------------------------------------------------------------


def test_follow_and_paths_on_small_tree(tmp_path):
    tree = load_tree(write(tmp_path, SMALL))
    assert tree.follow([]) is tree.nodes["first"]
    assert tree.follow(["signal", "kill"]) is tree.nodes["memory"]
    assert [(p.answers, p.outcome) for p in tree.paths()] == [
        (["signal", "kill"], "memory"),
        (["signal", "other"], "crash"),
        (["code"], "crash"),
    ]


def test_follow_names_the_question_and_valid_answers(tmp_path):
    tree = load_tree(write(tmp_path, SMALL))
    with pytest.raises(AnswerError) as caught:
        tree.follow(["signal", "sigkill"])
    message = str(caught.value)
    assert "'which'" in message and "'sigkill'" in message and "kill, other" in message
    with pytest.raises(AnswerError, match="after outcome 'crash'"):
        tree.follow(["code", "more"])


def test_deep_link_tiers_on_small_tree(tmp_path):
    tree = load_tree(write(tmp_path, SMALL))
    assert tree.deep_link(Death(signal="SIGKILL")) == ["signal", "kill"]
    assert tree.deep_link(Death(signal="SIGSEGV")) == ["signal", "other"]
    assert tree.deep_link(Death(exit_code=1)) == ["code"]
    # An exact exit code wins over a wildcard signal, whatever the file order.
    assert tree.deep_link(Death(signal="SIGSEGV", exit_code=5)) == ["code"]
    assert tree.deep_link(Death(exit_code=200)) == []
    assert tree.deep_link(Death()) == []
    assert tree.deep_link(None) == []


# --- the shipped trees ------------------------------------------------------------------


@pytest.fixture(scope="module", params=builtin_ids())
def shipped(request):
    return load_builtin(request.param)


def test_there_is_a_kernel_terminated_tree():
    assert "kernel-terminated" in builtin_ids()
    assert load_builtin().id == "kernel-terminated"


def test_shipped_tree_id_matches_its_file(shipped):
    assert shipped.source.stem == shipped.id


def test_every_cause_has_an_outcome(shipped):
    reached = {outcome.cause for outcome in shipped.outcomes()}
    assert set(causes.CAUSES) - reached == set()


def test_paths_reach_every_outcome(shipped):
    paths = shipped.paths()
    assert {path.outcome for path in paths} == {outcome.id for outcome in shipped.outcomes()}
    for path in paths:
        assert shipped.follow(path.answers).id == path.outcome
        assert path.choices[0].question == shipped.start


def test_most_outcomes_are_four_clicks_away(shipped):
    shortest: dict[str, int] = {}
    for path in shipped.paths():
        shortest[path.outcome] = min(shortest.get(path.outcome, 99), len(path.choices))
    near = [outcome for outcome, clicks in shortest.items() if clicks <= 4]
    assert len(near) >= 0.8 * len(shortest), shortest


def test_every_question_says_how_to_check(shipped):
    for question in shipped.questions():
        assert len(question.check) > 40, question.id
        assert len(question.answers) >= 2, question.id


def test_outcomes_are_complete(shipped):
    for outcome in shipped.outcomes():
        assert outcome.cause in causes.CAUSES
        assert len(outcome.text) > 60, outcome.id
        assert outcome.steps and all(len(step) > 15 for step in outcome.steps), outcome.id
        assert len(outcome.confirm) > 30, outcome.id


PYTHON_COMMAND = ("print(", "import ")


def test_commands_are_valid_shell_or_python(shipped):
    for question in shipped.questions():
        if not question.command:
            continue
        if question.command.startswith(PYTHON_COMMAND):
            compile(question.command, question.id, "exec")
        else:
            checked = subprocess.run(
                ["bash", "-n", "-c", question.command], capture_output=True, text=True
            )
            assert checked.returncode == 0, (question.id, checked.stderr)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_memory_checks_run_here(kernel_tree):
    """The two memory checks print what their questions tell the reader to look at."""
    pattern = kernel_tree.nodes["memory-pattern"].command
    printed = subprocess.run(
        [sys.executable, "-c", pattern], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^VmRSS:\s+\d+ kB$", printed, re.MULTILINE)
    assert re.search(r"^VmHWM:\s+\d+ kB$", printed, re.MULTILINE)
    limit = subprocess.run(
        ["bash", "-c", kernel_tree.nodes["memory-limit"].command], capture_output=True, text=True
    )
    assert limit.stderr == ""
    for line in limit.stdout.splitlines():
        assert re.match(r"memory\.[a-z_]+:\S", line), line


def test_no_placeholder_or_platform_name_left_in_prose(shipped):
    text = json.dumps(shipped.to_json_dict())
    assert "{{" not in text
    assert "cocalc" not in text.lower()


def test_guide_labels_are_known_labels(shipped):
    known = {label for labels in causes.GUIDE_LABELS.values() for label in labels}
    assert set(shipped.guides().values()) <= known


def test_json_round_trips_and_keeps_hints(shipped):
    data = json.loads(json.dumps(shipped.to_json_dict()))
    assert data["start"] == shipped.start
    assert list(data["nodes"]) == list(shipped.nodes)
    answers = [a for node in data["nodes"].values() for a in node.get("answers", [])]
    assert any("signals" in answer for answer in answers)
    assert any("exit_codes" in answer for answer in answers)
    for outcome in shipped.outcomes():
        entry = data["nodes"][outcome.id]
        assert entry["cause"] == outcome.cause
        assert data["causes"][outcome.cause] == causes.CAUSES[outcome.cause].title


# --- deep links on the kernel-terminated tree -------------------------------------------


@pytest.fixture(scope="module")
def kernel_tree():
    return load_builtin("kernel-terminated")


def landing(tree, death):
    return tree.follow(tree.deep_link(death))


def test_every_signal_name_lands_past_the_start(kernel_tree):
    for name in SIGNALS:
        answers = kernel_tree.deep_link(Death(signal=name))
        assert len(answers) >= 2 or name == "SIGKILL", name
        assert answers[0] in {"sigkill", "other-signal"}


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_signal_forms_agree(kernel_tree, name):
    """A name, its number, its 128+N status and its -N return code open the same step."""
    number = SIGNALS[name]
    by_name = kernel_tree.deep_link(Death(signal=parse_signal(name)))
    assert kernel_tree.deep_link(Death(signal=parse_signal(str(number)))) == by_name
    assert kernel_tree.deep_link(Death(signal=parse_signal(str(128 + number)))) == by_name
    assert kernel_tree.deep_link(parse_exit_code(str(-number))) == by_name
    message = f"Kernel last terminated by signal {name}."
    assert kernel_tree.deep_link(parse_message(message)) == by_name
    # As an exit code, 128+N takes the exit-code route to the same place.
    status = kernel_tree.deep_link(parse_exit_code(str(128 + number)))
    assert status[0] == "exit-code"
    assert landing(kernel_tree, parse_exit_code(str(128 + number))) is landing(
        kernel_tree, Death(signal=name)
    )


@pytest.mark.parametrize(
    ("death", "node_id"),
    [
        (Death(signal="SIGKILL"), "memory-limit"),
        (parse_exit_code("137"), "memory-limit"),
        (Death(signal="SIGSEGV"), "segv-detail"),
        (Death(signal="SIGABRT"), "abort-detail"),
        (Death(signal="SIGBUS"), "bus-detail"),
        (parse_exit_code("139"), "segv-detail"),
        (parse_message("Kernel last terminated by signal SIGFPE."), "error-output"),
        (Death(signal="SIGILL"), "abi-cpu"),
        (Death(signal="SIGTERM"), "who-stopped"),
        (Death(signal="SIGINT"), "who-stopped"),
        (Death(signal="SIG40"), "error-output"),
        (parse_message("Kernel last exited with code 1."), "error-output"),
        (parse_message("Kernel last exited with code 0."), "who-stopped"),
        (parse_exit_code("2"), "error-output"),
        (parse_exit_code("255"), "error-output"),
    ],
)
def test_deep_link_lands_on_the_right_step(kernel_tree, death, node_id):
    assert landing(kernel_tree, death).id == node_id


@pytest.mark.parametrize(
    "value",
    [
        "",
        "SIGNOPE",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "\u202ekill",
        "9" * 5000,
        "Kernel terminated -- this might be caused by running out of memory",
        "signal 999",
        "exited with code 99999",
        "%00",
    ],
)
def test_hostile_values_open_the_start(kernel_tree, value):
    for death in (Death(signal=parse_signal(value)), parse_exit_code(value), parse_message(value)):
        assert kernel_tree.deep_link(death) == []
