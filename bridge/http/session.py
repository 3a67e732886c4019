"""The session every HTTP client of the bridge sends through (`harden`, `hardened_session`).

- **A total deadline per request.** `requests` times each socket read, so a server that trickles a byte
  now and then holds a request for ever. `DeadlineAdapter` watches the whole request (connect, send,
  headers, body) and, when the deadline passes, shuts the socket down: the request fails at once with
  `DeadlineExceeded` (a `requests.Timeout`, so callers treat it like any timeout).
- **Credentials stay with their origin.** A redirect to another scheme, host or port is refused
  (`CrossOriginRedirect`) instead of followed: no token, password or client secret is ever sent, or re-posted,
  to a host it was not configured for. Redirects within the origin are followed as usual.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
import urllib3.connection
from requests.adapters import HTTPAdapter

_current = threading.local()  # the Watch of the request this thread is sending, if any


class DeadlineExceeded(requests.exceptions.Timeout):
    """No complete answer within the request's total deadline."""


class CrossOriginRedirect(requests.exceptions.RequestException):
    """The server redirected to another origin; the redirect was not followed."""


class _Watch:
    """A timer for one request: at the deadline it shuts down the socket the request is using."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sock: socket.socket | None = None
        self.expired = False
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def _expire(self) -> None:
        self.expired = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """Tells the current watch which socket a request uses (a pooled connection may be reused)."""

    sock: socket.socket | None

    def _report_socket(self) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None and self.sock is not None:
            watch.sock = self.sock
            if watch.expired:
                watch._expire()

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._report_socket()

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        self._report_socket()
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_Watched, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_Watched, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """An adapter whose every request, body included, completes within `deadline` seconds or fails."""

    def __init__(self, deadline: float, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        watch = _Watch(self.deadline)
        _current.watch = watch
        watch.timer.start()
        try:
            response = super().send(request, True, timeout, verify, cert, proxies)
            if not stream:
                _ = response.content  # the body is read under the watch too
            if watch.expired:  # a body that ends when the connection closes ends cleanly when cut off
                raise requests.exceptions.ConnectionError("cut off at the deadline", request=request)
        except requests.RequestException as exc:
            if watch.expired:
                raise DeadlineExceeded(
                    f"no complete answer within the total deadline of {self.deadline:g} s", request=request
                ) from exc
            raise
        finally:
            watch.timer.cancel()
            _current.watch = None
        return response


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def show_origin(url: str) -> str:
    """`https://host:port` of a URL: no path, query or user info."""
    scheme, host, port = origin(url)
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def harden(session: requests.Session, deadline: float) -> requests.Session:
    """Give `session` the total deadline and the same-origin redirect rule (see the module docstring)."""
    adapter = DeadlineAdapter(deadline)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    follow = session.get_redirect_target

    def same_origin_target(response: requests.Response) -> str | None:
        target = follow(response)
        if target is not None and origin(urljoin(response.url, target)) != origin(response.url):
            raise CrossOriginRedirect(
                f"{show_origin(response.url)} redirected to {show_origin(urljoin(response.url, target))}, another "
                "origin; not followed, so no credential goes there. Configure the URL the service answers on",
                response=response,
            )
        return target

    session.get_redirect_target = same_origin_target  # type: ignore[method-assign,assignment]
    return session


def hardened_session(deadline: float) -> requests.Session:
    return harden(requests.Session(), deadline)
