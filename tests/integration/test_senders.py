"""Delivery channels against protocol peers: the Zenvia SMS API, an SMTP server, the outbox file."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from integrations.console_outbox import ConsoleSender
from integrations.email_smtp import SmtpEmailSender
from integrations.messages import render_email, render_sms
from integrations.senders import EmailConfig, SmsConfig, build_senders
from integrations.sms_zenvia import ZenviaSmsSender
from tests.peers.base import free_port
from tests.peers.sms_gateway import SmsGateway
from tests.peers.smtp_server import SmtpServer
from tests.support import refs
from token_core.codes.generation import new_code
from token_core.delivery.port import CodeMessage, DeliveryFailed, GuideSummary
from token_core.registry.identity import Mobile
from token_core.vocabulary import Channel

SENDER = "Odontoken <nao-responda@odontoken.example>"


def a_guide() -> GuideSummary:
    return GuideSummary(
        numero=refs.guide_number(),
        dentist_name="Dra. Helena Martins",
        dentist_cro="PR-12345",
        clinic="Clínica Sorriso Curitiba",
        procedures=["Consulta odontológica inicial", "Restauração em resina"],
    )


def sms_message(guide: GuideSummary | None = None) -> CodeMessage:
    return _message(Channel.SMS, Mobile.parse(refs.mobile()).e164, guide)


def email_message(guide: GuideSummary | None = None) -> CodeMessage:
    return _message(Channel.EMAIL, f"maria.{refs.suffix()}@example.com.br", guide)


def _message(channel: Channel, destination: str, guide: GuideSummary | None) -> CodeMessage:
    return CodeMessage(
        channel=channel,
        destination=destination,
        beneficiary_name="Maria das Graças Souza",
        code=new_code(6),
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
        ttl_minutes=10,
        guide=guide,
    )


def assert_nothing_personal(error: DeliveryFailed, message: CodeMessage) -> None:
    text = str(error)
    assert text
    assert message.code.reveal() not in text
    assert message.destination not in text
    if message.channel is Channel.SMS:
        assert message.destination.removeprefix("+") not in text
        assert Mobile(message.destination).local not in text
    else:
        assert message.destination.partition("@")[0] not in text


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGateway]:
    async with SmsGateway() as peer:
        yield peer


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    async with SmtpServer() as peer:
        yield peer


def zenvia(
    session: aiohttp.ClientSession, base_url: str, token: str, timeout: float = 5
) -> ZenviaSmsSender:
    return ZenviaSmsSender(session, base_url, token, "odontoken", timeout)


def smtp_sender(port: int) -> SmtpEmailSender:
    return SmtpEmailSender("127.0.0.1", port, "", "", "none", SENDER, timeout=5)


async def test_the_gateway_receives_the_code_of_the_message_with_the_guide_number(
    session: aiohttp.ClientSession, gateway: SmsGateway
) -> None:
    message = sms_message(a_guide())
    await zenvia(session, gateway.base_url, gateway.api_token).send(message)

    [received] = gateway.messages
    assert received["from"] == "odontoken"
    assert received["to"] == message.destination.removeprefix("+")
    [content] = received["contents"]
    text = content["text"]
    assert message.code.reveal() in text
    assert message.guide is not None and message.guide.numero in text
    assert "código" in text and "Vale por 10 min" in text and "única vez" in text


async def test_an_sms_without_a_guide_still_carries_the_code_and_its_validity(
    session: aiohttp.ClientSession, gateway: SmsGateway
) -> None:
    message = sms_message()
    await zenvia(session, gateway.base_url, gateway.api_token).send(message)

    text = gateway.messages[0]["contents"][0]["text"]
    assert message.code.reveal() in text and "10 min" in text and "guia" not in text


def test_the_sms_text_fits_one_message_with_a_guide() -> None:
    assert len(render_sms(sms_message(a_guide()))) <= 160


@pytest.mark.parametrize("status", [503, 500, 429])
async def test_a_gateway_error_is_delivery_failed_without_code_or_phone(
    session: aiohttp.ClientSession, gateway: SmsGateway, status: int
) -> None:
    gateway.fail_next(1, status)
    message = sms_message(a_guide())
    with pytest.raises(DeliveryFailed, match=f"answered {status}") as failure:
        await zenvia(session, gateway.base_url, gateway.api_token).send(message)
    assert_nothing_personal(failure.value, message)
    assert gateway.messages == []


async def test_a_wrong_api_token_is_refused_and_is_delivery_failed(
    session: aiohttp.ClientSession, gateway: SmsGateway
) -> None:
    message = sms_message()
    with pytest.raises(DeliveryFailed, match="answered 401") as failure:
        await zenvia(session, gateway.base_url, "not-the-token").send(message)
    assert_nothing_personal(failure.value, message)
    assert gateway.messages == []


async def test_a_gateway_that_does_not_answer_in_time_is_delivery_failed(
    session: aiohttp.ClientSession, gateway: SmsGateway
) -> None:
    gateway.hang_next()
    message = sms_message(a_guide())
    with pytest.raises(DeliveryFailed, match="timed out") as failure:
        await zenvia(session, gateway.base_url, gateway.api_token, timeout=0.3).send(message)
    assert_nothing_personal(failure.value, message)


async def test_an_unreachable_gateway_is_delivery_failed(session: aiohttp.ClientSession) -> None:
    message = sms_message()
    sender = zenvia(session, f"http://127.0.0.1:{free_port()}", "token")
    with pytest.raises(DeliveryFailed, match="unreachable") as failure:
        await sender.send(message)
    assert_nothing_personal(failure.value, message)


async def test_the_sms_log_shows_the_masked_mobile_only(
    session: aiohttp.ClientSession, gateway: SmsGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    message = sms_message(a_guide())
    await zenvia(session, gateway.base_url, gateway.api_token).send(message)
    gateway.fail_next()
    with pytest.raises(DeliveryFailed):
        await zenvia(session, gateway.base_url, gateway.api_token).send(message)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert Mobile(message.destination).masked in logged
    assert message.code.reveal() not in logged
    assert Mobile(message.destination).local not in logged


async def test_the_email_has_subject_text_and_html_with_the_code_and_the_guide_card(
    smtp: SmtpServer,
) -> None:
    guide = a_guide()
    message = email_message(guide)
    await smtp_sender(smtp.port).send(message)

    [received] = smtp.messages
    assert received.envelope_to == [message.destination] and received.to == message.destination
    assert received.sender == SENDER
    assert received.subject == f"Seu código de segurança (token) para a guia {guide.numero}"
    code = message.code.reveal()
    for part in (received.text, received.html):
        assert code in part
        assert guide.numero in part and "Dra. Helena Martins" in part and "PR-12345" in part
        assert "Clínica Sorriso Curitiba" in part and "Restauração em resina" in part
        assert "10 minutos" in part and "única vez" in part and "nunca" in part
    assert "válido" in received.text
    assert received.message.get_content_type() == "multipart/alternative"
    charsets = {part.get_content_charset() for part in received.message.iter_parts()}
    assert charsets == {"utf-8"}


async def test_an_email_without_a_guide_has_a_subject_without_a_guide_number(
    smtp: SmtpServer,
) -> None:
    message = email_message()
    await smtp_sender(smtp.port).send(message)

    [received] = smtp.messages
    assert received.subject == "Seu código de segurança (token)"
    assert message.code.reveal() in received.text and message.code.reveal() in received.html


def test_the_email_html_escapes_what_the_dentist_system_typed() -> None:
    guide = GuideSummary("GTO-X", "<script>alert(1)</script>", "PR-1", "A & B", ["<b>x</b>"])
    rendered = render_email(email_message(guide))
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "A &amp; B" in rendered.html and "&lt;b&gt;x&lt;/b&gt;" in rendered.html
    assert "<script>alert(1)</script>" in rendered.text


async def test_an_smtp_server_that_is_down_is_delivery_failed_without_code_or_address() -> None:
    message = email_message(a_guide())
    with pytest.raises(DeliveryFailed, match="smtp") as failure:
        await smtp_sender(free_port()).send(message)
    assert_nothing_personal(failure.value, message)


async def test_a_refused_recipient_is_delivery_failed_without_code_or_address(
    smtp: SmtpServer,
) -> None:
    smtp.refuse_next_recipients()
    message = email_message(a_guide())
    with pytest.raises(DeliveryFailed, match="smtp") as failure:
        await smtp_sender(smtp.port).send(message)
    assert_nothing_personal(failure.value, message)
    assert smtp.messages == []


async def test_the_console_sender_writes_the_code_to_the_outbox_and_not_to_the_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = tmp_path / "data" / "outbox.txt"
    sms, email = sms_message(a_guide()), email_message(a_guide())
    await ConsoleSender(Channel.SMS, outbox).send(sms)
    await ConsoleSender(Channel.EMAIL, outbox).send(email)

    written = outbox.read_text(encoding="utf-8")
    assert sms.code.reveal() in written and email.code.reveal() in written
    assert " sms to " in written and " email to " in written
    assert "código" in written and "Assunto: Seu código de segurança" in written
    assert outbox.stat().st_mode & 0o777 == 0o600
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("outbox" in r.getMessage() for r in warnings)
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    for message in (sms, email):
        assert message.code.reveal() not in logged and message.destination not in logged


def test_the_rendered_texts_speak_portuguese_with_accents() -> None:
    message = email_message(a_guide())
    rendered = render_email(message)
    assert "código" in render_sms(message) and "Vale" in render_sms(message)
    assert "A operadora nunca pede o código por telefone." in render_sms(message)
    assert "código" in rendered.subject
    assert "válido" in rendered.text and "Olá, Maria!" in rendered.text
    assert 'lang="pt-BR"' in rendered.html and "válido" in rendered.html


def configs(gateway: SmsGateway | None, smtp: SmtpServer | None) -> tuple[SmsConfig, EmailConfig]:
    sms = SmsConfig(
        backend="zenvia" if gateway else "console",
        base_url=gateway.base_url if gateway else "https://api.zenvia.com",
        sender="odontoken",
        api_token=gateway.api_token if gateway else "",
        timeout_seconds=5,
    )
    email = EmailConfig(
        backend="smtp" if smtp else "console",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port if smtp else 25,
        smtp_username="",
        smtp_password="",
        smtp_security="none",
        sender=SENDER,
        timeout_seconds=5,
    )
    return sms, email


async def test_console_backends_send_both_channels_to_the_outbox(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.txt"
    senders = build_senders(*configs(None, None), session, outbox)
    sms, email = sms_message(), email_message()
    await senders[Channel.SMS].send(sms)
    await senders[Channel.EMAIL].send(email)
    written = outbox.read_text(encoding="utf-8")
    assert set(senders) == {Channel.SMS, Channel.EMAIL}
    assert sms.code.reveal() in written and email.code.reveal() in written


async def test_real_backends_deliver_to_the_gateway_and_the_smtp_server(
    session: aiohttp.ClientSession, gateway: SmsGateway, smtp: SmtpServer, tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox.txt"
    senders = build_senders(*configs(gateway, smtp), session, outbox)
    sms, email = sms_message(), email_message()
    await senders[Channel.SMS].send(sms)
    await senders[Channel.EMAIL].send(email)
    assert sms.code.reveal() in gateway.messages[0]["contents"][0]["text"]
    assert email.code.reveal() in smtp.messages[0].text
    assert not outbox.exists()


async def test_the_zenvia_backend_needs_an_api_token(
    session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    _, email = configs(None, None)
    sms = SmsConfig(
        backend="zenvia", base_url="http://127.0.0.1", sender="x", api_token="", timeout_seconds=1
    )
    with pytest.raises(ValueError, match="api_token"):
        build_senders(sms, email, session, tmp_path / "outbox.txt")
