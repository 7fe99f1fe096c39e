"""Platform names as configuration, so another Jupyter host can rebrand the guides.

``troubleshooter_platform`` in ``conf.py`` names the service and its controls.
Each entry becomes a MyST substitution (``{{ service }}``), plus ``support_link``,
a mailto link built from ``support_email``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sphinx.util import logging

from ..model import PLATFORM_DEFAULTS as DEFAULT_PLATFORM

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.config import Config

logger = logging.getLogger(__name__)


def resolve_platform(config: Config) -> dict[str, str]:
    """Merge the configured platform names over the defaults, warning about unknown keys."""
    given = config.troubleshooter_platform or {}
    platform = dict(DEFAULT_PLATFORM)
    for key, value in given.items():
        if key not in DEFAULT_PLATFORM:
            known = ", ".join(sorted(DEFAULT_PLATFORM))
            logger.warning(
                "troubleshooter_platform: unknown key %r (known keys: %s)",
                key,
                known,
                type="troubleshooter",
                subtype="config",
            )
            continue
        if not isinstance(value, str):
            logger.warning(
                "troubleshooter_platform[%r] must be a string, not %s",
                key,
                type(value).__name__,
                type="troubleshooter",
                subtype="config",
            )
            continue
        platform[key] = value
    return platform


def _support_link(platform: dict[str, str]) -> str:
    email = platform["support_email"]
    if not email:
        return f"the support team of {platform['service']}"
    return f"[{email}](mailto:{email})"


def _fill_substitutions(app: Sphinx, config: Config) -> None:
    platform = resolve_platform(config)
    substitutions = {**platform, "support_link": _support_link(platform)}
    # Values set by hand in conf.py win over the platform names.
    config.myst_substitutions = {**substitutions, **(config.myst_substitutions or {})}


def setup_platform(app: Sphinx) -> None:
    app.add_config_value("troubleshooter_platform", {}, "env", types=[dict])
    app.connect("config-inited", _fill_substitutions)
