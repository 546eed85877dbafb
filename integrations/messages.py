"""A code message in the words the beneficiary reads (pt-BR): the SMS text and the e-mail parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from token_core.delivery.port import CodeMessage

_TEMPLATES = Path(__file__).with_name("templates")
_BRASILIA = "America/Sao_Paulo"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@cache
def template_environment() -> jinja2.Environment:
    """The templates, loaded once on first use; only the HTML ones are autoescaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_sms(message: CodeMessage) -> str:
    return _render("sms.txt.j2", message).strip()


def render_email(message: CodeMessage) -> RenderedEmail:
    subject = " ".join(_render("email_subject.txt.j2", message).split())
    return RenderedEmail(
        subject=subject,
        text=_render("email.txt.j2", message).strip() + "\n",
        html=_render("email.html.j2", message, subject=subject),
    )


def _render(name: str, message: CodeMessage, **extra: Any) -> str:
    template = template_environment().get_template(name)
    return template.render(_context(message), **extra)


def _context(message: CodeMessage) -> dict[str, Any]:
    minutes = max(message.ttl_minutes, 1)
    return {
        "code": message.code.reveal(),
        "first_name": next(iter(message.beneficiary_name.split()), ""),
        "guide": message.guide,
        "ttl": f"{minutes} min",
        "ttl_long": f"{minutes} minuto" if minutes == 1 else f"{minutes} minutos",
        "until": _brasilia_time(message.expires_at),
    }


def _brasilia_time(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(_BRASILIA)).strftime("%H:%M")
