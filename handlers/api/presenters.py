"""Domain objects → API bodies."""

from __future__ import annotations

from handlers.api.schemas import (
    CanaisOut,
    DentistaOut,
    Destino,
    GuiaOut,
    Padrao,
    Procedimento,
    Sab,
)
from token_core.delivery.sending import Reachability
from token_core.persistence.models import Guide
from token_core.vocabulary import Channel


def canais_out(reach: Reachability, sab_phones: tuple[str, ...]) -> CanaisOut:
    return CanaisOut(
        padrao=_default(reach.default),
        sms=Destino(destino=reach.sms) if reach.sms else None,
        email=Destino(destino=reach.email) if reach.email else None,
        telegram=reach.telegram,
        whatsapp=reach.whatsapp,
        sab=Sab(telefones=list(sab_phones)),
    )


# The default channel as the dentist system reads it; the demo's web chat (the sandbox) counts
# as the app: the beneficiary made the code there and reads it out.
_PADRAO: dict[Channel, Padrao] = {
    Channel.SMS: "sms",
    Channel.EMAIL: "email",
    Channel.TELEGRAM: "telegram",
    Channel.WHATSAPP: "whatsapp",
    Channel.APP: "app",
    Channel.SAB: "sab",
    Channel.SANDBOX: "app",
}


def _default(channel: Channel | None) -> Padrao | None:
    return _PADRAO.get(channel) if channel is not None else None


def guia_out(guide: Guide, canais: CanaisOut | None = None) -> GuiaOut:
    return GuiaOut(
        numero=guide.numero,
        status=guide.status.value,
        carteirinha=guide.beneficiary.carteirinha,
        dentista=DentistaOut(nome=guide.dentist_name, cro=guide.dentist_cro),
        clinica=guide.clinic,
        procedimentos=[Procedimento(**p) for p in guide.procedures],
        criada_em=guide.created_at,
        validada_em=guide.validated_at,
        codigo_validacao=guide.validation_code,
        canais=canais,
    )
