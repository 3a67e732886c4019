"""What a failed request means, and whether a retry can help: every `requests` error and every HTTP status an
HTTP client of the bridge meets, mapped in one place (`request_failure`, `answer_failure`).

Transient (a retry may help): no connection yet (refused, reset, a name that does not resolve now), a timeout
or the total deadline, a body cut short, HTTP 408, 425, 429 and 5xx but 501 and 505. Terminal: anything about
the request itself (a URL that is not http(s), a header that cannot be sent, a redirect to another origin, too
many redirects), a TLS failure (a certificate that is not trusted stays untrusted, and a server that does not
speak TLS on that port will not start to), and every other status. No reason quotes the request (headers,
body, user info); what a server says is shown redacted and shortened (`answer_text`).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import orjson
import requests
from requests import exceptions as rex

from bridge.http.session import CrossOriginRedirect, DeadlineExceeded, show_origin
from bridge.redact import Redactor, server_text

E = TypeVar("E", bound=BaseException)
TRANSIENT_STATUSES = frozenset({408, 425, 429})  # and 5xx
TERMINAL_5XX = frozenset({501, 505})  # Not Implemented, HTTP Version Not Supported: a retry gets the same
ANSWER_TEXT_LIMIT = 300
CUT_SHORT = "the answer was cut short (the connection closed before the whole body came)"


@dataclass(frozen=True, slots=True)
class Failure:
    """Why an attempt failed, and whether a retry can help. `retry_after`: the server's Retry-After header as
    sent (read by the retry policy with its clock); `cause`: the exception behind it, if any."""

    reason: str
    transient: bool
    status: int | None = None
    retry_after: str | None = None
    cause: BaseException | None = field(default=None, compare=False, repr=False)


def is_transient_status(status: int) -> bool:
    return status in TRANSIENT_STATUSES or (status >= 500 and status not in TERMINAL_5XX)


def answer_failure(status: int, text: str = "", retry_after: str | None = None) -> Failure:
    """An HTTP error answer: `HTTP 503` or `HTTP 503: what the server said` (already redacted)."""
    reason = f"HTTP {status}" + (f": {text}" if text else "")
    return Failure(reason, is_transient_status(status), status, retry_after)


def answer_text(response: requests.Response, redact: Redactor, limit: int = ANSWER_TEXT_LIMIT) -> str:
    """What a server said about an error, as one redacted line: the `message` (Rest.li), `detail` or `title`
    (Airflow, RFC 7807) of a JSON body, else the text of the page (HTML reduced to its text)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return server_text(response.content, redact, limit)
    if not isinstance(body, dict):
        return ""
    said = next((body[key] for key in ("message", "detail", "title") if body.get(key)), None)
    return server_text(str(said), redact, limit) if said else ""


def request_failure(exc: requests.RequestException) -> Failure:
    """The failure a `requests` error means (see the module docstring); the first matching rule decides."""
    for kind, transient, describe in _RULES:
        if isinstance(exc, kind):
            return Failure(describe(exc), transient, cause=exc)
    return Failure(type(exc).__name__, transient=False, cause=exc)


def in_chain(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of `kind` in `exc`'s chain (causes and contexts), `exc` included. DataHub's emitter
    and urllib3 wrap the error that happened; this finds it."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        if isinstance(seen, kind):
            return seen
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def innermost(exc: BaseException) -> BaseException:
    """The last exception of `exc`'s chain: the socket's or TLS library's own error."""
    last, visited = exc, {id(exc)}
    following = exc.__cause__ or exc.__context__
    while following is not None and id(following) not in visited:
        last = following
        visited.add(id(last))
        following = last.__cause__ or last.__context__
    return last


def _where(exc: requests.RequestException) -> str:
    url = getattr(exc.request, "url", None)
    return show_origin(url) if isinstance(url, str) and url else "the server"


def _os_error(exc: BaseException) -> str:
    """'ConnectionResetError: Connection reset by peer' (strerror, without the errno)."""
    inner = innermost(exc)
    text = inner.strerror if isinstance(inner, OSError) and inner.strerror else str(inner)
    return f"{type(inner).__name__}: {text[:200]}" if text else type(inner).__name__


def _tls(exc: requests.RequestException) -> str:
    verify = in_chain(exc, ssl.SSLCertVerificationError)
    if verify is not None:
        return (f"TLS failed: the certificate of {_where(exc)} is not trusted ({verify.verify_message}); set the CA "
                "bundle that signed it, or use http:// if the service has no TLS")  # fmt: skip
    inner = innermost(exc)
    detail = getattr(inner, "reason", None) or type(inner).__name__
    return (f"TLS failed with {_where(exc)} ({detail}): it does not speak TLS there, or not a version we accept; "
            "use http:// if the service has no TLS")  # fmt: skip


def _no_connection(exc: requests.RequestException) -> str:
    if in_chain(exc, ConnectionRefusedError) is not None:
        return f"no answer: Connection refused by {_where(exc)} (nothing listens there; is the service up?)"
    if isinstance(innermost(exc), socket.gaierror):
        return f"no answer: the host name of {_where(exc)} does not resolve ({_os_error(exc)})"
    return f"no answer ({_os_error(exc)})"


_Rule = tuple[type[requests.RequestException], bool, Callable[[requests.RequestException], str]]
_RULES: tuple[_Rule, ...] = (
    (CrossOriginRedirect, False, str),
    (DeadlineExceeded, True, str),
    (rex.SSLError, False, _tls),
    (rex.ProxyError, True, lambda exc: f"the proxy did not pass the request on ({_os_error(exc)})"),
    (rex.Timeout, True, lambda exc: f"timed out ({type(exc).__name__})"),
    (rex.InvalidSchema, False, lambda exc: "the URL's scheme is not http:// or https://"),
    (rex.MissingSchema, False, lambda exc: "the URL has no scheme: write http:// or https:// before the host"),
    (rex.InvalidURL, False, lambda exc: "the URL is not a valid http(s) URL (no host, or a malformed host or port)"),
    (rex.URLRequired, False, lambda exc: "no URL to send the request to"),
    (rex.InvalidHeader, False, lambda exc: "a header cannot be sent (a value with a line break or a bad type)"),
    (rex.TooManyRedirects, False, lambda exc: f"too many redirects from {_where(exc)}"),
    (rex.ChunkedEncodingError, True, lambda exc: CUT_SHORT),
    (rex.ContentDecodingError, True, lambda exc: "the answer's compressed body could not be decoded (cut short?)"),
    (rex.ConnectionError, True, _no_connection),
    (rex.RetryError, True, lambda exc: "the connection's own retries ran out"),
)
