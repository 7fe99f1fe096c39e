"""The troubleshooter's configuration values, read and checked in one place.

``troubleshooter_platform`` in ``conf.py`` names the hosting service and its
controls, so another Jupyter host can rebrand the guides. Each entry becomes a
MyST substitution (``{{ service }}``), plus ``support_link``, a mailto link built
from ``support_email``. The value is checked once, when the configuration is
read: an unknown key or a value that is not a string is a warning naming the
option, and the default stands in for it.

``troubleshooter_notes`` lists the environment notes to keep (``model.NOTES``; all but
"host" by default, as for the package): each name switches on the guides'
``{only} note_<name>`` blocks and keeps the tree's steps marked with that note.
Remove the names your readers never meet.

(The demos' ``troubleshooter_lite_pyodide`` and ``troubleshooter_lite_cache``
are registered by ``lite/embed.py``, beside the demos they set up.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sphinx.util import logging

from ..loader import DEFAULT_NOTES
from ..model import NOTES, PLATFORM_DEFAULTS

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

logger = logging.getLogger(__name__)

PLATFORM = "troubleshooter_platform"
NOTES_OPTION = "troubleshooter_notes"


def _read_platform(value: Any) -> tuple[dict[str, str], list[str]]:
    """The usable entries of a ``troubleshooter_platform`` value, and what is wrong with it."""
    if value is None:
        return {}, []
    if not isinstance(value, Mapping):
        return {}, [f"{PLATFORM} must be a dict of names, not {type(value).__name__}"]
    entries: dict[str, str] = {}
    problems = []
    for key, name in value.items():
        if key not in PLATFORM_DEFAULTS:
            known = ", ".join(sorted(PLATFORM_DEFAULTS))
            problems.append(f"{PLATFORM}: unknown key {key!r} (known keys: {known})")
        elif not isinstance(name, str):
            problems.append(f"{PLATFORM}[{key!r}] must be a string, not {type(name).__name__}")
        else:
            entries[key] = name
    return entries, problems


def platform_names(config: Config) -> dict[str, str]:
    """The platform names: the configured ones over the defaults (bad entries left out)."""
    entries, _ = _read_platform(config[PLATFORM])
    return {**PLATFORM_DEFAULTS, **entries}


def note_names(config: Config) -> list[str]:
    """The environment notes switched on (unknown names left out; empty entries ignored)."""
    value = config[NOTES_OPTION]
    names = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    return [name for name in names if name in NOTES]


def _switch_on_notes(app: Sphinx, config: Config) -> None:
    value = config[NOTES_OPTION]
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)):
        logger.warning(f"{NOTES_OPTION} must be a list of names, not {type(value).__name__}",
                       type="troubleshooter", subtype="config")  # fmt: skip
        return
    for name in names:
        if name and name not in NOTES:
            known = ", ".join(NOTES)
            logger.warning(f"{NOTES_OPTION}: unknown note {name!r} (known notes: {known})",
                           type="troubleshooter", subtype="config")  # fmt: skip
    for name in note_names(config):
        app.tags.add(f"note_{name}")


def _support_link(platform: dict[str, str]) -> str:
    email = platform["support_email"]
    if not email:
        return f"the support team of {platform['service']}"
    return f"[{email}](mailto:{email})"


def _check_and_fill_substitutions(app: Sphinx, config: Config) -> None:
    for problem in _read_platform(config[PLATFORM])[1]:
        logger.warning(problem, type="troubleshooter", subtype="config")
    platform = platform_names(config)
    substitutions = {**platform, "support_link": _support_link(platform)}
    # Values set by hand in conf.py win over the platform names.
    by_hand = getattr(config, "myst_substitutions", None) or {}
    config.myst_substitutions = {**substitutions, **by_hand}


def setup_config(app: Sphinx) -> None:
    # Any type: the check above names the option and says what is wrong, once.
    app.add_config_value(PLATFORM, {}, "env", types=frozenset({Any}))
    app.add_config_value(NOTES_OPTION, list(DEFAULT_NOTES), "env", types=frozenset({Any}))
    app.connect("config-inited", _check_and_fill_substitutions)
    app.connect("config-inited", _switch_on_notes)
