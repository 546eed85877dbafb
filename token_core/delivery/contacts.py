"""Where a code may be sent, and the proof a person must give before a contact is used.

- SMS goes to the registered mobile. With none registered, the number typed by the dentist
  becomes the registered one only with the beneficiary's CPF (first contact asks for proof).
  The same holds for the e-mail address, and e-mail always needs the CPF.
- A wrong CPF and a contact other than the registered one get the same answer
  (`DataMismatch`), so the check tells nobody which of the two was wrong: it is neither a CPF
  oracle nor a way to confirm a person's number. Only the SAB changes a registered contact.
- Every such check is counted *before* it is compared, in one store call, per beneficiary (and
  against the API client's failure budget); a check that matches gives its count back. At the
  limit the check waits for an hour, even for the right data. A code the SAB gives by phone
  needs the CPF too, on the same counter.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.chat import links
from token_core.codes.budget import BudgetKind, ClientBudget
from token_core.codes.policy import TokenPolicy
from token_core.errors import (
    ChannelUnavailable,
    ContactRequired,
    CpfMismatch,
    DomainError,
    RateLimited,
)
from token_core.keyring import Keyring
from token_core.persistence.models import Beneficiary
from token_core.registry import beneficiaries
from token_core.registry.identity import Cpf, Mobile
from token_core.registry.importer import parse_email
from token_core.storage.ports import EphemeralStore
from token_core.vocabulary import CHAT_CHANNELS, AuditKind, Channel, format_retry

CPF_MISMATCH_LIMIT = 5
CPF_MISMATCH_WINDOW = 3600.0


class DataMismatch(DomainError):
    """The CPF or the contact does not match the beneficiary's: one answer for both."""

    def __init__(self) -> None:
        super().__init__(
            "Os dados informados não conferem com o cadastro do beneficiário. Para realizar "
            "a alteração do celular ou do e-mail o beneficiário deve entrar em contato com a "
            "operadora."
        )


def pick_contact(
    registered: str | None, typed: str | None, field: str, ask: str
) -> tuple[str, str | None, bool]:
    """Where the code goes, the contact to register (a first one), and whether what was typed
    fits the registered contact.
    """
    if registered:
        fits = typed is None or hmac.compare_digest(typed.encode(), registered.encode())
        return registered, None, fits
    if typed is None:
        raise ContactRequired(field, ask)
    return typed, typed, True


