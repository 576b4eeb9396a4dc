"""Credentials for a store, answered before a large body is sent: a preflight request without a
body reads the store's challenge (Digest, RFC 7616, or Basic, RFC 7617), and the request that
carries the body carries the answer.

The rule's reason: a store that answers 401 to a request whose body it has not authorized may
close the connection while the body is still on its way (Virtuoso does, for bodies above a few
hundred kilobytes); the client then sees a broken pipe, never the store's answer. For the same
reason a second ``HEAD``, carrying the answer, confirms the store takes these credentials: wrong
ones are reported as the store's 401, never as a connection reset mid-body. Small bodies fit in
the sockets' buffers and take the usual round (401, then the same request with the answer),
which is why the preflight is only for bodies above :data:`PREFLIGHT_ABOVE`.
"""

from __future__ import annotations

import base64
import io
import urllib.error
import urllib.request
from email.message import Message

#: Bodies larger than this (bytes) are sent only with credentials the store has challenged for.
PREFLIGHT_ABOVE = 64 << 10


class Credentials:
    """A user and password for the store's URLs, and the handlers that answer its challenges."""

    def __init__(self, user: str, password: str, urls: list[str]) -> None:
        self.passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        for url in urls:
            self.passwords.add_password(None, url, user, password)
        self.user, self.password = user, password
        self.digest = urllib.request.HTTPDigestAuthHandler(self.passwords)
        self.basic = urllib.request.HTTPBasicAuthHandler(self.passwords)

    def handlers(self) -> list[urllib.request.BaseHandler]:
        """Handlers that answer a 401 by sending the request again, with credentials."""
        return [self.digest, self.basic]

    def authorize(
        self, plain: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float
    ) -> None:
        """Ask the store, with a body-less ``HEAD`` to ``request``'s URL, which credentials it
        wants, confirm with a second ``HEAD`` that it takes ours, and put the answer in
        ``request``'s ``Authorization`` header. A store that asks for none, or in a scheme we do
        not know, leaves ``request`` as it is. A store that refuses ours raises its 401 as an
        ``HTTPError``, before any body is sent."""
        challenge = self._challenge(plain, request.full_url, timeout, None)
        if challenge is None:
            return
        probe = urllib.request.Request(  # noqa: S310 - the store's own http(s) URL
            request.full_url, method="HEAD", headers={"User-Agent": "cdkg"}
        )
        header = self._answer(probe, challenge)
        if header is None:
            return
        if self._challenge(plain, request.full_url, timeout, header) is not None:
            said = f"it refused a HEAD with the credentials of user {self.user!r}; no body was sent"
            raise urllib.error.HTTPError(
                request.full_url, 401, "Unauthorized", Message(), io.BytesIO(said.encode())
            )
        answer = self._answer(request, challenge)
        if answer is not None:
            request.add_unredirected_header("Authorization", answer)

    @staticmethod
    def _challenge(
        plain: urllib.request.OpenerDirector, url: str, timeout: float, header: str | None
    ) -> str | None:
        """The challenge a body-less ``HEAD`` to ``url`` (with ``header`` as its Authorization,
        if any) is answered with, or None if it is let through."""
        headers = {"User-Agent": "cdkg", **({"Authorization": header} if header else {})}
        probe = urllib.request.Request(url, method="HEAD", headers=headers)  # noqa: S310
        try:
            with plain.open(probe, timeout=timeout):
                return None
        except urllib.error.HTTPError as err:
            with err:
                if err.code != 401:
                    return None  # e.g. 501 (no HEAD here) or 404: past the credentials
                return str(err.headers.get("WWW-Authenticate", ""))

    def _answer(self, request: urllib.request.Request, challenge: str) -> str | None:
        """The ``Authorization`` header answering ``challenge`` for ``request``, or None for a
        scheme we do not know."""
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            answer = self.digest.get_authorization(request, fields)
            return f"Digest {answer}" if answer else None
        if scheme.lower() == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            return f"Basic {token}"
        return None
