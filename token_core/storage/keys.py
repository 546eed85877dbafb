"""Key names shared by both stores. Keys of one beneficiary share a Redis Cluster hash tag,
so a validation touches a single slot. No key or value holds a code or a CPF: only digests.
"""

from __future__ import annotations

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

    def beneficiary_failures(self, beneficiary: str) -> str:
        return f"{self._tag(beneficiary)}:fail"

    def plain(self, key: str) -> str:
        return f"{self.prefix}kv:{key}"
