"""``python -m troubleshooter walk``: the troubleshooter's questions, in a terminal.

Interactive when stdin is a terminal: numbered answers, ``b`` goes back, ``q``
quits. ``--answer ID`` (repeatable) gives answers up front, so scripts and
tests can walk without a terminal; ``--signal``, ``--exit-code`` and
``--message`` start where a deep link would (``Tree.deep_link``).

Exit status: 0 an outcome was reached; 2 a bad tree, tree id or answer id;
3 the walk stopped before an outcome (answers ran out without a terminal,
end of input, or ``q``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import TextIO

from .causes import CAUSES, SITE_URL, label_url, step_url
from .loader import builtin_ids, load_builtin, load_tree
from .messages import death_from, read, wizard_path
from .model import Answer, AnswerError, Node, Outcome, Question, Tree, TreeError

HELP = "Answer the troubleshooter's questions in a terminal and get the cause and the fix."

OK, BAD_INPUT, STOPPED = 0, 2, 3

Taken = list[tuple[Question, Answer]]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "exit status: 0 an outcome was reached, 2 bad tree or answer id,\n"
        "3 stopped before an outcome\n\n"
        "example:\n"
        '  python -m troubleshooter walk --message "Kernel last terminated by signal SIGKILL."'
    )
    parser.add_argument(
        "tree",
        nargs="?",
        default="kernel-terminated",
        help=f"a built-in tree ({', '.join(builtin_ids())}) or the path of a .toml file "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "-a",
        "--answer",
        action="append",
        default=[],
        metavar="ID",
        help="give the next answer by its id; repeat for each question",
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--signal", metavar="SIGNAL", help="start where this signal leads: SIGKILL, 9, 137"
    )
    start.add_argument(
        "--exit-code", metavar="CODE", help="start where this exit code leads: 1, 137"
    )
    start.add_argument(
        "--message",
        metavar="TEXT",
        help='start where this banner leads: "Kernel last exited with code 1."',
    )
    parser.add_argument(
        "--no-input",
        action="store_true",
        help="never ask; stop with status 3 if the answers end before an outcome",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON (questions go to stderr)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        tree = open_tree(args.tree)
    except TreeError as error:
        print(f"walk: {error}", file=sys.stderr)
        return BAD_INPUT
    display = sys.stderr if args.json else sys.stdout

    answers = [*_deep_link(tree, args), *args.answer]
    taken: Taken = []
    node: Node = tree.nodes[tree.start]
    for answer_id in answers:
        try:
            more, node = tree.trace([a.id for _, a in taken] + [answer_id])
        except AnswerError as error:
            print(f"walk: {error}", file=sys.stderr)
            if isinstance(error.node, Question):
                _print_question(error.node, len(taken) + 1, sys.stderr)
            return BAD_INPUT
        taken = more

    if isinstance(node, Question):
        if args.no_input or not sys.stdin.isatty():
            return _stop(tree, taken, node, args.json)
        result = _ask(tree, taken, display)
        if result is None:
            return STOPPED
        taken, node = result

    assert isinstance(node, Outcome)
    if args.json:
        print(json.dumps(result_json(tree, taken, node), indent=2))
    else:
        _print_outcome(taken, node, sys.stdout)
    return OK


def open_tree(argument: str) -> Tree:
    """A built-in tree by id, or a tree file by path."""
    if argument.endswith(".toml") or "/" in argument or Path(argument).is_file():
        return load_tree(argument)
    return load_builtin(argument)


def outcome_url(outcome: Outcome, site_url: str = SITE_URL) -> str:
    """Where the outcome's guide section lives on the site."""
    return label_url(outcome.guide, site_url)


def result_json(tree: Tree, taken: Taken, outcome: Outcome) -> dict[str, object]:
    return {
        "tree": tree.id,
        "path": _path_json(taken),
        "outcome": outcome.id,
        "cause": outcome.cause,
        "link": outcome_url(outcome),
        "step": step_url(outcome.id),
    }


# --- the interactive loop -----------------------------------------------------------------


def _ask(tree: Tree, taken: Taken, out: TextIO) -> tuple[Taken, Outcome] | None:
    """Ask until an outcome is reached; ``None`` when the reader quits or input ends."""
    taken = list(taken)
    node: Node = tree.follow(a.id for _, a in taken)
    if taken:
        _print_path(taken, out, heading="So far:")
    while isinstance(node, Question):
        _print_question(node, len(taken) + 1, out)
        while True:
            reply = _read(f"Your answer (1-{len(node.answers)}, b = back, q = quit): ", out)
            if reply is None:
                print(f"\nNo more input: stopped at question {node.id!r}.", file=out)
                return None
            reply = reply.strip()
            if reply.lower() in {"q", "quit", "exit"}:
                print("Stopped. Run the command again to start over.", file=out)
                return None
            if reply.lower() in {"b", "back"}:
                if taken:
                    node = taken.pop()[0]
                    break
                print("This is the first question: there is nothing to go back to.", file=out)
                continue
            answer = _pick(node, reply)
            if answer is None:
                print(
                    f"{reply!r} is not an answer here. Type a number from 1 to "
                    f"{len(node.answers)}, an answer id, b to go back or q to quit.",
                    file=out,
                )
                continue
            taken.append((node, answer))
            node = tree.nodes[answer.target]
            break
    print(file=out)
    return taken, node


