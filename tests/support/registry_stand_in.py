"""The read side of a container registry as a runner meets it, on 127.0.0.1: a manifest by digest behind
the distribution spec's bearer-token challenge, as GHCR answers. Anonymous pull tokens are given for a
public package and refused (403 DENIED) for a private one, the way GHCR creates new packages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.support.http_stand_in import HttpStandIn, Received, Reply

ANONYMOUS_TOKEN = "anonymous-pull-token"
INDEX = "application/vnd.oci.image.index.v1+json"


class RegistryStandIn(HttpStandIn):
    def __init__(self, *, public: bool) -> None:
        super().__init__()
        self.public = public

    @property
    def host(self) -> str:
        """As an image reference names it: 127.0.0.1:PORT."""
        return self.url.removeprefix("http://")

    def answer(self, request: Received) -> Reply:
        path = urlsplit(request.path).path
        if path == "/token":
            if not self.public:
                denied = {"code": "DENIED", "message": "requested access to the resource is denied"}
                return Reply(403, {"errors": [denied]})
            return Reply(200, {"token": ANONYMOUS_TOKEN})
        if match := re.fullmatch(r"/v2/(.+)/manifests/(sha256:[0-9a-f]{64})", path):
            if request.headers.get("authorization") != f"Bearer {ANONYMOUS_TOKEN}":
                challenge = (
                    f'Bearer realm="{self.url}/token",service="stand-in",'
                    f'scope="repository:{match.group(1)}:pull"'
                )
                unauthorized = {"code": "UNAUTHORIZED", "message": "authentication required"}
                return Reply(401, {"errors": [unauthorized]}, headers={"WWW-Authenticate": challenge})
            index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": []}
            return Reply(200, index, headers={"Content-Type": INDEX})
        return Reply(404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository name not known"}]})
