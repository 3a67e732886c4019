"""The HTTP edge (`bridge.http`) on its own: Retry-After in both forms, backoff with and without jitter, the
retry loop on injected sleep and clocks, every way a request fails (produced for real against servers on
127.0.0.1, each with its own reason and its transient or terminal verdict), what a server says, and bearer
tokens: the client-credentials grant both ways, the token request's failures, the cache on an injected clock."""

from __future__ import annotations

import base64
import datetime as dt
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote_plus

import orjson
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bridge.config import OidcSettings
from bridge.http import (
    ClientCredentials,
    Failure,
    RequestFailedError,
    Retrying,
    RetryPolicy,
    Token,
    TokenCache,
    TokenRequestError,
    answer_failure,
    answer_text,
    hardened_session,
    in_chain,
    request_failure,
    request_token,
    retry_after,
    token_endpoint,
)
from bridge.http.tokens import jwt_lifetime, positive_seconds
from bridge.redact import Redactor
from tests.fakes.echo import Echo, echo_server

NOW = dt.datetime(2026, 11, 28, 12, 0, 0, tzinfo=dt.timezone.utc).timestamp()


# -- Retry-After and backoff ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("12", 12.0), (" 3 ", 3.0), ("0.5", 0.5), ("-3", 0.0), ("", None), (None, None), ("soon", None),
     ("nan", None), ("inf", None), ("Sat, 28 Nov 2026 12:00:07 GMT", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
     ("Sat, 28 Nov 2026 12:01:00 -0000", 60.0)],
)  # fmt: skip
def test_retry_after_is_seconds_or_an_http_date_on_the_given_clock(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=NOW) == seconds


def test_full_jitter_stays_under_the_doubling_ceiling_and_its_cap() -> None:
    policy, rng = RetryPolicy(9, base_s=0.5, cap_s=30.0, retry_after_cap_s=120.0), random.Random(3)
    delays = [[policy.delay(n, None, rng) for _ in range(200)] for n in range(1, 10)]
    for n, drawn in enumerate(delays, start=1):
        ceiling = min(30.0, 0.5 * 2 ** (n - 1))
        assert all(0 <= d <= ceiling for d in drawn) and max(drawn) > ceiling * 0.8  # spread over the range
    assert policy.delay(1, 500.0, rng) == 120.0 and policy.delay(1, 4.0, rng) == 4.0


def test_without_jitter_the_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(9, base_s=0.25, cap_s=1.0, retry_after_cap_s=300.0, jitter=False)
    assert [policy.delay(n, None, random.Random()) for n in range(1, 6)] == [0.25, 0.5, 1.0, 1.0, 1.0]


# -- the retry loop -------------------------------------------------------------------------------------


def attempts(*outcomes: str | Failure) -> Callable[[], str | Failure]:
    """An attempt that returns the given outcomes one after the other."""
    queue = list(outcomes)
    return lambda: queue.pop(0)


def loop(max_retries: int, sleeps: list[float]) -> Retrying:
    policy = RetryPolicy(max_retries, base_s=1.0, cap_s=8.0, retry_after_cap_s=60.0, jitter=False)
    return Retrying(policy, sleeps.append, lambda: NOW)


def test_transient_failures_are_retried_with_the_servers_date_read_on_the_injected_clock() -> None:
    sleeps: list[float] = []
    busy = Failure("HTTP 503", transient=True, status=503, retry_after="Sat, 28 Nov 2026 12:00:09 GMT")
    assert loop(3, sleeps).run(attempts(busy, Failure("no answer", True), "done"), "GET x", Redactor()) == "done"
    assert sleeps == [9.0, 2.0]  # the date, then the backoff of the second retry


def test_a_terminal_failure_ends_the_loop_at_once() -> None:
    sleeps: list[float] = []
    with pytest.raises(RequestFailedError) as caught:
        loop(5, sleeps).run(attempts(Failure("TLS failed", transient=False)), "GET x", Redactor())
    assert (caught.value.attempts, caught.value.gave_up, sleeps) == (1, False, [])


def test_transient_failures_end_after_max_retries_with_each_retry_logged_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps: list[float] = []
    echoed = Failure("HTTP 500: token tok-7f2a99 refused", transient=True, status=500)
    with pytest.raises(RequestFailedError) as caught:
        loop(2, sleeps).run(attempts(echoed, echoed, echoed), "GET x", Redactor(["tok-7f2a99"]))
    assert (caught.value.attempts, caught.value.gave_up, sleeps) == (3, True, [1.0, 2.0])
    lines = [r.getMessage() for r in caplog.records if r.name == "bridge.http.retry"]
    assert lines == ["GET x failed (HTTP 500: token *** refused) at attempt 1 of 3; retrying in 1.00 s",
                     "GET x failed (HTTP 500: token *** refused) at attempt 2 of 3; retrying in 2.00 s"]  # fmt: skip


