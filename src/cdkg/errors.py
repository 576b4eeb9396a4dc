"""The one error hierarchy of cdkg.

Every error a user can cause is a :class:`CdkgError`: it knows its HTTP status, the CLI exit
code, a message saying what was wrong, a hint saying how to fix it, and where a standard applies,
a link to the section of the spec it enforces. :meth:`CdkgError.to_json` is the single JSON shape
of an error, used by the CLI (``--format json``) and the web endpoint alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

SPARQL_QUERY = "https://www.w3.org/TR/sparql11-query/"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
HTTP = "https://www.rfc-editor.org/rfc/rfc9110.html"


class CdkgError(Exception):
    """Base class: a failure cdkg reports to a person or a client, never a bug.

    Class attributes give the defaults of each kind; the constructor may override ``hint`` and
    ``spec`` for one occurrence.
    """

    status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 2
    default_spec: ClassVar[str | None] = None

    def __init__(self, message: str, *, hint: str | None = None, spec: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.spec = spec if spec is not None else self.default_spec

    @property
    def type(self) -> str:
        """The error's type name as clients see it, e.g. ``BadParameter``."""
        return type(self).__name__

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON body: ``{"error": {status, type, message, hint, spec}}``."""
        return {
            "error": {
                "status": self.status,
                "type": self.type,
                "message": self.message,
                "hint": self.hint,
                "spec": self.spec,
            }
        }

    def __str__(self) -> str:
        return self.message


class LoadError(CdkgError):
    """A file cannot be read or parsed. Names the file and, when known, the line."""

    exit_code = 2

    def __init__(
        self,
        path: Path | str,
        detail: str,
        *,
        line: int | None = None,
        hint: str | None = None,
        spec: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.detail = detail
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {detail}", hint=hint, spec=spec)


class ValidationFailed(CdkgError):
    """The data does not conform to its shapes, checks or ontology."""

    exit_code = 1


class MissingExtra(CdkgError):
    """A command needs a part of cdkg this install lacks: the measuring tools (``cdkg_bench``)
    come with the ``bench`` or ``test`` extra, not with cdkg itself."""


class BadParameter(CdkgError):
    """A parameter or setting has a wrong name or value."""

    status = 400


class BadQuery(CdkgError):
    """A SPARQL query does not parse, or is not allowed in this form."""

    status = 400
    default_spec = f"{SPARQL_QUERY}#grammar"


class QueryNotFound(CdkgError):
    """No canned query has this name."""

    status = 404

    def __init__(self, name: str, available: Iterable[str] = ()) -> None:
        names = sorted(available)
        hint = f"available queries: {', '.join(names)}" if names else "no canned queries are loaded"
        super().__init__(f"no canned query named {name!r}", hint=hint)
        self.name = name


class Forbidden(CdkgError):
    """The request is understood but refused (e.g. SERVICE to an endpoint off the allow-list)."""

    status = 403
    default_spec = f"{HTTP}#status.403"


class MethodNotAllowed(CdkgError):
    """The HTTP method is not one this resource accepts."""

    status = 405
    default_spec = f"{SPARQL_PROTOCOL}#query-operation"


class NotAcceptable(CdkgError):
    """No result format the client accepts can be produced."""

    status = 406
    default_spec = f"{HTTP}#status.406"


class PayloadTooLarge(CdkgError):
    """The request body is larger than the configured limit."""

    status = 413
    default_spec = f"{HTTP}#status.413"


class UnsupportedMediaType(CdkgError):
    """The request body has a content type the protocol does not allow here."""

    status = 415
    default_spec = f"{SPARQL_PROTOCOL}#query-via-post-direct"


class ServiceUnavailable(CdkgError):
    """The service cannot answer now (not ready, overloaded, or a remote SERVICE failed)."""

    status = 503
    default_spec = f"{HTTP}#status.503"


class BadGateway(CdkgError):
    """A remote endpoint called with SERVICE failed: refused, answered an error, or garbage."""

    status = 502
    default_spec = f"{HTTP}#status.502"


class GatewayTimeout(CdkgError):
    """A remote endpoint called with SERVICE did not answer within its time limit."""

    status = 504
    default_spec = f"{HTTP}#status.504"


class QueryTimeout(ServiceUnavailable):
    """The query ran past the configured time limit."""

    default_spec = f"{SPARQL_PROTOCOL}#query-failure"


# The external store's failures (:mod:`cdkg.sparql.remote`) live here, with the other kinds, so
# that an engine child's error is raised again in the server as the same kind, with its status.


class StoreUnavailable(ServiceUnavailable):
    """The external store cannot be reached (refused, no such host, connection dropped)."""


class StoreTimeout(GatewayTimeout):
    """The external store did not answer within the time limit."""


class StoreBadAnswer(BadGateway):
    """The external store answered with an error, a redirect, or something we cannot read."""

    http_status: int | None = None  # the store's own status, when it answered one


class QuerySyntaxError(BadQuery):
    """A SPARQL query that does not parse; carries the line and column of the fault."""

    def __init__(self, message: str, *, line: int, column: int, hint: str | None = None) -> None:
        super().__init__(f"line {line}, column {column}: {message}", hint=hint)
        self.line = line
        self.column = column

    def to_json(self) -> dict[str, Any]:
        body = super().to_json()
        body["error"].update(line=self.line, column=self.column)
        return body


class CannotListen(CdkgError):
    """``cdkg serve`` cannot listen where it was told to: the port is taken, or not ours to take.
    A usage error (exit 2): another port or address fixes it."""


class NotFound(CdkgError):
    """No resource at this path."""

    status = 404
    default_spec = f"{HTTP}#status.404"


class InternalError(CdkgError):
    """A bug or a crash on our side. Its details go to the server log, never to the client."""

    status = 500
    default_spec = f"{HTTP}#status.500"
