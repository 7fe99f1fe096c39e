"""``python -m troubleshooter diagnose``: read the evidence, answer the tree, name the cause.

The command reads what this machine can tell about a dead kernel
(``troubleshooter.evidence``), answers the questions of the kernel-terminated
decision tree from that evidence, and names the outcome: a cause id from
``troubleshooter.causes``, an outcome id of the tree, the evidence behind each
answer, what to do, and links to the wizard step and to the guide.

Python API (pure: no files are read or written, so it runs on sample data, in
the browser too)::

    from troubleshooter.evidence import collect
    from troubleshooter.diagnose import diagnose
    from troubleshooter.report import render

    facts = collect("tests/fixtures/cgroup-v1")   # or collect() for this machine
    verdict = diagnose(facts, message="Kernel last terminated by signal SIGKILL.")
    verdict.cause        # "out-of-memory"
    verdict.outcome      # "oom-idle-kernels"
    verdict.evidence     # ["The message names signal SIGKILL ...", ...]
    verdict.link         # the wizard, opened at the step to check next, or at the outcome
    print(render(verdict))          # the text the command prints
    verdict.to_json()               # what ``--json`` prints

``diagnose(facts, message=, signal=, exit_code=, text=, code=, run=, previous=,
tree=)``: ``facts`` is the dict ``evidence.collect`` returns (any key may be
missing or ``None``); ``text`` is more output to search for clues (the lines
under the banner, a captured stderr); ``code`` the source that ran;
``run`` what ``troubleshooter run`` measured (``{"returncode", "oom_kills"}``);
``previous`` the record of the last check (``state.state_entry``) for "N OOM kills
since the last check"; ``tree`` the tree as ``Tree.to_json_dict()`` gives it
(default: the built-in kernel-terminated tree).

How a question is answered: answers whose deep-link hints (``signals``,
``exit_codes``) fit the death are taken first, by the tree's own rule. Otherwise
the question's reader (``troubleshooter.readers``) decides from the evidence. A
reader may only assume an answer (nothing measured says so): the walk goes on,
and the link opens the wizard at the first assumed question so the reader can
check it. A reader that
cannot even guess stops the walk; the verdict is then the one cause all the
reachable outcomes share, or ``unknown``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .causes import CAUSES, guide_url, step_url
from .compiled import MAX_TEXT
from .evidence import collect
from .messages import builtin_signatures, death_from, plan, read
from .readers import READERS, Case
from .report import render
from .signals import Death, best_answer, parse_exit_code, parse_signal
from .state import load_state, save_state, state_entry, state_key, state_path

if TYPE_CHECKING:  # annotations only: the single file also runs on older Pythons
    from collections.abc import Mapping

HELP = "read this machine's evidence and name why the kernel died"

TREE_ID = "kernel-terminated"
TREE_DATA: Mapping[str, Any] | None = None  # the downloadable single file carries the tree here
FALLBACK_OUTCOME = "report"
CONFIDENCE = ("confirmed", "likely", "guess")


@dataclass
class Answered:
    """One question answered: which answer, whether measured or assumed, and why."""

    question: str
    answer: str | None
    measured: bool
    evidence: list[str] = field(default_factory=list)
    source: str = "reader"  # "hint" (the death), "message" (its lines) or "reader" (evidence)


@dataclass
class Verdict:
    cause: str
    outcome: str | None
    title: str
    evidence: list[str]
    steps: list[str]
    link: str
    guide: str
    path: list[Answered]
    facts: dict[str, Any]
    check_next: str | None = None  # the first question answered by assumption
    counters: dict[str, Any] = field(default_factory=dict)
    confidence: str = "guess"  # one of CONFIDENCE: how sure the verdict is
    first_check: str | None = None  # for a guess: the check to run first

    @property
    def summary(self) -> str:
        """The one-line verdict, led by how sure it is."""
        cause = CAUSES[self.cause].title
        lead = f"{self.confidence.capitalize()}: {cause}"
        if self.confidence == "guess" and self.cause == "out-of-memory":
            lead += " (the most common cause; nothing read or measured shows it)"
        elif self.confidence == "guess" and self.cause != "unknown":
            lead += " (nothing read or measured shows it)"
        if cause.lower() == self.title.lower():
            return f"{lead}."
        return f"{lead}. {self.title}."

    def to_json(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "outcome": self.outcome,
            "title": self.title,
            "summary": self.summary,
            "evidence": self.evidence,
            "steps": self.steps,
            "link": self.link,
            "guide": self.guide,
            "check_next": self.check_next,
            "confidence": self.confidence,
            "first_check": self.first_check,
            "path": [
                {
                    "question": s.question,
                    "answer": s.answer,
                    "measured": s.measured,
                    "source": s.source,
                }
                for s in self.path
            ],
            "counters": self.counters,
            "facts": self.facts,
        }


# --- walking the tree ----------------------------------------------------------------------


def load_tree_data() -> Mapping[str, Any] | None:
    """The kernel-terminated tree as ``Tree.to_json_dict()`` gives it, or ``None``."""
    if TREE_DATA is not None:
        return TREE_DATA
    try:
        from .loader import load_builtin

        return load_builtin(TREE_ID).to_json_dict()
    except Exception:  # a broken install must still give a verdict
        return None


def hinted_answer(question: Mapping[str, Any], death: Death) -> str | None:
    """The answer whose deep-link hints fit ``death`` (the rule in ``model``'s docstring)."""
    answers = question.get("answers", [])
    hints = ((a.get("signals", []), a.get("exit_codes", [])) for a in answers)
    index = best_answer(hints, death)
    return None if index is None else answers[index]["id"]


def walk(tree: Mapping[str, Any], case: Case) -> tuple[list[Answered], str]:
    """Answer questions from the start until an outcome, or a question nobody can answer.

    The answers the message decides come first (``messages.plan``: the death's deep link,
    then the way to the step its lines justify), then each question's hints or reader."""
    nodes = tree["nodes"]
    node_id = tree["start"]
    path: list[Answered] = []
    planned = plan(tree, case.death, case.told.step)
    while nodes[node_id]["kind"] == "question" and len(path) < len(nodes):
        question = nodes[node_id]
        hinted = hinted_answer(question, case.death)
        if len(path) < len(planned):
            source = "hint" if planned[len(path)] == hinted else "message"
            answered = Answered(node_id, planned[len(path)], True, [], source)
        elif hinted is not None:
            answered = Answered(node_id, hinted, True, [], "hint")
        elif node_id in READERS:
            answer, measured, evidence = READERS[node_id](case)
            answered = Answered(node_id, answer, measured, evidence)
        else:
            answered = Answered(node_id, None, False, [])
        targets = {a["id"]: a["target"] for a in question["answers"]}
        if answered.answer not in targets:
            answered.answer = None
            path.append(answered)
            break
        path.append(answered)
        node_id = targets[answered.answer]
    return path, node_id


def _outcomes_below(tree: Mapping[str, Any], node_id: str) -> list[str]:
    nodes, seen, found, todo = tree["nodes"], set(), [], [node_id]
    while todo:
        current = todo.pop(0)
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        node = nodes[current]
        if node["kind"] == "outcome":
            found.append(current)
        else:
            todo.extend(answer["target"] for answer in node["answers"])
    return found


def _death_evidence(death: Death, who: str = "The kernel") -> list[str]:
    if death.signal and death.exit_code is not None:
        return [f"Exit code {death.exit_code} means signal {death.signal}."]
    if death.signal:
        return [f"{who} ended by signal {death.signal}."]
    if death.exit_code is not None:
        return [f"{who} exited with code {death.exit_code}."]
    return []


def diagnose(
    facts: Mapping[str, Any],
    *,
    message: str | None = None,
    signal: str | int | None = None,
    exit_code: str | int | None = None,
    text: str | None = None,
    code: str | None = None,
    run: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
    tree: Mapping[str, Any] | None = None,
) -> Verdict:
    """The verdict for ``facts`` (see the module docstring). Pure: reads no files."""
    facts = facts if isinstance(facts, dict) else {}
    joined = "\n".join(part for part in (message, text) if part)[-MAX_TEXT:]
    reading = read(joined)
    death = death_from(signal=signal, exit_code=exit_code, message=message)
    if death == Death():
        death = reading.death  # the lines under the message, or a captured output, name it
    case = Case(
        facts=facts,
        death=death,
        text=joined,
        code=code or "",
        run=run,
        previous=previous if isinstance(previous, dict) else None,
        reading=reading,
    )
    tree = tree if tree is not None else load_tree_data()
    counters = _counters(case)
    if not tree:
        return Verdict(
            cause="unknown",
            outcome=None,
            title="The decision tree could not be loaded",
            evidence=_death_evidence(death),
            steps=[],
            link=step_url(TREE_ID),
            guide=guide_url("unknown"),
            path=[],
            facts=facts,
            counters=counters,
        )
    path, node_id = walk(tree, case)
    nodes = tree["nodes"]
    stopped = nodes[node_id]["kind"] != "outcome"
    outcome_id: str | None
    if stopped:
        below = _outcomes_below(tree, node_id)
        causes = {nodes[o]["cause"] for o in below}
        if len(causes) == 1:
            outcome_id = below[0]
        else:
            outcome_id = FALLBACK_OUTCOME if FALLBACK_OUTCOME in nodes else None
    else:
        outcome_id = node_id
    outcome = nodes.get(outcome_id) if outcome_id else None
    cause = outcome["cause"] if outcome else "unknown"
    unsure = next((s.question for s in path if not s.measured), None)
    evidence = _death_evidence(death, "The kernel" if run is None else "The code")
    evidence.extend(line for line in reading.evidence() if line not in evidence)
    for answered in path:
        evidence.extend(line for line in answered.evidence if line not in evidence)
    title = outcome["title"] if outcome else "No outcome fits"
    confidence = _confidence(cause, path, case)
    first_check = _first_check(nodes, unsure) if confidence == "guess" else None
    return Verdict(
        cause=cause,
        outcome=outcome_id,
        title=title,
        evidence=evidence,
        steps=list(outcome["steps"]) if outcome else [],
        link=step_url(unsure or outcome_id or TREE_ID),
        guide=guide_url(cause),
        path=path,
        facts=facts,
        check_next=unsure,
        counters=counters,
        confidence=confidence,
        first_check=first_check,
    )


def _confidence(cause: str, path: list[Answered], case: Case) -> str:
    """ "confirmed": measured evidence (the OOM counter rose, the kernel log names the kill,
    a reader measured what decided the outcome) or a line that proves the cause;
    "likely": a line or the signal points at the cause, an OOM kill in the kernel log that
    cannot be told from another tenant's, or no answer on the way was assumed; "guess":
    anything else."""
    if cause == "unknown":
        return "guess"
    told = case.told
    deciding = next((s for s in reversed(path) if s.answer), None)
    measured = (
        deciding is not None
        and deciding.source == "reader"
        and deciding.measured
        and deciding.question != "message"
        and any(not line.startswith("The output says") for line in deciding.evidence)
    )
    if cause in told.proven or (cause == "out-of-memory" and _oom_measured(case)):
        return "confirmed"
    if measured and cause != "out-of-memory" and all(s.measured for s in path):
        return "confirmed"
    if cause == "out-of-memory" and case.unattributed_oom_kills():
        return "likely"  # a logged OOM kill that may be another tenant's: no proof
    signal_cause = builtin_signatures().signal_causes.get(case.death.signal or "")
    if cause in told.suggested or cause == signal_cause or all(s.measured for s in path):
        return "likely"
    return "guess"


def _oom_measured(case: Case) -> bool:
    """The OOM-kill counter rose (during the run, or since the last check), or the kernel log
    names an OOM kill in this cgroup. A count above 0 at a first check is no proof: the counter
    is cumulative, so the kill may be an old one."""
    during = (case.run or {}).get("oom_kills")
    since = case.since_last_check()
    return bool(
        (isinstance(during, int) and during > 0)
        or (isinstance(since, int) and since > 0)
        or case.own_oom_kills()
    )


def _first_check(nodes: dict[str, Any], question_id: str | None) -> str | None:
    """The question to settle first, with its command: what a guess should be checked by."""
    node = nodes.get(question_id or "")
    if not isinstance(node, dict) or node.get("kind") != "question":
        return None
    command = node.get("command")
    return f"{node['text']} Run: {command}" if command else node["text"]


def _counters(case: Case) -> dict[str, Any]:
    cgroup = case.part("cgroup")
    counters: dict[str, Any] = {
        "oom_kills": cgroup.get("oom_kills"),
        "oom_kills_since_last_check": case.since_last_check(),
        "last_check": (case.previous or {}).get("time"),
        "kernels": [],
    }
    for kernel in case.part("processes").get("kernels") or []:
        age = kernel.get("age") if isinstance(kernel, dict) else None
        if isinstance(age, (int, float)) and case.part("kernel_log").get("source"):
            kills = [k for k in case.own_oom_kills() if isinstance(k.get("ago"), (int, float))]
            counters["kernels"].append(
                {
                    "pid": kernel.get("pid"),
                    "oom_kills_since_start": sum(1 for k in kills if k["ago"] < age),
                }
            )
    return counters


# --- the command ---------------------------------------------------------------------------


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument(
        "--message",
        metavar="TEXT",
        help='the banner, and any lines under it: "Kernel last terminated by signal SIGKILL." '
        "(- reads it from standard input)",
    )
    parser.add_argument("--signal", metavar="SIGNAL", help="the signal: SIGKILL, KILL, 9")
    parser.add_argument("--exit-code", metavar="CODE", help="the exit code: 137, 1, -9")
    parser.add_argument(
        "--root",
        metavar="PATH",
        default="/",
        help="read the evidence from copies of /proc, /sys and /dev under PATH instead of / "
        "(sample files, or a copy taken elsewhere)",
    )
    parser.add_argument(
        "--no-state",
        action="store_true",
        help="neither read nor update the saved counters (" + state_path() + ")",
    )


def check_options(args: argparse.Namespace, command: str = "diagnose") -> str | None:
    """A message naming the option that makes no sense, or ``None``."""
    if args.exit_code is not None and parse_exit_code(args.exit_code) == Death():
        return (
            f"{command}: --exit-code {args.exit_code!r} is not an exit code "
            "(a number from 0 to 255, or -N for signal N)"
        )
    if args.signal is not None and parse_signal(args.signal) is None:
        return (
            f"{command}: --signal {args.signal!r} is not a signal "
            "(a name such as SIGKILL or KILL, or a number such as 9)"
        )
    return None


def run(args: argparse.Namespace) -> int:
    problem = check_options(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    message = args.message
    if message == "-":
        message = sys.stdin.read(200_000)
    if not os.path.isdir(args.root):
        print(f"diagnose: --root {args.root!r} is not a folder", file=sys.stderr)
        return 2
    facts = collect(args.root)
    path = state_path()
    state = {} if args.no_state else load_state(path)
    key = state_key(facts)
    previous = state.get("checks", {}).get(key)
    verdict = diagnose(
        facts,
        message=message,
        signal=args.signal,
        exit_code=args.exit_code,
        previous=previous if isinstance(previous, dict) else None,
    )
    if not args.no_state:
        state = {
            "version": 1,
            "checks": {**state.get("checks", {}), key: state_entry(facts, time.time())},
        }
        save_state(path, state)
    return write_out(json.dumps(verdict.to_json(), indent=2) if args.json else render(verdict))


def write_out(text: str) -> int:
    """Print, and leave quietly when the reader of the output has gone (``| head``)."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command on its own (the downloadable single file calls this)."""
    parser = argparse.ArgumentParser(prog="troubleshooter-diagnose", description=HELP)
    configure(parser)
    return run(parser.parse_args(argv))