def _read(prompt: str, out: TextIO) -> str | None:
    out.write(prompt)
    out.flush()
    line = sys.stdin.readline()
    return line if line else None


def _pick(question: Question, reply: str) -> Answer | None:
    if reply.isdigit() and 1 <= int(reply) <= len(question.answers):
        return question.answers[int(reply) - 1]
    return question.answer(reply.lower())


# --- stopping and reporting ---------------------------------------------------------------


def _deep_link(tree: Tree, args: argparse.Namespace) -> list[str]:
    given = {"--signal": args.signal, "--exit-code": args.exit_code, "--message": args.message}
    chosen = next(((k, v) for k, v in given.items() if v is not None), None)
    if chosen is None:
        return []
    option, value = chosen
    death = death_from(signal=args.signal, exit_code=args.exit_code, message=args.message)
    reading = read(args.message or "")
    for line in reading.evidence():
        print(f"walk: the message, {line}", file=sys.stderr)
    answers = wizard_path(tree, reading, death)
    if not answers:
        print(
            f"walk: {option} {value[:80]!r} points to no particular step; "
            "starting at the first question.",
            file=sys.stderr,
        )
    return answers


def _stop(tree: Tree, taken: Taken, question: Question, as_json: bool) -> int:
    if as_json:
        data = {
            "tree": tree.id,
            "path": _path_json(taken),
            "outcome": None,
            "cause": None,
            "link": step_url(question.id),
            "question": {
                "id": question.id,
                "text": question.text,
                "answers": [{"id": a.id, "label": a.label} for a in question.answers],
            },
        }
        print(json.dumps(data, indent=2))
        return STOPPED
    out = sys.stdout
    if taken:
        _print_path(taken, out, heading="So far:")
    _print_question(question, len(taken) + 1, out)
    given = [f"--answer {a.id}" for _, a in taken]
    command = " ".join(["python -m troubleshooter walk", tree.id, *given])
    print(
        "\nThe answers stop here, before an outcome. Add the next one, for example:\n"
        f"  {command} --answer {question.answers[0].id}",
        file=out,
    )
    return STOPPED


def _path_json(taken: Taken) -> list[dict[str, str]]:
    return [{"question": q.id, "answer": a.id} for q, a in taken]


def _width() -> int:
    return max(40, min(shutil.get_terminal_size((80, 24)).columns, 100) - 2)


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(
        text,
        width=_width(),
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
        break_long_words=False,
    )


def _print_question(question: Question, number: int, out: TextIO) -> None:
    print(file=out)
    print(_wrap(question.text, "   ", f"{number}. "), file=out)
    print(file=out)
    print(_wrap(question.check, "   ", "   How to check: "), file=out)
    if question.command:
        print("\n   Command:", file=out)
        for line in question.command.splitlines():
            print(f"     {line}", file=out)
    print(file=out)
    for index, answer in enumerate(question.answers, start=1):
        print(_wrap(f"{answer.label}  [{answer.id}]", "      ", f"  {index:>2}) "), file=out)


def _print_path(taken: Taken, out: TextIO, heading: str) -> None:
    print(heading, file=out)
    for question, answer in taken:
        print(_wrap(question.text, "  ", "  "), file=out)
        print(_wrap(answer.label, "       ", "    -> "), file=out)


def _print_outcome(taken: Taken, outcome: Outcome, out: TextIO) -> None:
    if taken:
        _print_path(taken, out, heading="Your answers:")
        print(file=out)
    print(_wrap(outcome.title, "   ", "== "), file=out)
    print(f"   Cause: {CAUSES[outcome.cause].title} ({outcome.cause})", file=out)
    print(file=out)
    print(_wrap(outcome.text, "   "), file=out)
    print("\n   What to do:", file=out)
    for index, step in enumerate(outcome.steps, start=1):
        print(_wrap(step, "       ", f"   {index:>2}. "), file=out)
    print("\n   How to tell it worked:", file=out)
    print(_wrap(outcome.confirm, "   "), file=out)
    print(f"\n   Read more: {outcome_url(outcome)}", file=out)
    print(f"   This step in the browser: {step_url(outcome.id)}", file=out)
