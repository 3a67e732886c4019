"""The one redactor: what the bridge shows of text it did not write, and the last guard on what it prints.

Text that comes from elsewhere (a server's error body, a driver's message, an HTML error page) may carry a
credential: an echoed request, a connection string, a token in a URL. `Redactor` removes

- every secret it was given (as written, percent-encoded and JSON-escaped; callers add the base64 of a
  basic-auth pair with `basic_auth_value`), and
- whatever has the shape of a credential, known or not: the user info of a URL (`scheme://user:pass@host`),
  `Bearer`/`Basic` authorization values, and `password=...` or JSON `"token": "..."` assignments.

`server_text` turns an answer body into one short line for a message (HTML reduced to its text) and redacts
it. Secrets shorter than `MIN_SECRET_LENGTH` characters are not searched for: replacing every `a` or `pw`
in a message would make it unreadable and protect nothing that the shape rules above do not.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from urllib.parse import quote

MASK = "***"
MIN_SECRET_LENGTH = 3
SERVER_TEXT_LIMIT = 200

# Words that make a setting's or a key's name look secret (a run conf's keys are masked by them).
SECRET_NAME_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "auth")

_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+._-]*://)[^\s/?#@:]*:[^\s/?#@]*@")
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}")
# `password=...` or `password='...'` (query strings, DSNs, forms) and `"password": "..."` or `'password': '...'`
# (JSON, Python reprs); not `password: x` in prose, which is how the bridge's own messages name a setting.
_ASSIGNMENT = re.compile(
    r"(?i)\b([a-z_]*(?:password|passwd|pwd|secret|token|api_?key))(\s*=\s*[\"']?|[\"']\s*:\s*[\"']?)[^\s\"'&,;)}]+"
)
# Each shape above needs one of these words (case aside): text without them is left alone, told by `in` far
# faster than by the three patterns (a run report can hold thousands of messages, each redacted).
_SHAPE_WORDS = ("://", "bearer", "basic", "password", "passwd", "pwd", "secret", "token", "apikey", "api_key")
_HTML_DROP = re.compile(r"(?is)<(script|style|head)\b.*?</\1\s*>")
_HTML_TAG = re.compile(r"(?s)<[^>]*>")
_SPACE = re.compile(r"\s+")


class Redactor:
    """Removes the given secrets, and anything shaped like a credential, from text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                json_form = json.dumps(secret, ensure_ascii=False)[1:-1]
                forms.update({secret, quote(secret, safe=""), quote(secret), json_form})
        # Longest first, so that a secret containing another is removed whole.
        self.forms = tuple(sorted(forms, key=lambda form: (-len(form), form)))

    def __call__(self, text: str) -> str:
        for form in self.forms:
            text = text.replace(form, MASK)
        if not _may_have_shape(text):
            return text
        text = _URL_USERINFO.sub(rf"\1{MASK}@", text)
        text = _AUTH_VALUE.sub(rf"\1 {MASK}", text)
        return _ASSIGNMENT.sub(rf"\1\2{MASK}", text)


def _may_have_shape(text: str) -> bool:
    """Whether the shape patterns can match: ASCII text holding one of their words, or any other text (whose
    letters the patterns' case rule may fold into such a word: dotless i, long s, the Kelvin sign)."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _SHAPE_WORDS)


def looks_secret(name: str) -> bool:
    """Whether a key's name says its value is a secret (`api_token`, `DB_PASSWORD`, `secret_key`)."""
    lowered = name.lower()
    return any(word in lowered for word in SECRET_NAME_WORDS)


def basic_auth_value(username: str, password: str) -> str:
    """The base64 credential of an `Authorization: Basic` header, so it can be redacted too."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def server_text(body: bytes | str, redactor: Redactor, limit: int = SERVER_TEXT_LIMIT) -> str:
    """A server's answer as one redacted line of at most `limit` characters (HTML reduced to its text)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if "<" in text and ">" in text:
        text = html.unescape(_HTML_TAG.sub(" ", _HTML_DROP.sub(" ", text)))
    text = redactor(_SPACE.sub(" ", text).strip())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
