"""Credentials for a store, answered before a large body is sent: a preflight request without a
body reads the store's challenge (Digest, RFC 7616, or Basic, RFC 7617), and the request that
carries the body carries the answer.

The rule's reason: a store that answers 401 to a request whose body it has not authorized may
close the connection while the body is still on its way (Virtuoso does, for bodies above a few
hundred kilobytes); the client then sees a broken pipe, never the store's answer. Small bodies
fit in the sockets' buffers and take the usual round (401, then the same request with the
answer), which is why the preflight is only for bodies above :data:`PREFLIGHT_ABOVE`.
"""

from __future__ import annotations

import base64
import urllib.error
import urllib.request

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
        wants, and put the answer in ``request``'s ``Authorization`` header. A store that asks
        for none, or in a scheme we do not know, leaves ``request`` as it is."""
        probe = urllib.request.Request(  # noqa: S310 - the store's own http(s) URL
            request.full_url, method="HEAD", headers={"User-Agent": "cdkg"}
        )
        try:
            with plain.open(probe, timeout=timeout):
                return  # no credentials wanted
        except urllib.error.HTTPError as err:
            with err:
                challenge = err.headers.get("WWW-Authenticate", "") if err.code == 401 else ""
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "digest":
            fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(rest))
            answer = self.digest.get_authorization(request, fields)
            if answer:
                request.add_unredirected_header("Authorization", f"Digest {answer}")
        elif scheme.lower() == "basic":
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
            request.add_unredirected_header("Authorization", f"Basic {token}")
