"""The signatures file: every entry checked, every example matching its own entry, and a
broken file refused with every problem named by file and id."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from troubleshooter import compiled, messages
from troubleshooter.causes import CAUSES
from troubleshooter.loader import load_builtin as load_tree
from troubleshooter.model import Question
from troubleshooter.patterns import check_pattern
from troubleshooter.signatures import (
    COMPILED_PATH,
    SIGNATURES_PATH,
    SignatureError,
    check_steps,
    load_signatures,
    prepare,
)

SIGNATURES = load_signatures(SIGNATURES_PATH)  # the checked file, examples and all
TREE = load_tree("kernel-terminated")


def test_the_file_has_every_front_end_the_issue_names():
    named = {entry.front_end for entry in SIGNATURES.entries}
    for front_end in (
        "cocalc", "jupyterlab", "notebook", "vscode", "colab", "kaggle", "databricks",
        "sagemaker", "kubernetes", "docker", "slurm", "spyder", "papermill", "marimo",
    ):  # fmt: skip
        assert front_end in named, front_end


@pytest.mark.parametrize("entry", SIGNATURES.entries, ids=lambda entry: entry.id)
def test_every_example_matches_its_own_entry(entry):
    for example in entry.examples:
        assert entry.regex.search(prepare(example.text)), example.text
        if not entry.fallback:  # a fallback gives way to the specific entries on its line
            reading = messages.read(example.text)
            assert entry.id in {r.signature.id for r in reading.lines}, example.text
        assert example.source.startswith("https://")


@pytest.mark.parametrize("entry", SIGNATURES.entries, ids=lambda entry: entry.id)
def test_every_entry_tells_something_the_package_knows(entry):
    if entry.cause:
        assert entry.cause in CAUSES
    if entry.step:
        node = TREE.nodes[entry.step]
        if entry.strength == "suggests":
            assert isinstance(node, Question), entry.id


def test_steps_are_nodes_of_the_tree():
    kinds = {node_id: ("question" if isinstance(node, Question) else "outcome")
             for node_id, node in TREE.nodes.items()}  # fmt: skip
    assert check_steps(SIGNATURES, kinds) == []
    kinds.pop("abi-openmp")
    kinds["segv-detail"] = "outcome"
    problems = check_steps(SIGNATURES, kinds)
    assert any("'omp-error-15'" in p and "'abi-openmp' is no node" in p for p in problems)
    assert any("'win-access-violation'" in p and "only suggests" in p for p in problems)


@pytest.mark.parametrize(
    ("pattern", "complaint"),
    [
        ("(a+)+b", "unbounded quantifier '+'"),
        ("(?:ab{1,5}){1,9}", "repeats a group"),
        ("(?:a{1,3}b)?", "repeats a group"),
        ("abc.*", "unbounded quantifier '*'"),
        ("a{2,}bc", "no {n} or {m,n} quantifier"),
        ("(?=abc)abc", "'(?' construct"),
        ("(?<name>abc)", "'(?' construct"),
        ("(?i)abc", "'(?' construct"),
        ("(abc)\\1", "escape '\\1'"),
        ("abc\\sdef", "escape '\\s'"),
        ("caf\u00e9", "printable ASCII"),
        ("[a-z]{1,300}[a-z]{1,300}", "backtrack too much"),
        ("[[a]]bc", "unescaped '['"),
        ("[a--b]cd", "'--' inside a class"),
        ("[z-a]bc", "bad range"),
        ("a?b?", "fewer than 3"),
        ("(abc", "unclosed group"),
        ("abc)", "unmatched ')'"),
        ("abc{1,999}", "need m <= n <= 300"),
        ("\\b{1,2}abc", "quantifier on an anchor"),
    ],
)
def test_the_loader_refuses_patterns_outside_the_subset(pattern, complaint):
    problems, _, _ = check_pattern(pattern)
    assert any(complaint in problem for problem in problems), problems


def test_every_pattern_of_the_file_reads_the_same_with_and_without_the_literal_filter():
    text = "\n".join(example.text for entry in SIGNATURES.entries for example in entry.examples)
    for entry in SIGNATURES.entries:
        if entry.literals:
            assert entry.regex.search(messages.prepare(text)), entry.id
            assert all(literal == literal.lower() for literal in entry.literals)


def test_a_broken_file_names_the_file_and_every_entry_at_once(tmp_path: Path):
    broken = tmp_path / "signatures.toml"
    broken.write_text(
        textwrap.dedent(
            """
            [front_ends]
            vscode = "VS Code"

            [[signature]]
            id = "nested"
            pattern = '(a{1,5}){1,5}bc'
            means = "x"
            strength = "proves"
            cause = "out-of-memory"
            examples = [{ text = "aabc", source = "https://example.org/1" }]

            [[signature]]
            id = "no-example"
            pattern = 'hello there'
            means = "x"
            strength = "maybe"
            front_end = "emacs"
            examples = []

            [[signature]]
            id = "wrong-example"
            pattern = 'exact words'
            means = "x"
            strength = "suggests"
            cause = "no-such-cause"
            examples = [{ text = "other words", source = "http://insecure.example" }]
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(SignatureError) as caught:
        load_signatures(broken)
    message = str(caught.value)
    assert all(line.startswith(str(broken)) for line in message.splitlines())
    assert "signature 'nested': pattern repeats a group" in message
    assert "signature 'no-example': strength must be" in message
    assert "signature 'no-example': front_end 'emacs' is not a known front end" in message
    assert "signature 'no-example': needs at least one example" in message
    assert "signature 'wrong-example': cause 'no-such-cause' is not a known cause" in message
    assert "signature 'wrong-example': example 1 needs a public https:// source" in message


