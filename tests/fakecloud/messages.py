"""Minimal request/response types shared by the proxy and the emulated services."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass
class Request:
    method: str
    host: str
    target: str  # raw request target, e.g. /v1.0/me?$select=id
    headers: dict[str, str]  # lower-case keys
    body: bytes = b""

    @property
    def raw_path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, str]:
        if "?" not in self.target:
            return {}
        return dict(parse_qsl(self.target.split("?", 1)[1], keep_blank_values=True))

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def json(self) -> dict[str, object]:
        if not self.body:
            return {}
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(status: int, obj: object, headers: list[tuple[str, str]] | None = None,
                  ) -> Response:
    body = json.dumps(obj).encode()
    h = [("Content-Type", "application/json; charset=utf-8")]
    return Response(status, body, h + (headers or []))


def html_response(status: int, html: str, headers: list[tuple[str, str]] | None = None,
                  ) -> Response:
    h = [("Content-Type", "text/html; charset=utf-8")]
    return Response(status, html.encode(), h + (headers or []))
