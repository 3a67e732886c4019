"""Allow/deny regular expressions on names, with the meaning of DataHub's `AllowDenyPattern`: a name is
allowed when no `deny` pattern and some `allow` pattern matches at its start (`re.match`), ignoring case
unless `ignore_case` is off. Pure; the config builds it, the readers apply it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NamePattern:
    allow: tuple[str, ...] = (".*",)
    deny: tuple[str, ...] = ()
    ignore_case: bool = True
    _compiled: tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        flags = re.IGNORECASE if self.ignore_case else 0
        compiled = (tuple(re.compile(p, flags) for p in self.allow), tuple(re.compile(p, flags) for p in self.deny))
        object.__setattr__(self, "_compiled", compiled)

    @property
    def allows_all(self) -> bool:
        return not self.deny and ".*" in self.allow

    def allowed(self, name: str) -> bool:
        allow, deny = self._compiled
        return not any(p.match(name) for p in deny) and any(p.match(name) for p in allow)
