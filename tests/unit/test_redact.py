"""The one redactor: known secrets in every form they travel in, and anything shaped like a credential."""

from __future__ import annotations

from bridge.redact import MASK, Redactor, basic_auth_value, server_text


def test_known_secrets_are_removed_as_written_encoded_and_escaped() -> None:
    secret = 'p@ss/w"rd#1'
    redact = Redactor([secret, basic_auth_value("admin", secret)])
    for text in (
        secret,
        "p%40ss%2Fw%22rd%231",
        "p%40ss/w%22rd%231",
        '"p@ss/w\\"rd#1"',
        basic_auth_value("admin", secret),
    ):
        assert secret not in redact(f"before {text} after") and "before" in redact(f"before {text} after")
    assert redact(f"x{secret}y").count(MASK) == 1


def test_shapes_of_credentials_are_removed_unknown_or_not() -> None:
    redact = Redactor()
    assert redact("GET https://bob:hunter22@airflow.example.com/api") == "GET https://***@airflow.example.com/api"
    assert redact("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.e30") == "Authorization: Bearer ***"
    assert redact("header Basic YWRtaW46c2VjcmV0") == "header Basic ***"
    assert redact('{"password": "s3cret", "client_secret":"abc123", "db_token=tok99&x=1"}') == (
        '{"password": "***", "client_secret":"***", "db_token=***&x=1"}'
    )
    assert redact("use postgresql://user@host:5432/db") == "use postgresql://user@host:5432/db"  # no secret there


def test_shapes_spelled_in_other_letters_or_case_are_removed_too() -> None:
    redact = Redactor()
    assert redact("PASSWORD=hunter22 and TOKEN: x") == "PASSWORD=*** and TOKEN: x"
    # Letters the patterns' case rule folds into ASCII ones (long s, dotless i): no word check skips them.
    assert redact("pa\u017fsword=hunter22") == "pa\u017fsword=***"
    assert redact("ap\u0131_key=abc123") == "ap\u0131_key=***"
    assert redact("model model.x: has no domain: set meta.domain") == "model model.x: has no domain: set meta.domain"


def test_short_secrets_are_not_searched_for() -> None:
    assert Redactor(["ab"])("a tab and a cab") == "a tab and a cab"


def test_server_text_is_one_short_line_of_text_without_markup() -> None:
    page = (
        "<html><head><title>x</title><style>p{color:red}</style></head>"
        "<body><h1>502</h1>\n<p>Bad &amp; gone token=abc123</p></body></html>"
    )
    assert server_text(page, Redactor()) == "502 Bad & gone token=***"
    assert server_text(b"x" * 500, Redactor(), limit=10) == "xxxxxxxxx…"
    assert server_text("secret-1234 said no", Redactor(["secret-1234"])) == "*** said no"


def test_the_bridges_own_words_are_not_masked() -> None:
    redact = Redactor()
    for text in ("airflow_api.password: Input should be a valid string", "node model.x.user_token: no schema"):
        assert redact(text) == text


def test_quoted_assignments_are_masked_too() -> None:
    redact = Redactor()
    assert redact("psycopg2: password='hunter2xyz' host=db") == "psycopg2: password='***' host=db"
    assert redact("{'password': 'hunter2xyz'}") == "{'password': '***'}"
