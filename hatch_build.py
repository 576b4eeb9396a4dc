"""Hatch build hook: put the repository's knowledge directories into the wheel.

Static ``force-include`` fails when a directory is missing, and the knowledge directories are
written by other people, at their own pace. This hook force-includes each of them that exists, at
``cdkg/_kg/<name>``, where ``cdkg.resources.kg_dir`` looks first. Editable installs skip it, so a
developer's edits to the Turtle files are seen without reinstalling.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

KG_DIRS = ("ontology", "shapes", "data", "queries", "sources")  # as cdkg.resources.KG_DIRS


class KnowledgeDirsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        for name in KG_DIRS:
            source = Path(self.root) / name
            if source.is_dir():
                build_data["force_include"][str(source)] = f"cdkg/_kg/{name}"
        citation = Path(self.root) / "CITATION.cff"  # cdkg.resources.citation_file, for releases
        if citation.is_file():
            build_data["force_include"][str(citation)] = "cdkg/_kg/CITATION.cff"
