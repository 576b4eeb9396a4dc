"""The validation report: typed findings, rendered as text for people and JSON for programs."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from rdflib import Graph
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from cdkg.errors import ValidationFailed

#: Severities in SHACL's order (https://www.w3.org/TR/shacl/#severity). Only violations fail.
SEVERITIES = ("Violation", "Warning", "Info")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing wrong with the data.

    ``source`` is ``"shacl"``, ``"owl-rl"`` or the file name of the ``*-violation.rq`` check that
    found it. Terms are shown in Turtle syntax, with the data's prefixes.
    """

    source: str
    focus: str | None
    path: str | None
    value: str | None
    severity: str
    message: str
    shape: str | None = None


@dataclass(frozen=True)
class ValidationReport:
    """The result of :func:`cdkg.kg.validate.validate`. Conforms when no finding is a violation."""

    results: list[Finding] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.results)

    def counts(self) -> dict[str, int]:
        """How many findings of each severity, e.g. ``{"Violation": 2, "Warning": 1}``."""
        counted = Counter(f.severity for f in self.results)
        return {s: counted[s] for s in SEVERITIES if counted[s]}

    def text(self) -> str:
        """A readable report: a summary line, then one block per finding."""
        if not self.results:
            return "Conforms: no findings.\n"
        summary = ", ".join(
            f"{n} {s.lower()}{'s' if n > 1 else ''}" for s, n in self.counts().items()
        )
        verdict = "Conforms" if self.conforms else "Does not conform"
        blocks = [f"{verdict}: {summary}."]
        for f in self.results:
            blocks.append(
                "\n".join(
                    [
                        f"[{f.severity}] {f.source}" + (f" {f.shape}" if f.shape else ""),
                        f"  focus:   {f.focus or '-'}",
                        f"  path:    {f.path or '-'}",
                        f"  value:   {f.value or '-'}",
                        f"  message: {f.message}",
                    ]
                )
            )
        return "\n\n".join(blocks) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "conforms": self.conforms,
            "counts": self.counts(),
            "results": [asdict(f) for f in self.results],
        }

    def raise_if_failed(self) -> None:
        """Raise :class:`ValidationFailed` unless the data conforms (e.g. before serving)."""
        if not self.conforms:
            raise ValidationFailed(
                f"the data does not conform: {self.counts().get('Violation', 0)} violation(s)",
                hint="run `cdkg validate` to see each finding",
            )


def show(term: Node | None, namespaces: NamespaceManager | Graph | None = None) -> str | None:
    """A term in Turtle syntax, with prefixes where ``namespaces`` knows them."""
    if term is None:
        return None
    manager = namespaces.namespace_manager if isinstance(namespaces, Graph) else namespaces
    return str(term.n3(manager))
