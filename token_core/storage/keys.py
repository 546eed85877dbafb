"""Key names shared by both stores. Keys of one beneficiary share a Redis Cluster hash tag,
so a validation touches a single slot. No key or value holds a code or a CPF: only digests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from token_core.codes.single_use import Scope


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    def _tag(self, beneficiary: str) -> str:
        return f"{self.prefix}{{b:{beneficiary}}}"

    def code(self, scope: Scope) -> str:
        return f"{self._tag(scope.beneficiary)}:code:{scope.guide or '*'}"

    def known(self, beneficiary: str, digest: str) -> str:
        return f"{self._tag(beneficiary)}:known:{digest}"

    def used(self, beneficiary: str, digest: str) -> str:
        return f"{self._tag(beneficiary)}:used:{digest}"

    def guide_failures(self, beneficiary: str, guide: str) -> str:
        return f"{self._tag(beneficiary)}:fail:{guide}"

    def guide_lock(self, beneficiary: str, guide: str) -> str:
        return f"{self._tag(beneficiary)}:lock:{guide}"

    def beneficiary_failures(self, beneficiary: str, client: str = "") -> str:
        """Failures across a beneficiary's guides: one counter per API client ("" = everyone
        else), so one client's failures never refuse another client (docs/token-rules.md).
        """
        if client:
            return f"{self._tag(beneficiary)}:cfail:{client}"
        return f"{self._tag(beneficiary)}:fail"

    def about(self, name: str) -> tuple[str, ...]:
        """Globs of every key about one beneficiary or chat `name`: its hash tag (codes,
        digests, counters, locks) and plain keys naming it as a whole segment (rate limits,
        dialogue state, once-only markers), e.g. `kv:rate:cpf-mismatch:<card>`.
        """
        glob = re.sub(r"([*?\[\]\\])", r"\\\1", name)
        return (
            f"{self._tag(glob)}:*",
            f"{self.prefix}kv:*:{glob}",
            f"{self.prefix}kv:*:{glob}:*",
        )

    def plain(self, key: str) -> str:
        return f"{self.prefix}kv:{key}"
