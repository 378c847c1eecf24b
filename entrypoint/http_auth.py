"""The bearer token on a request, set so that requests never falls back to ~/.netrc."""

from __future__ import annotations

import requests


class BearerToken(requests.auth.AuthBase):
    """Sets `Authorization: Bearer`; being an auth object keeps requests from reading ~/.netrc."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request
