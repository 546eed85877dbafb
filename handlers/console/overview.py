"""Painel and Auditoria: for supervisors only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from handlers.console import audit_labels as labels
from handlers.console.render import page
from handlers.console.security import supervisor_only
from handlers.console.svg_chart import channel_name, codes_per_day
from token_core.chat.redaction import mask_sensitive
from token_core.persistence.models import AuditEvent
from token_core.support import stats

FILTERS = ("carteirinha", "guia", "ator")


def duration(seconds: float | None) -> str:
    """ "2 min 05 s", "1 h 03 min", or "—" when nothing was paired."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")


@supervisor_only
async def dashboard(request: web.Request) -> web.StreamResponse:
    numbers = await stats.overview()
    return page(
        request,
        "painel.html",
        painel=numbers,
        grafico=codes_per_day(numbers.days, numbers.issued, numbers.channels),
        canais=[(c, channel_name(c)) for c in numbers.channels],
        taxa=percent(numbers.success_rate),
        mediana=duration(numbers.median_seconds),
    )


def _row(event: AuditEvent) -> dict[str, Any]:
    """What the Auditoria shows of an event (see audit_labels: pt-BR, masked)."""
    detail = dict(event.detail) if isinstance(event.detail, dict) else {}
    motivo = detail.pop("motivo", None)
    channel = event.channel.value if event.channel else ""
    return {
        "em": event.at,
        "tipo": event.kind.value,
        "nome": labels.kind_label(event.kind),
        "ator": labels.actor(event.actor),
        "canal": channel,
        "guia": event.guide_numero or "",
        "carteirinha": event.carteirinha or "",
        "motivo": mask_sensitive(str(motivo)) if motivo else "",
        "razao": mask_sensitive(event.reason) if event.reason else "",
        "detalhes": labels.details(detail, channel),
    }


@supervisor_only
async def audit_trail(request: web.Request) -> web.StreamResponse:
    given = {name: request.query.get(name, "").strip()[:64] for name in FILTERS}
    events = await stats.audit_events(
        carteirinha=given["carteirinha"] or None,
        guide=given["guia"] or None,
        actor=given["ator"] or None,
    )
    return page(
        request,
        "auditoria.html",
        eventos=[_row(e) for e in events],
        filtros=given,
        limite=stats.AUDIT_PAGE,
    )
