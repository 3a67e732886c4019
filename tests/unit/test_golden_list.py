"""`make golden` refreshes every golden file: each test module that can rewrite one is in its list."""

from __future__ import annotations

import re

from tests.conftest import REPO

TAKES_FIXTURE = re.compile(r"def test_\w+\([^)]*\bupdate_golden\b", flags=re.S)  # a test taking the fixture


def test_every_test_that_rewrites_goldens_is_refreshed_by_make_golden() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^GOLDEN_TESTS := (.+)$", makefile, flags=re.M)
    assert listed, "the Makefile has no GOLDEN_TESTS list"
    covered = listed.group(1).split()
    writers = sorted(
        path.relative_to(REPO).as_posix()
        for path in (REPO / "tests").rglob("test_*.py")
        if TAKES_FIXTURE.search(path.read_text(encoding="utf-8"))
    )
    assert writers, "no test rewrites a golden file: the search is wrong"
    missing = [w for w in writers if not any(w == c or w.startswith(c.rstrip("/") + "/") for c in covered)]
    assert missing == [], f"add these to GOLDEN_TESTS in the Makefile: {missing}"
