"""``python -m troubleshooter kernel install|uninstall [--user | --sys-prefix]``.

Install adds ``troubleshooter`` to the extensions IPython kernels load at start
(``InteractiveShellApp.extensions``) in a JSON configuration file, which IPython
reads beside any ``ipython_kernel_config.py``:

- ``--user`` (the default): ``$IPYTHONDIR/profile_default/ipython_kernel_config.json``
  (``~/.ipython`` unless ``IPYTHONDIR`` is set);
- ``--sys-prefix``: ``<sys.prefix>/etc/ipython/ipython_kernel_config.json``, for
  every user of this environment (a service's image).

Other settings in the file are kept; uninstall removes only our entry.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

HELP = "load the kernel companion in every IPython kernel (install) or stop (uninstall)"
EXTENSION = "troubleshooter"
CONFIG_NAME = "ipython_kernel_config.json"


def config_path(sys_prefix: bool = False) -> str:
    if sys_prefix:
        return os.path.join(sys.prefix, "etc", "ipython", CONFIG_NAME)
    folder = os.environ.get("IPYTHONDIR") or os.path.join(os.path.expanduser("~"), ".ipython")
    return os.path.join(folder, "profile_default", CONFIG_NAME)


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except FileNotFoundError:
        return {}
    if not isinstance(config, dict):
        raise ValueError(f"{path} does not hold a JSON object")
    return config


def change(path: str, install: bool) -> bool:
    """Add or remove our extension in the file at ``path``; whether anything changed."""
    config = _load(path)
    section = config.setdefault("InteractiveShellApp", {})
    if not isinstance(section, dict):
        raise ValueError(f"{path}: InteractiveShellApp is not an object")
    extensions = section.get("extensions", [])
    if not isinstance(extensions, list):
        raise ValueError(f"{path}: InteractiveShellApp.extensions is not a list")
    present = EXTENSION in extensions
    if install == present:
        return False
    if install:
        section["extensions"] = [*extensions, EXTENSION]
    else:
        section["extensions"] = [name for name in extensions if name != EXTENSION]
        if not section["extensions"]:
            del section["extensions"]
        if not section:
            del config["InteractiveShellApp"]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(config, file, indent=2)
        file.write("\n")
    os.replace(temporary, path)
    return True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("install", "uninstall"))
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user (the default)")
    where.add_argument("--sys-prefix", action="store_true", help=f"for every user of {sys.prefix}")


def run(args: argparse.Namespace) -> int:
    path = config_path(sys_prefix=args.sys_prefix)
    install = args.action == "install"
    try:
        changed = change(path, install)
    except (OSError, ValueError) as error:
        print(f"troubleshooter: cannot change {path}: {error}", file=sys.stderr)
        return 1
    if install:
        state = "added to" if changed else "already in"
        print(f"troubleshooter: the kernel companion is {state} {path}.")
        print(
            "New and restarted IPython kernels load it; running ones need %load_ext troubleshooter."
        )
    else:
        state = "removed from" if changed else "was not in"
        print(f"troubleshooter: the kernel companion {state} {path}.")
    return 0
