"""Relatos de fraude: the queue of "não reconheço" reports and their resolution (Resolver, with
an outcome, a note and a reason).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handlers.appkeys import SERVICES
from handlers.console.config import AGENT
from handlers.console.render import page
from handlers.console.security import PREFIX
from token_core.errors import DomainError
from token_core.support import stats, views
from token_core.support.desk import FRAUD_OUTCOMES
from token_core.vocabulary import CHAT_CHANNELS, GuideStatus

STATUS = {
    GuideStatus.AWAITING_TOKEN: "aguardando token",
    GuideStatus.VALIDATED: "validada",
    GuideStatus.CANCELLED: "cancelada",
}


def _report(row: dict[str, Any]) -> dict[str, Any]:
    """A report as the queue shows it: the beneficiary masked, as stored."""
    report, guide = row["relato"], row["guia"]
    ben = report.beneficiary
    return {
        "id": report.id,
        "em": report.at,
        "guia": report.guide_numero,
        "dentista": guide.dentist_name if guide else None,
        "cro": guide.dentist_cro if guide else None,
        "status": STATUS.get(guide.status, guide.status.value) if guide else None,
        "beneficiario": ben.name.split()[0] if ben.name else "",
        "cpf": ben.cpf_masked,
        "carteirinha": ben.carteirinha,
        "canal": report.channel.value,
        "canal_nome": CHAT_CHANNELS.get(report.channel, report.channel.value),
        "conversa": f"{PREFIX}/conversas/{report.channel.value}/{report.chat_id}",
    }


async def _queue_page(
    request: web.Request, status: int = 200, erro: str | None = None, relato: int | None = None
) -> web.Response:
    reports = [_report(r) for r in await views.open_fraud_reports()]
    if relato not in {r["id"] for r in reports}:
        relato = None  # already resolved (by another agent) or unknown: said at the top
    return page(
        request,
        "fraudes.html",
        status=status,
        relatos=reports,
        resolvidos=await stats.resolved_fraud_reports(),
        resultados=FRAUD_OUTCOMES,
        erro=erro,
        relato_com_erro=relato,
        resolvido=request.query.get("resolvido", ""),
        resultado=request.query.get("resultado", ""),
    )


async def queue(request: web.Request) -> web.Response:
    return await _queue_page(request)


async def resolve(request: web.Request) -> web.StreamResponse:
    raw = request.match_info["relato"]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**31:
        raise web.HTTPNotFound()
    report_id = int(raw)
    form = await request.post()
    outcome = str(form.get("resultado", ""))
    try:
        await request.app[SERVICES].desk.resolve_fraud(
            request[AGENT],
            report_id,
            outcome,
            str(form.get("observacao", "")),
            str(form.get("motivo", "")),
        )
    except DomainError as exc:
        return await _queue_page(request, status=422, erro=str(exc), relato=report_id)
    raise web.HTTPSeeOther(f"{PREFIX}/fraudes?resolvido={report_id}&resultado={outcome}")
