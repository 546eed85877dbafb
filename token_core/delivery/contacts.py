"""Where a code may be sent (the seed's rules), and the CPF check that guards e-mail.

- SMS goes to the registered mobile. With none registered, the number typed by the dentist is
  used and becomes the registered one; another number than the registered is refused: only the
  SAB changes it. The same holds for the e-mail address.
- E-mail needs the beneficiary's CPF, and so does a code the SAB gives by phone (one counter
  for both). Wrong CPFs are audited and limited per beneficiary, so the check cannot be used
  to guess a CPF from its masked form.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from token_core import audit
from token_core.chat import links
from token_core.errors import (
    ChangeOnlyBySab,
    ChannelUnavailable,
    ContactRequired,
    CpfMismatch,
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


class ContactRules:
    def __init__(self, keyring: Keyring, store: EphemeralStore) -> None:
        self._keyring = keyring
        self._store = store

    async def destination(
        self,
        channel: Channel,
        beneficiary: Beneficiary,
        *,
        mobile: str | None,
        email: str | None,
        cpf: str | None,
        actor: str,
    ) -> tuple[str, str | None]:
        """Where the code goes, and the contact to register (when it is a first one)."""
        if channel is Channel.SMS:
            typed = Mobile.parse(mobile).e164 if mobile else None
            return self._pick(
                beneficiary.mobile,
                typed,
                "do celular",
                "celular",
                "Informe o celular do beneficiário com DDD.",
            )
        if channel is Channel.EMAIL:
            await self.check_cpf(beneficiary, cpf, actor, Channel.EMAIL)
            typed = parse_email(email) if email else None
            registered = beneficiary.email.lower() if beneficiary.email else None
            return self._pick(
                registered, typed, "do e-mail", "email", "Informe o e-mail do beneficiário."
            )
        if channel in CHAT_CHANNELS:
            link = await links.latest_of(beneficiary.id, channel)
            if link is None:
                raise ChannelUnavailable(
                    f"O beneficiário ainda não vinculou o {CHAT_CHANNELS[channel]}. "
                    "Use SMS, e-mail ou o SAB."
                )
            return link.chat_id, None
        raise ChannelUnavailable()

    @staticmethod
    def _pick(
        registered: str | None, typed: str | None, what: str, field: str, ask: str
    ) -> tuple[str, str | None]:
        if registered:
            if typed and typed != registered:
                raise ChangeOnlyBySab(what)
            return registered, None
        if typed is None:
            raise ContactRequired(field, ask)
        return typed, typed

    async def check_cpf(
        self, beneficiary: Beneficiary, cpf: str | None, actor: str, channel: Channel
    ) -> None:
        """The CPF a person gives must be the beneficiary's; wrong ones are counted (before the
        next comparison) and audited, and lock the check for an hour at the limit.
        """
        if not cpf or not cpf.strip():
            why = " para enviar por e-mail" if channel is Channel.EMAIL else ""
            raise ContactRequired("cpf", f"Informe o CPF do beneficiário{why}.")
        counter = f"cpf-mismatch:{beneficiary.carteirinha}"
        # Checked before comparing: once locked, even the right CPF waits, or the lock would
        # only slow a guesser down.
        wait = await self._store.blocked(counter, CPF_MISMATCH_LIMIT)
        if wait is None:
            given = self._keyring.cpf_lookup(Cpf.parse(cpf).digits)
            if hmac.compare_digest(given, beneficiary.cpf_hash):
                return
            await self._store.hit(counter, CPF_MISMATCH_LIMIT, CPF_MISMATCH_WINDOW)
        await audit.For(actor, carteirinha=beneficiary.carteirinha, channel=channel).record(
            AuditKind.IDENTITY_MISMATCH, reason="cpf" if wait is None else "cpf_locked"
        )
        if wait is None:
            raise CpfMismatch()
        retry_at = datetime.now(UTC) + timedelta(seconds=wait)
        raise RateLimited(
            "Muitas tentativas com CPF que não confere. "
            f"Tente de novo após {format_retry(retry_at)}.",
            retry_at,
        )

    @staticmethod
    async def claim(beneficiary: Beneficiary, channel: Channel, contact: str) -> None:
        """Register a first contact before using it; a concurrent different one loses."""
        if await beneficiaries.claim_contact(beneficiary.id, channel, contact) != contact:
            raise ChangeOnlyBySab("do celular" if channel is Channel.SMS else "do e-mail")

    @staticmethod
    async def release(beneficiary: Beneficiary, channel: Channel, contact: str) -> None:
        """Undo a claim whose delivery did not happen."""
        await beneficiaries.release_contact(beneficiary.id, channel, contact)
