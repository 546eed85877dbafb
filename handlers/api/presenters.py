"""Domain objects → API bodies."""

from __future__ import annotations

from handlers.api.schemas import CanaisOut, Dentista, Destino, GuiaOut, Procedimento, Sab
from token_core.delivery.sending import Reachability
from token_core.persistence.models import Guide


def canais_out(reach: Reachability, sab_phones: tuple[str, ...]) -> CanaisOut:
    return CanaisOut(
        padrao=reach.default.value if reach.default else None,
        sms=Destino(destino=reach.sms) if reach.sms else None,
        email=Destino(destino=reach.email) if reach.email else None,
        telegram=reach.telegram,
        whatsapp=reach.whatsapp,
        sab=Sab(telefones=list(sab_phones)),
    )


def guia_out(guide: Guide, canais: CanaisOut | None = None) -> GuiaOut:
    return GuiaOut(
        numero=guide.numero,
        status=guide.status.value,
        carteirinha=guide.beneficiary.carteirinha,
        dentista=Dentista(nome=guide.dentist_name, cro=guide.dentist_cro),
        clinica=guide.clinic,
        procedimentos=[Procedimento(**p) for p in guide.procedures],
        criada_em=guide.created_at,
        validada_em=guide.validated_at,
        codigo_validacao=guide.validation_code,
        canais=canais,
    )
