"""A hostile HTTP server on 127.0.0.1: it answers every request with what a test sets (a status, a body in
which `{auth}`, `{body}` and `{url}` are replaced by the request's Authorization header, its body and its
URL, so a careless client would print its own credentials back), or redirects to another server. Every
request it saw is recorded."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes.local_http import serving


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass
class Echo:
    status: int = 500
    body: str = "<html><body><h1>Internal error</h1><pre>{auth} {body} {url}</pre></body></html>"
    content_type: str = "text/html"
    redirect_to: str | None = None  # answer 307 with this Location instead
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def answer(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        authorization = handler.headers.get("Authorization")
        self.seen.append(Seen(method, handler.path, authorization, body))
        if self.redirect_to is not None:
            handler.send_response(307)
            handler.send_header("Location", self.redirect_to + handler.path)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        token = (authorization or "").split(" ", 1)[-1]
        text = self.body.format(
            auth=authorization, token=token, body=body.decode("utf-8", "replace"), url=self.url + handler.path
        )
        payload = text.encode()
        handler.send_response(self.status)
        handler.send_header("Content-Type", self.content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


@contextmanager
def echo_server(echo: Echo) -> Iterator[Echo]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            echo.answer(self, "GET")

        def do_POST(self) -> None:
            echo.answer(self, "POST")

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as url:
        echo.url = url
        yield echo