def test_an_example_that_does_not_match_is_named(tmp_path: Path):
    broken = tmp_path / "signatures.toml"
    text = SIGNATURES_PATH.read_text(encoding="utf-8")
    text = text.replace("pattern = 'OMP: Error #15\\b'", "pattern = 'OMP: Error #16\\b'")
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(
        SignatureError, match=re.escape("signature 'omp-error-15': example 1 does not match")
    ):
        load_signatures(broken)


def test_the_compiled_json_carries_patterns_not_code():
    data = messages.reader_json()
    assert data["limit"] == messages.MAX_TEXT
    assert [entry["id"] for entry in data["signatures"]] == [e.id for e in SIGNATURES.entries]
    for entry in data["signatures"]:
        assert entry["flags"] in ("gm", "gim")
        re.compile(entry["source"], re.ASCII)


def test_the_compiled_file_is_the_checked_file_as_it_is_now():
    stamp = compiled.source_stamp(SIGNATURES_PATH.read_bytes())
    written = json.loads(COMPILED_PATH.read_text(encoding="utf-8"))
    assert written == SIGNATURES.to_compiled(stamp=stamp), (
        "signatures.compiled.json is stale: run python -m troubleshooter.signatures"
    )
    read = messages.builtin_signatures()
    assert [entry.to_json_dict() for entry in read.entries] == written["signatures"]


def test_a_source_edited_after_compiling_is_checked_in_full(tmp_path: Path, monkeypatch):
    edited = tmp_path / "signatures.toml"
    text = SIGNATURES_PATH.read_text(encoding="utf-8")
    edited.write_text(text.replace("pattern = 'OMP: Error #15\\b'", "pattern = '(OMP+)+'"), "utf-8")
    stale = tmp_path / "signatures.compiled.json"
    stale.write_text(COMPILED_PATH.read_text(encoding="utf-8"), "utf-8")
    monkeypatch.setattr(messages, "SIGNATURES_FILE", str(edited))
    monkeypatch.setattr(messages, "COMPILED_FILE", str(stale))
    messages.builtin_signatures.cache_clear()
    try:
        with pytest.raises(SignatureError, match=re.escape(f"{edited}: signature 'omp-error-15'")):
            messages.builtin_signatures()
        edited.write_text(text, "utf-8")  # as it was compiled: the compiled file is read
        data = json.loads(stale.read_text("utf-8"))
        data["signatures"][0]["means"] = "read from the compiled file"
        stale.write_text(json.dumps(data), "utf-8")
        assert messages.builtin_signatures().entries[0].means == "read from the compiled file"
    finally:
        messages.builtin_signatures.cache_clear()


def test_a_broken_signatures_file_fails_the_sphinx_build_with_file_and_id(tmp_path: Path):
    import subprocess
    import sys

    broken = tmp_path / "signatures.toml"
    text = SIGNATURES_PATH.read_text(encoding="utf-8")
    broken.write_text(text.replace("pattern = 'OMP: Error #15\\b'", "pattern = '(OMP+)+'"), "utf-8")
    root = Path(__file__).parent / "roots" / "test-wizard"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-D",
         f"troubleshooter_signatures={broken}", str(root), str(tmp_path / "out")],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    assert (
        f"{broken}: signature 'omp-error-15': pattern uses the unbounded quantifier" in done.stderr
    )
