"""The numbers that govern codes and limits, given by the composition root from settings."""

from __future__ import annotations

from dataclasses import dataclass

from token_core.codes.single_use import AttemptPolicy


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    digits: int = 6
    ttl_seconds: float = 600
    memory_seconds: float = 86400
    guide_max_failures: int = 5
    guide_lock_seconds: float = 900
    beneficiary_max_failures: int = 100
    beneficiary_failure_window_seconds: float = 3600
    issue_max_per_beneficiary: int = 5
    issue_window_seconds: float = 900
    # Per API client and hour (token_core/codes/budget.py); the defaults are argued in
    # settings.toml [limits].
    client_failures_per_hour: int = 2000
    client_issues_per_hour: int = 20000

    def attempt_policy(self) -> AttemptPolicy:
        return AttemptPolicy(
            guide_max_failures=self.guide_max_failures,
            guide_lock_seconds=self.guide_lock_seconds,
            beneficiary_max_failures=self.beneficiary_max_failures,
            beneficiary_window_seconds=self.beneficiary_failure_window_seconds,
            memory_seconds=self.memory_seconds,
        )
