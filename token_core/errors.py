"""Domain errors: raised in the core, mapped to replies and HTTP statuses only at the edge.

Each carries a short pt-BR message that may be shown to a person as it is.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidCpf(DomainError, ValueError):
    pass


class InvalidPhone(DomainError, ValueError):
    pass


class InvalidEmail(DomainError, ValueError):
    pass


class BeneficiaryNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("Beneficiário não encontrado.")


class BeneficiaryInactive(DomainError):
    def __init__(self) -> None:
        super().__init__("Beneficiário inativo. Entre em contato com a operadora.")


class GuideNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__("Guia não encontrada.")


class GuideConflict(DomainError):
    """A guide number already registered with other content, or a transition not allowed."""


class RateLimited(DomainError):
    """Too many codes or attempts; `retry_at` says when to try again."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at
