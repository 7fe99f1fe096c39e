"""The decision tree as data: frozen dataclasses, loaded from TOML and checked once.

CONTRACT (shared by the loader, the wizard, the terminal walk and diagnose):

- A tree file ``troubleshooter/trees/<tree-id>.toml`` has a ``[tree]`` table
  (``id``, ``title``, ``start``) and ``[[node]]`` tables. A node is a question
  (``kind = "question"``) or an outcome (``kind = "outcome"``).
- ``Question``: ``id``, ``text`` (the question), ``check`` (how to find the
  answer, prose) and optional ``command`` (a copy-paste check), ``answers``.
- ``Answer``: ``id`` (unique within its question; ``walk --answer ID`` and the
  wizard's URLs use it), ``label`` (what the reader clicks), ``target`` (a node
  id), and optional deep-link hints ``signals`` (names such as "SIGKILL") and
  ``exit_codes`` (integers) saying which banner this answer fits.
- ``Outcome``: ``id``, ``title``, ``cause`` (an id from ``troubleshooter.causes``),
  ``text`` (what happened), ``steps`` (the fix, in order), ``guide`` (a Sphinx
  label; checked at build time), ``confirm`` (how to tell the fix worked).
- Text may contain inline code in backticks and nothing else of markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    target: str
    signals: tuple[str, ...] = ()
    exit_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    check: str
    answers: tuple[Answer, ...]
    command: str = ""


@dataclass(frozen=True)
class Outcome:
    id: str
    title: str
    cause: str
    text: str
    steps: tuple[str, ...]
    guide: str
    confirm: str


Node = Question | Outcome


@dataclass(frozen=True)
class Tree:
    id: str
    title: str
    start: str
    nodes: dict[str, Node]
    source: Path


TREES_DIR = Path(__file__).parent / "trees"
