"""Build ``troubleshooter-diagnose.py``: the diagnosis as one file that needs only Python.

The file is made from the package's own modules, so there is nothing to keep in
step by hand: the modules of ``MODULES`` are joined in that order, their
imports of one another removed (the names then live in one namespace), and the
decision tree and the message signatures written in as data, because the single
file cannot read TOML (as JSON in a string, which compiles fastest; the signatures in
their compiled form, checked here at build time, so the file has no checker to run).
Module docstrings become comments.
``build`` refuses modules that define the same top-level name twice, so joining
them can never change what a name means.

The Sphinx build writes the file into the site (``_static/``, see
``troubleshooter/sphinxext/download.py``); ``python -m troubleshooter.standalone
OUT.py`` writes it anywhere. It runs on Python 3.8 and newer.
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .causes import SITE_URL
from .signatures import SIGNATURES_PATH, load_signatures

PACKAGE = Path(__file__).parent
MODULES = (
    "signals",
    "causes",
    "compiled",
    "messages",
    "facts",
    "cgroup",
    "evidence",
    "report",
    "readers",
    "state",
    "diagnose",
)
FILENAME = "troubleshooter-diagnose.py"
OLDEST_PYTHON = (3, 8)

HEADER = '''\
#!/usr/bin/env python3
"""Why did my Jupyter kernel die? Reads this machine's evidence and names the likely cause.

    python3 {filename}                       # the verdict, the evidence, what to do
    python3 {filename} --message "Kernel last terminated by signal SIGKILL."
    python3 {filename} --json                # the same as JSON

Needs Python {oldest} or newer and nothing else. It only reads: memory figures,
the memory cgroup, the list of processes, limits, free disk space and, where
allowed, the kernel log. The one file it writes is its memory of the OOM-kill
counter, in ~/.cache/jupyter-kernel-troubleshooter/ (--no-state: none at all).

Made from jupyter-kernel-troubleshooter {version} (modules {modules});
generated, so edit those modules rather than this file.
"""
'''


class JoinError(ValueError):
    """The modules cannot be joined into one file; the message says why."""


def build(
    tree: Mapping[str, Any] | None = None,
    site_url: str = SITE_URL,
    package: Path = PACKAGE,
    modules: Iterable[str] = MODULES,
) -> str:
    """The text of the single file.

    ``tree`` is the tree as ``Tree.to_json_dict()`` gives it (default: the
    built-in kernel-terminated tree with generic platform names); ``site_url``
    is where the links point.
    """
    if tree is None:
        from .diagnose import TREE_ID
        from .loader import load_builtin

        tree = load_builtin(TREE_ID).to_json_dict()  # a broken tree: TreeError naming the file
    modules = list(modules)
    sources = {name: (package / f"{name}.py").read_text(encoding="utf-8") for name in modules}
    check_names(sources)
    header = HEADER.format(
        filename=FILENAME,
        oldest=".".join(map(str, OLDEST_PYTHON)),
        version=__version__,
        modules=", ".join(f"{name}.py" for name in modules),
    )
    parts = [header, "from __future__ import annotations\n"]
    for name, source in sources.items():
        body = strip_module(source, name)
        if name == "causes":
            body = _replace_assignment(body, "SITE_URL", repr(site_url))
        if name == "diagnose":
            body = _replace_assignment(body, "TREE_DATA", _json_literal(dict(tree)))
        if name == "compiled":  # checked here, at build time: the file only reads them
            compiled = load_signatures(SIGNATURES_PATH).to_compiled()
            body = _replace_assignment(body, "SIGNATURES_DATA", _json_literal(compiled))
        parts.append(f"\n# {'=' * 76}\n# troubleshooter/{name}.py\n# {'=' * 76}\n{body}")
    parts.append('\n\nif __name__ == "__main__":\n    sys.exit(main())\n')
    text = "".join(parts)
    ast.parse(text, feature_version=OLDEST_PYTHON)  # a slip here fails the build, not a user
    return text


def strip_module(source: str, name: str) -> str:
    """``source`` without its imports of the package and ``__future__``, docstring as comment."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    drop: set[int] = set()
    replace: dict[int, str] = {}
    for node in tree.body:
        start, end = node.lineno - 1, node.end_lineno or node.lineno
        if isinstance(node, ast.ImportFrom) and (node.level > 0 or node.module == "__future__"):
            drop.update(range(start, end))
        elif node is tree.body[0] and (docstring := _text(node)) is not None:
            drop.update(range(start, end))
            replace[start] = "".join(
                f"# {line}".rstrip() + "\n" for line in docstring.strip().splitlines()
            )
        elif isinstance(node, ast.ImportFrom) and node.module and "troubleshooter" in node.module:
            raise JoinError(f"{name}.py imports {node.module}: use relative imports")
    kept = [replace.get(index, "") if index in drop else line for index, line in enumerate(lines)]
    return "".join(kept).strip("\n") + "\n"


def check_names(sources: Mapping[str, str]) -> None:
    """Raise ``JoinError`` if two modules define the same top-level name."""
    owners: dict[str, str] = {}
    clashes = []
    for module, source in sources.items():
        for name in _defined_names(ast.parse(source)):
            if name in owners and owners[name] != module:
                clashes.append(f"{name!r} in {owners[name]}.py and {module}.py")
            owners.setdefault(name, module)
    if clashes:
        raise JoinError("the same top-level name in two modules: " + "; ".join(clashes))


def _defined_names(tree: ast.Module) -> Iterable[str]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for item in ast.walk(target):
                    if isinstance(item, ast.Name):
                        yield item.id


def _text(node: ast.stmt) -> str | None:
    """The string of a statement that is only a string (a docstring), else ``None``."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        value = node.value.value
        return value if isinstance(value, str) else None
    return None


def _json_literal(data: Any) -> str:
    """``json.loads('...')`` of ``data``: one string constant compiles far faster than the
    same data written as Python literals, and the single file is compiled at every run."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), sort_keys=False)
    return f"json.loads({text!r})"


def _replace_assignment(body: str, name: str, value: str) -> str:
    """Give the top-level ``name = ...`` of ``body`` a new value (it must exist)."""
    tree = ast.parse(body)
    for node in tree.body:
        targets = (
            [node.target]
            if isinstance(node, ast.AnnAssign)
            else node.targets
            if isinstance(node, ast.Assign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            lines = body.splitlines(keepends=True)
            start, end = node.lineno - 1, node.end_lineno or node.lineno
            return "".join([*lines[:start], f"{name} = {value}\n", *lines[end:]])
    raise JoinError(f"no top-level {name} to fill in")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m troubleshooter.standalone OUT.py (e.g. {FILENAME})")
        return 2
    Path(args[0]).write_text(build(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
