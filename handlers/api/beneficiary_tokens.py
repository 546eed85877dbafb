"""The app's "Gerar Token": the operator's app backend, with its beneficiary logged in, asks a
code and gets it in the answer (channel `app`, the same limits and audit as every code).

The only answer of the API that carries a code: it is never kept for an Idempotency-Key (the
key is refused here) and never cached.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from handlers.api.errors import ApiError
from handlers.api.jsonio import json_response
from handlers.api.middleware import IDEMPOTENCY_HEADER
from handlers.api.parsing import known_carteirinha, parse_body, path_carteirinha
from handlers.api.schemas import DentistaOut, GuiaResumo, Procedimento, TokenAppIn, TokenAppOut
from handlers.appkeys import CLIENT_ID, SERVICES
from token_core.codes.issuance import IssuedCode
from token_core.errors import BeneficiaryInactive
from token_core.guides import queries as guide_queries
from token_core.registry import beneficiaries
from token_core.vocabulary import BRASILIA, Channel

SAFETY = "Informe-o ao dentista. A operadora nunca pede o código por telefone."


async def post_beneficiary_token(request: web.Request) -> web.Response:
    if IDEMPOTENCY_HEADER in request.headers:
        raise ApiError(
            400,
            "REQUISICAO_INVALIDA",
            "Idempotency-Key não é aceita nesta chamada: a resposta traz o código e não é "
            "guardada. Peça de novo, se preciso (o código anterior deixa de valer).",
            campo=IDEMPOTENCY_HEADER,
            motivo="não aceita nesta chamada",
        )
    carteirinha = await known_carteirinha(path_carteirinha(request))
    body = await parse_body(request, TokenAppIn)
    beneficiary = await beneficiaries.by_carteirinha(carteirinha)
    if beneficiary is None:
        raise ApiError(404, "BENEFICIARIO_NAO_ENCONTRADO", "Beneficiário não encontrado.")
    if not beneficiary.active:
        raise BeneficiaryInactive()
    if body.guia is not None:
        chosen = await guide_queries.guide_of(body.guia, beneficiary.id)
        if chosen is None:
            raise ApiError(
                404, "GUIA_NAO_ENCONTRADA", "Guia não encontrada para este beneficiário."
            )
        numero: str | None = chosen.numero
    else:
        waiting = await guide_queries.awaiting(beneficiary.id)
        numero = waiting[0].numero if len(waiting) == 1 else None
    issuer = request.app[SERVICES].issuer
    actor = f"client:{request[CLIENT_ID]}"
    if numero is None:
        issued = await issuer.for_beneficiary(carteirinha, Channel.APP, actor)
    else:
        issued = await issuer.for_guide(numero, Channel.APP, actor)
    await issuer.record_delivery(issued, Channel.APP, actor)  # delivered in this answer
    out = TokenAppOut(
        canal="app",
        token=issued.code.reveal(),
        expira_em=issued.expires_at,
        guia=_summary(issued),
        mensagem=app_message(issued),
    )
    return json_response(
        out.model_dump(mode="json"), status=201, headers={"Cache-Control": "no-store"}
    )


def _summary(issued: IssuedCode) -> GuiaResumo | None:
    guide = issued.guide
    if guide is None:
        return None
    return GuiaResumo(
        numero=guide.numero,
        dentista=DentistaOut(nome=guide.dentist_name, cro=guide.dentist_cro),
        clinica=guide.clinic,
        procedimentos=[Procedimento(**p) for p in guide.procedures],
        criada_em=guide.created_at,
    )


def app_message(issued: IssuedCode) -> str:
    """What the app shows beside the code (pt-BR, Brasília time)."""
    minutes = max(round((issued.expires_at - datetime.now(UTC)).total_seconds() / 60), 1)
    until = f"{issued.expires_at.astimezone(BRASILIA):%H:%M}"
    guide = issued.guide
    if guide is None:
        target = "para a próxima guia que o dentista validar para você"
    else:
        target = f"para a guia {guide.numero} — {guide.dentist_name} (CRO {guide.dentist_cro})"
    return f"Seu código vale até {until} ({minutes} min) e só uma vez, {target}. {SAFETY}"