class ContactRules:
    def __init__(
        self, keyring: Keyring, store: EphemeralStore, budget: ClientBudget | None = None
    ) -> None:
        self._keyring = keyring
        self._store = store
        self._budget = budget or ClientBudget(store, TokenPolicy())

    async def destination(
        self,
        channel: Channel,
        beneficiary: Beneficiary,
        *,
        mobile: str | None,
        email: str | None,
        cpf: str | None,
        actor: str,
        client: str | None = None,
    ) -> tuple[str, str | None]:
        """Where the code goes, and the contact to register (when it is a first one)."""
        if channel is Channel.SMS:
            typed = Mobile.parse(mobile).e164 if mobile else None
            ask = "Informe o celular do beneficiário com DDD."
            where, first, fits = pick_contact(beneficiary.mobile, typed, "celular", ask)
            if first is not None:  # a first mobile: proven by the CPF, as for e-mail
                given = _required_cpf(cpf, " para cadastrar o celular")
                await self._prove(beneficiary, given, True, actor, channel, client)
            elif typed is not None:  # a number typed: counted and compared, like a CPF
                await self._prove(beneficiary, None, fits, actor, channel, client)
            return where, first
        if channel is Channel.EMAIL:
            typed = parse_email(email) if email else None
            registered = beneficiary.email.lower() if beneficiary.email else None
            given = _required_cpf(cpf, " para enviar por e-mail")
            ask = "Informe o e-mail do beneficiário."
            where, first, fits = pick_contact(registered, typed, "email", ask)
            await self._prove(beneficiary, given, fits, actor, channel, client)
            return where, first
        if channel in CHAT_CHANNELS:
            link = await links.latest_of(beneficiary.id, channel)
            if link is None:
                raise ChannelUnavailable(
                    f"O beneficiário ainda não vinculou o {CHAT_CHANNELS[channel]}. "
                    "Use SMS, e-mail ou o SAB."
                )
            return link.chat_id, None
        raise ChannelUnavailable()

    async def check_cpf(
        self, beneficiary: Beneficiary, cpf: str | None, actor: str, channel: Channel
    ) -> None:
        """The CPF a caller gives the SAB must be the beneficiary's (CpfMismatch: the agent
        may hear which datum was wrong); counted with the dentist's checks.
        """
        given = _required_cpf(cpf, "")
        if await self._verify(
            beneficiary, given, True, actor, channel, None, "CPF que não confere"
        ):
            raise CpfMismatch()

    async def _prove(
        self,
        beneficiary: Beneficiary,
        cpf: Cpf | None,
        fits: bool,
        actor: str,
        channel: Channel,
        client: str | None,
    ) -> None:
        if await self._verify(
            beneficiary, cpf, fits, actor, channel, client, "dados que não conferem"
        ):
            raise DataMismatch()

    async def _verify(
        self,
        beneficiary: Beneficiary,
        cpf: Cpf | None,
        fits: bool,
        actor: str,
        channel: Channel,
        client: str | None,
        locked_what: str,
    ) -> str | None:
        """Count, then compare: None when the CPF (if asked) is the beneficiary's and the
        contact fits; else the audited reason ("cpf" or "contact"). RateLimited while the
        beneficiary's checks are locked or the client's failure budget is spent.
        """
        trail = audit.For(actor, carteirinha=beneficiary.carteirinha, channel=channel)
        if client:
            await self._budget.charge(BudgetKind.FAILURES, client, trail)
        counter = f"cpf-mismatch:{beneficiary.carteirinha}"
        # Counted before comparing, in one call: concurrent checks can never compare more than
        # the limit, and once locked even the right data waits, or the lock would only slow a
        # guesser down.
        wait = await self._store.hit(counter, CPF_MISMATCH_LIMIT, CPF_MISMATCH_WINDOW)
        if wait is not None:
            if client:  # nothing was compared
                await self._budget.refund(BudgetKind.FAILURES, client)
            await trail.record(AuditKind.IDENTITY_MISMATCH, reason="cpf_locked")
            retry_at = datetime.now(UTC) + timedelta(seconds=wait)
            raise RateLimited(
                f"Muitas tentativas com {locked_what}. "
                f"Tente de novo após {format_retry(retry_at)}.",
                retry_at,
            )
        cpf_fits = cpf is None or hmac.compare_digest(
            self._keyring.cpf_lookup(cpf.digits), beneficiary.cpf_hash
        )
        if cpf_fits and fits:
            await self._store.refund(counter)
            if client:
                await self._budget.refund(BudgetKind.FAILURES, client)
            return None
        reason = "contact" if cpf_fits else "cpf"
        await trail.record(AuditKind.IDENTITY_MISMATCH, reason=reason)
        return reason

    @staticmethod
    async def claim(beneficiary: Beneficiary, channel: Channel, contact: str) -> None:
        """Register a proven first contact before using it; a concurrent different one loses."""
        if await beneficiaries.claim_contact(beneficiary.id, channel, contact) != contact:
            raise DataMismatch()

    @staticmethod
    async def release(beneficiary: Beneficiary, channel: Channel, contact: str) -> None:
        """Undo a claim whose delivery did not happen."""
        await beneficiaries.release_contact(beneficiary.id, channel, contact)


def _required_cpf(raw: str | None, why: str) -> Cpf:
    """The CPF typed (its format checked before anything is counted: a typo is not a guess)."""
    if not raw or not raw.strip():
        raise ContactRequired("cpf", f"Informe o CPF do beneficiário{why}.")
    return Cpf.parse(raw)
