"""Input paths given as paths or globs."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from bridge.errors import ConfigError


def expand_paths(patterns: Sequence[str], what: str) -> list[Path]:
    """Paths from paths and globs; a glob that matches nothing is an error naming it."""
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise ConfigError(f"{what} pattern {pattern!r} matches no file. Check the path.")
            paths.extend(Path(m) for m in matches)
        else:
            paths.append(Path(pattern))
    return paths
