"""Domain errors: raised in the core, mapped to replies and HTTP statuses only at the edge.

Each carries a short pt-BR message that may be shown to a person as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime


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


class GuideAlreadyValidated(GuideConflict):
    def __init__(self, validated_at: datetime | None) -> None:
        super().__init__("Esta guia já foi validada.")
        self.validated_at = validated_at


class RateLimited(DomainError):
    """Too many codes or attempts; `retry_at` says when to try again."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at

    def retry_after_seconds(self) -> int:
        return max(int((self.retry_at - datetime.now(UTC)).total_seconds()) + 1, 1)


class ChangeOnlyBySab(DomainError):
    """A contact other than the registered one: only the SAB may change it."""

    def __init__(self, what: str = "do celular") -> None:
        super().__init__(
            f"Para realizar a alteração {what} o beneficiário deve entrar em contato "
            "com a operadora."
        )


class CpfMismatch(DomainError):
    def __init__(self) -> None:
        super().__init__("O CPF informado não confere com o do beneficiário.")


class ChannelUnavailable(DomainError):
    def __init__(
        self, message: str = "Este canal não está disponível para o beneficiário."
    ) -> None:
        super().__init__(message)


class ContactRequired(DomainError):
    """The channel needs a destination the beneficiary has not registered yet."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Unavailable(DomainError):
    """A store or the database did not answer in time: the outcome is unknown to us, and the
    same request is safe to retry once the fault is over.
    """

    RETRY_AFTER_SECONDS = 5

    def __init__(self) -> None:
        super().__init__(
            "Serviço temporariamente indisponível. Tente de novo em instantes: "
            "repetir a mesma operação é seguro."
        )
