"""Sphinx's template loader, with Jinja's compiled templates kept between builds.

Every build, a no-op one too, writes the index and search pages, and Jinja compiles the
theme's templates for them afresh: about a tenth of a no-op rebuild. ``conf.py`` names this
loader as ``template_bridge``; it is Sphinx's own with a Jinja bytecode cache in the doctree
folder. Jinja checks each template's source against its cached code, so an edited template
is compiled again, and a clean build (no doctree folder) starts with an empty cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import FileSystemBytecodeCache
from sphinx.jinja2glue import BuiltinTemplateLoader

if TYPE_CHECKING:
    from sphinx.builders import Builder
    from sphinx.theming import Theme

FOLDER = "jinja-bytecode"


class CachedTemplates(BuiltinTemplateLoader):
    """``BuiltinTemplateLoader`` that keeps compiled templates in the doctree folder."""

    def init(
        self, builder: Builder, theme: Theme | None = None, dirs: list[str] | None = None
    ) -> None:
        super().init(builder, theme, dirs)
        # Code compiled with other Jinja extensions (i18n, with a language set) differs.
        extensions = ",".join(sorted(self.environment.extensions)).encode()
        folder = Path(builder.doctreedir) / FOLDER / hashlib.sha256(extensions).hexdigest()[:8]
        folder.mkdir(parents=True, exist_ok=True)
        self.environment.bytecode_cache = FileSystemBytecodeCache(str(folder))
