"""Code e-mails over SMTP (aiosmtplib): a multipart/alternative message, text and HTML, UTF-8."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Literal

import aiosmtplib

from integrations.messages import render_email
from token_core.delivery.port import CodeMessage, DeliveryFailed
from token_core.registry.identity import mask_email

logger = logging.getLogger(__name__)

SmtpSecurity = Literal["none", "starttls", "tls"]


class SmtpEmailSender:
    """Sends the code e-mail; a refusal, a timeout or a broken connection is DeliveryFailed."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        security: SmtpSecurity,
        sender: str,
        timeout: float,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username or None
        self._password = password or None
        self._security = security
        self._sender = sender
        self._timeout = timeout
        # An explicit Message-ID domain: make_msgid() would otherwise look up the FQDN (blocking).
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "odontoken.invalid"

    def compose(self, message: CodeMessage) -> EmailMessage:
        rendered = render_email(message)
        email = EmailMessage()
        email["From"] = self._sender
        email["To"] = message.destination
        email["Subject"] = rendered.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._domain)
        email.set_content(rendered.text, charset="utf-8")
        email.add_alternative(rendered.html, subtype="html", charset="utf-8")
        return email

    async def send(self, message: CodeMessage) -> None:
        masked = mask_email(message.destination)
        try:
            await aiosmtplib.send(
                self.compose(message),
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._security == "tls",
                start_tls=self._security == "starttls",
                timeout=self._timeout,
            )
        except TimeoutError:
            reason = "smtp server timed out"
        except aiosmtplib.SMTPResponseException as exc:
            reason = f"smtp server answered {exc.code}"
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Never str(exc): SMTPRecipientsRefused and friends quote the address.
            reason = f"smtp server refused or unreachable ({type(exc).__name__})"
        else:
            logger.info("e-mail sent to %s", masked)
            return
        logger.warning("e-mail to %s failed: %s", masked, reason)
        raise DeliveryFailed(reason)