# -- every way a request fails --------------------------------------------------------------------------


@contextmanager
def raw_server(reply: bytes | None) -> Iterator[str]:
    """A server on 127.0.0.1 that answers every connection with `reply` and closes it (None: never answers).
    Replies say `Connection: close`, so no client reuses a connection this server closed."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.recv(65536)
            if reply is None:
                held.append(connection)
                continue
            connection.sendall(reply)
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
        for connection in held:
            connection.close()


@contextmanager
def self_signed_tls_server(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 whose certificate nobody signed."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2)).sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def failure_of(request: Callable[[], object]) -> Failure:
    with pytest.raises(requests.RequestException) as caught:
        request()
    return request_failure(caught.value)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_a_tls_failure_and_a_wrong_scheme_each_say_what_happened(tmp_path: Path) -> None:
    refused_url = f"http://127.0.0.1:{free_port()}"
    refused = failure_of(lambda: requests.get(refused_url, timeout=5))
    with raw_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n") as plain:
        not_tls = failure_of(lambda: requests.get(plain.replace("http://", "https://"), timeout=5))
    with self_signed_tls_server(tmp_path) as https:
        untrusted = failure_of(lambda: requests.get(https, timeout=5))
    scheme = failure_of(lambda: requests.get("ftp://127.0.0.1/x", timeout=5))
    assert refused == Failure(f"no answer: Connection refused by {refused_url} (nothing listens there; is the "
                              "service up?)", transient=True)  # fmt: skip
    assert not_tls.reason.startswith("TLS failed with https://127.0.0.1:") and not not_tls.transient
    assert "it does not speak TLS there" in not_tls.reason
    assert untrusted.reason.startswith(f"TLS failed: the certificate of {https} is not trusted (")
    assert "set the CA bundle that signed it" in untrusted.reason and not untrusted.transient
    assert scheme == Failure("the URL's scheme is not http:// or https://", transient=False)


def test_malformed_requests_are_terminal_and_name_what_is_wrong() -> None:
    session = requests.Session()
    session.max_redirects = 3
    loop_back = b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    with raw_server(loop_back) as redirecting:
        found = {
            "no scheme": failure_of(lambda: requests.get("127.0.0.1/x", timeout=5)),
            "no host": failure_of(lambda: requests.get("http://", timeout=5)),
            "header": failure_of(lambda: requests.get(redirecting, headers={"X-Token": "a\nb"}, timeout=5)),
            "redirects": failure_of(lambda: session.get(redirecting, timeout=5)),
        }
    assert {name: failure.transient for name, failure in found.items()} == dict.fromkeys(found, False)
    assert found["no scheme"].reason == "the URL has no scheme: write http:// or https:// before the host"
    assert found["no host"].reason.startswith("the URL is not a valid http(s) URL")
    assert found["header"].reason.startswith("a header cannot be sent")
    assert found["redirects"].reason == f"too many redirects from {redirecting}"


def test_no_answer_in_time_a_body_cut_short_and_a_redirect_elsewhere(tmp_path: Path) -> None:
    with raw_server(None) as silent:
        timed_out = failure_of(lambda: requests.get(silent, timeout=0.2))
    with raw_server(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{"dags": [') as short:
        cut = failure_of(lambda: requests.get(short, timeout=5))
    moved = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://elsewhere.invalid/\r\nConnection: close\r\n\r\n"
    with raw_server(moved) as away:
        elsewhere = failure_of(lambda: hardened_session(5).get(away))
    assert timed_out == Failure("timed out (ReadTimeout)", transient=True)
    assert cut == Failure("the answer was cut short (the connection closed before the whole body came)", True)
    assert "redirected to http://elsewhere.invalid:80, another origin; not followed" in elsewhere.reason
    assert not elsewhere.transient


def test_a_name_that_does_not_resolve_is_said_so() -> None:
    """Built by hand: a real lookup would leave 127.0.0.1. The chain is what urllib3 raises."""
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except OSError as lookup:
            raise requests.ConnectionError(
                "Max retries exceeded", request=requests.Request("GET", "http://db.internal:8080/").prepare()
            ) from lookup
    except requests.ConnectionError as exc:
        failure = request_failure(exc)
    assert failure.reason == ("no answer: the host name of http://db.internal:8080 does not resolve (gaierror: Name or "
                              "service not known)")  # fmt: skip
    assert failure.transient


@pytest.mark.parametrize(
    ("status", "transient"),
    [(408, True), (425, True), (429, True), (500, True), (502, True), (503, True), (504, True), (507, True),
     (400, False), (401, False), (403, False), (404, False), (409, False), (501, False), (505, False)],
)  # fmt: skip
def test_which_statuses_a_retry_can_help(status: int, transient: bool) -> None:
    assert answer_failure(status, "", "3") == Failure(f"HTTP {status}", transient, status, "3")


def answer(body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = 500, body
    response.headers["Content-Type"] = content_type
    return response


def test_what_a_server_says_is_one_redacted_line() -> None:
    redact = Redactor(["s3cr3t-value"])
    assert answer_text(answer(b'{"message": "token s3cr3t-value refused", "stackTrace": "..."}'), redact) == (
        "token *** refused"
    )
    assert answer_text(answer(b'{"detail": "Not Found"}'), redact) == "Not Found"
    assert answer_text(answer(b'{"title": "Conflict", "status": 409}'), redact) == "Conflict"
    assert answer_text(answer(b'["a list"]'), redact) == ""
    page = b"<html><head><style>p{}</style></head><body><h1>Bad</h1><p>Basic dXNlcjpwYXNz</p></body></html>"
    assert answer_text(answer(page, "text/html"), redact) == "Bad Basic ***"
    assert len(answer_text(answer(b'{"message": "' + b"x" * 1000 + b'"}'), redact)) == 300


def test_the_chain_is_walked_once_even_when_it_loops() -> None:
    inner, outer = ValueError("inner"), KeyError("outer")
    outer.__context__, inner.__context__ = inner, outer
    assert in_chain(outer, ValueError) is inner and in_chain(outer, OSError) is None


# -- tokens ---------------------------------------------------------------------------------------------


TOKEN_ANSWER = '{{"access_token": "issued-token-1", "expires_in": "120", "token_type": "Bearer"}}'


def test_client_secret_post_sends_id_and_secret_as_form_fields() -> None:
    with echo_server(Echo(status=200, body=TOKEN_ANSWER, content_type="application/json")) as idp:
        grant = ClientCredentials(f"{idp.url}/token", "bridge", "s3cr:t +/%", scope="metadata")
        assert grant.fetch(requests.Session()) == Token("issued-token-1", 120.0)
    [seen] = idp.seen
    assert seen.authorization is None
    assert {k: v[0] for k, v in parse_qs(seen.body.decode()).items()} == {
        "grant_type": "client_credentials", "scope": "metadata", "client_id": "bridge", "client_secret": "s3cr:t +/%"
    }  # fmt: skip


def test_client_secret_basic_sends_the_form_encoded_pair_as_http_basic() -> None:
    """RFC 6749 2.3.1: id and secret are form-encoded before they are joined by `:`, so a `:` in either
    cannot move the boundary."""
    with echo_server(Echo(status=200, body=TOKEN_ANSWER, content_type="application/json")) as idp:
        grant = ClientCredentials(f"{idp.url}/token", "bridge:eu", "s3cr:t +/%", auth_method="client_secret_basic")
        grant.fetch(requests.Session())
    [seen] = idp.seen
    scheme, _, pair = (seen.authorization or "").partition(" ")
    client_id, _, secret = base64.b64decode(pair).decode().partition(":")
    assert (scheme, client_id, secret) == ("Basic", "bridge%3Aeu", "s3cr%3At+%2B%2F%25")
    assert (unquote_plus(client_id), unquote_plus(secret)) == ("bridge:eu", "s3cr:t +/%")
    assert parse_qs(seen.body.decode()) == {"grant_type": ["client_credentials"]}


def test_the_grant_of_the_settings_takes_a_keycloak_realm_url_to_its_token_endpoint() -> None:
    settings = OidcSettings(token_url="https://sso.example.com/realms/data/", client_id="c", client_secret="s")
    grant = ClientCredentials.from_settings(settings, timeout=7.0)
    assert grant.url == "https://sso.example.com/realms/data/protocol/openid-connect/token"
    assert (grant.auth_method, grant.timeout) == ("client_secret_post", 7.0) and "s" not in repr(grant).split("'")
    assert token_endpoint("https://idp.example.com/oauth2/token") == "https://idp.example.com/oauth2/token"


@pytest.mark.parametrize(
    ("status", "body", "problem", "transient"),
    [(401, '{{"error": "invalid_client"}}', "refused", False), (503, "busy", "refused", True),
     (200, "<html>login</html>", "not-json", False), (200, '{{"token_type": "Bearer"}}', "no-token", False)],
)  # fmt: skip
def test_a_token_endpoint_that_gives_no_token_says_why(status: int, body: str, problem: str, transient: bool) -> None:
    idp = Echo(status=status, body=body, content_type="application/json")
    with echo_server(idp), pytest.raises(TokenRequestError) as caught:
        request_token(requests.Session(), f"{idp.url}/token", 5.0, data={"client_secret": "s3cr3t-1"})
    assert (caught.value.problem, caught.value.transient) == (problem, transient)
    assert caught.value.status == (status if problem == "refused" else None)
    assert "s3cr3t-1" not in str(caught.value)


def test_a_token_endpoint_that_does_not_answer_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}/token"
    with pytest.raises(TokenRequestError) as caught:
        request_token(requests.Session(), url, 5.0, data={})
    assert caught.value.problem == "no-answer" and caught.value.transient
    assert "Connection refused" in caught.value.failure.reason


class Issuer:
    """Tokens `t1`, `t2`, ... each living `life` seconds (None: the endpoint does not say)."""

    def __init__(self, life: float | None = 300.0, delay_s: float = 0.0) -> None:
        self.life, self.delay_s, self.issued = life, delay_s, 0

    def __call__(self) -> Token:
        time.sleep(self.delay_s)
        self.issued += 1
        return Token(f"t{self.issued}", self.life)


def test_a_token_is_kept_until_its_refresh_time_on_the_injected_clock() -> None:
    now = [1000.0]
    cache = TokenCache(Issuer(300.0), clock=lambda: now[0])
    assert [cache.value(), cache.value()] == ["t1", "t1"]
    now[0] += 239.9  # a minute before the end of its 300 s life it is fetched again
    assert cache.value() == "t1"
    now[0] += 0.1
    assert cache.value() == "t2" and cache.fetches == 2
    cache.invalidate()  # a server refused it
    assert cache.value() == "t3"


def test_a_short_lived_token_is_fetched_again_after_half_its_life() -> None:
    now = [0.0]
    cache = TokenCache(Issuer(2.0), clock=lambda: now[0])
    cache.value()
    now[0] = 0.99
    assert cache.value() == "t1"
    now[0] = 1.0
    assert cache.value() == "t2"


def test_without_expires_in_the_jwts_exp_counts_then_a_default() -> None:
    claims = base64.urlsafe_b64encode(orjson.dumps({"exp": NOW + 100})).decode().rstrip("=")
    jwt_like = f"eyJhbGciOiJub25lIn0.{claims}.sig"
    assert jwt_lifetime(jwt_like, NOW) == 100.0 and jwt_lifetime("opaque", NOW) is None
    assert jwt_lifetime(jwt_like, NOW + 200) is None  # already expired: no life to count on
    now = [0.0]
    jwt_cache = TokenCache(lambda: Token(jwt_like), clock=lambda: now[0], wall_clock=lambda: NOW)
    opaque = TokenCache(Issuer(None), clock=lambda: now[0], wall_clock=lambda: NOW)
    jwt_cache.value(), opaque.value()
    now[0] = 50.0  # half of the JWT's 100 s
    jwt_cache.value(), opaque.value()
    assert (jwt_cache.fetches, opaque.fetches) == (2, 1)  # the opaque one is trusted for 300 s


def test_threads_asking_at_once_cause_one_fetch() -> None:
    issuer = Issuer(300.0, delay_s=0.05)
    cache = TokenCache(issuer)
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(cache.value())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert values == ["t1"] * 8 and issuer.issued == 1


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(300, 300.0), (2.5, 2.5), ("3600", 3600.0), (0, None), (-5, None), (True, None), ("soon", None),
     (None, None), ("nan", None), ("inf", None)],
)  # fmt: skip
def test_expires_in_as_a_number_or_a_number_written_as_text(value: object, seconds: float | None) -> None:
    assert positive_seconds(value) == seconds


def test_the_oidc_settings_name_their_secrets_for_the_redactor() -> None:
    settings = OidcSettings(client_id="bridge:eu", client_secret="s3cr:t", auth_method="client_secret_basic")
    pair = base64.b64encode(b"bridge%3Aeu:s3cr%3At").decode()
    assert settings.secrets() == ["s3cr:t", pair]
    assert "s3cr" not in repr(settings) and settings.missing() == ["token_url"]
