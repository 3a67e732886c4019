"""The HTTP edge: what every HTTP client of the bridge (the Airflow REST reader, the DataHub REST sink, the
token requests of both) does the same way, on top of a `requests.Session`.

    session.py    a total deadline per request; no redirect to another origin (no credential goes there)
    failures.py   every `requests` error and HTTP status -> a `Failure`: its reason, and whether a retry helps
    retry.py      one retry loop: backoff with full jitter, `Retry-After` (seconds or HTTP date), injected
                  sleep and clock; `RequestFailedError` when the attempts end
    tokens.py     bearer tokens: the OIDC client-credentials grant (`client_secret_post` or
                  `client_secret_basic`), any token endpoint, a cache on an injected clock

Redaction is `bridge.redact`'s: each client gives the loop and `answer_text` its one `Redactor`. Each client
turns a `RequestFailedError` or `TokenRequestError` into its own error, naming its own settings.
"""

from bridge.http.failures import (
    Failure,
    answer_failure,
    answer_text,
    in_chain,
    is_transient_status,
    request_failure,
)
from bridge.http.retry import Clock, RequestFailedError, Retrying, RetryPolicy, Sleep, retry_after
from bridge.http.session import CrossOriginRedirect, DeadlineExceeded, harden, hardened_session, show_origin
from bridge.http.tokens import (
    ClientCredentials,
    Token,
    TokenCache,
    TokenRequestError,
    request_token,
    token_endpoint,
)

__all__ = [
    "ClientCredentials",
    "Clock",
    "CrossOriginRedirect",
    "DeadlineExceeded",
    "Failure",
    "RequestFailedError",
    "RetryPolicy",
    "Retrying",
    "Sleep",
    "Token",
    "TokenCache",
    "TokenRequestError",
    "answer_failure",
    "answer_text",
    "harden",
    "hardened_session",
    "in_chain",
    "is_transient_status",
    "request_failure",
    "request_token",
    "retry_after",
    "show_origin",
    "token_endpoint",
]
