"""One wording, wherever a code travels: "A operadora nunca pede o código por telefone." in the
SMS, both parts of the e-mail, the chat card and the app's answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from handlers.api.beneficiary_tokens import SAFETY
from handlers.chat.token_flow import card_for_message
from integrations.messages import render_email, render_sms
from token_core.codes.generation import new_code
from token_core.delivery.port import CodeMessage, GuideSummary
from token_core.vocabulary import Channel

WORDS = "A operadora nunca pede o código por telefone."


def message(channel: Channel, guide: GuideSummary | None) -> CodeMessage:
    return CodeMessage(
        channel=channel,
        destination="+5541988575949",
        beneficiary_name="Maria das Graças Souza",
        code=new_code(6),
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
        ttl_minutes=10,
        guide=guide,
    )


def test_every_message_with_a_code_says_it_the_same_way() -> None:
    guide = GuideSummary(
        numero="GTO-2026-000101",
        dentist_name="Dra. Helena Martins",
        dentist_cro="PR-12345",
        clinic="Clínica Sorriso Curitiba",
        procedures=["Consulta odontológica inicial"],
        registered_at=datetime.now(UTC),
    )
    for with_guide in (guide, None):
        email = render_email(message(Channel.EMAIL, with_guide))
        html_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", email.html))
        texts = {
            "sms": render_sms(message(Channel.SMS, with_guide)),
            "e-mail (text)": email.text,
            "e-mail (html)": html_text,
            "chat": card_for_message(message(Channel.TELEGRAM, with_guide)).text,
            "app": SAFETY,
        }
        for where, text in texts.items():
            assert WORDS in text, where
            assert "Não informe por telefone" not in text, where
