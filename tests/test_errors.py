"""The error hierarchy: one JSON shape, and the status and exit code of each kind."""

from __future__ import annotations

import pytest

from cdkg import errors
from cdkg.errors import CdkgError


@pytest.mark.parametrize(
    ("error", "status", "exit_code"),
    [
        (errors.LoadError("x.ttl", "bad", line=3), 500, 2),
        (errors.ValidationFailed("does not conform"), 500, 1),
        (errors.QueryNotFound("nope", ["a", "b"]), 404, 2),
        (errors.BadParameter("bad"), 400, 2),
        (errors.BadQuery("bad"), 400, 2),
        (errors.Forbidden("no"), 403, 2),
        (errors.MethodNotAllowed("no"), 405, 2),
        (errors.NotAcceptable("no"), 406, 2),
        (errors.PayloadTooLarge("big"), 413, 2),
        (errors.UnsupportedMediaType("no"), 415, 2),
        (errors.QueryTimeout("slow"), 503, 2),
        (errors.ServiceUnavailable("down"), 503, 2),
        (errors.CannotListen("port 8000 is in use"), 500, 2),
    ],
)
def test_status_and_exit_code(error: CdkgError, status: int, exit_code: int) -> None:
    assert (error.status, error.exit_code) == (status, exit_code)
    assert isinstance(error, CdkgError)


def test_json_shape_is_fixed() -> None:
    body = errors.BadQuery("no WHERE", hint="add one").to_json()
    assert body == {
        "error": {
            "status": 400,
            "type": "BadQuery",
            "message": "no WHERE",
            "hint": "add one",
            "spec": "https://www.w3.org/TR/sparql11-query/#grammar",
        }
    }


def test_load_error_names_file_and_line() -> None:
    error = errors.LoadError("data/ties.ttl", "bad syntax", line=12)
    assert str(error) == "data/ties.ttl:12: bad syntax"
    assert (error.path.name, error.line) == ("ties.ttl", 12)


def test_query_not_found_lists_the_available_names() -> None:
    error = errors.QueryNotFound("tie", ["ties", "memberships"])
    assert error.hint == "available queries: memberships, ties"
