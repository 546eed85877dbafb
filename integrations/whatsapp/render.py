"""The dialogue's `Outgoing` as Graph API message bodies, within WhatsApp's rules: reply buttons
(at most 3, titles up to 20 characters) or else a list (up to 10 rows, titles up to 24); no
deleting messages, no contact button (WhatsApp's own "share contact info" request instead, for
a user whose number we do not have); the code in the approved AUTHENTICATION template, whose
body parameter and COPY_CODE (url) button parameter both carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.whatsapp.addresses import Address
from integrations.whatsapp.parse import TEXT_PREFIX
from token_core.chat.messages import Outgoing
from token_core.codes.generation import SecretCode

MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_INTERACTIVE_BODY = 1024
MAX_TEXT_BODY = 4096


@dataclass(frozen=True, slots=True)
class WhatsAppTexts:
    """The pt-BR words the adapter needs, given by the wiring (integrations import no handlers)."""

    unsupported: str  # the answer to an image, a voice note, a sticker …
    menu_button: str  # the label that opens a list
    error: str = ""
    flood: str = ""
    replaced: Mapping[str, str] = field(default_factory=dict)  # dialogue text → WhatsApp text
    short_labels: Mapping[str, str] = field(default_factory=dict)  # long button label → short


@dataclass(frozen=True, slots=True)
class OtpTemplate:
    name: str
    language: str


def code_template(code: SecretCode, template: OtpTemplate) -> dict[str, Any]:
    """The authentication template: the code as the body parameter and as the copy button's."""
    parameter = [{"type": "text", "text": code.reveal()}]
    return {
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": [
                {"type": "body", "parameters": parameter},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": parameter},
            ],
        },
    }


def free_form(out: Outgoing, to: Address, texts: WhatsAppTexts) -> dict[str, Any]:
    """One message for the 24-hour window: text, reply buttons, a list or a contact request."""
    text = texts.replaced.get(out.text, out.text)
    if out.ask_contact and to.wa_id is None:
        return _interactive(
            "request_contact_info", text, {"action": {"name": "request_contact_info"}}
        )
    choices = [
        (b.data, texts.short_labels.get(b.label, b.label)) for row in out.buttons for b in row
    ]
    choices = [(data, label) for data, label in choices if data]  # a copy button is the template's
    choices += [(TEXT_PREFIX + item, item) for item in out.menu]
    if not choices:
        return {"type": "text", "text": {"body": _cut(text, MAX_TEXT_BODY), "preview_url": False}}
    if len(choices) <= MAX_BUTTONS and all(len(label) <= MAX_BUTTON_TITLE for _, label in choices):
        buttons = [
            {"type": "reply", "reply": {"id": data, "title": label}} for data, label in choices
        ]
        return _interactive("button", text, {"action": {"buttons": buttons}})
    rows = []
    for data, label in choices[:MAX_ROWS]:
        row = {"id": data, "title": _cut(label, MAX_ROW_TITLE)}
        if len(label) > MAX_ROW_TITLE:
            row["description"] = _cut(label, MAX_ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": _cut(texts.menu_button, MAX_BUTTON_TITLE), "sections": [{"rows": rows}]}
    return _interactive("list", text, {"action": action})


def card_details(out: Outgoing) -> Outgoing:
    """What goes below the template in the window: the card without its code line (the
    template shows the code) and without the copy button (the template has it)."""
    lines = out.text.split("\n")
    rest = "\n".join(lines[1:]) if len(lines) > 1 else out.text
    if out.code is not None:
        rest = rest.replace(out.code.reveal(), "••••••")
    buttons = tuple(
        kept for row in out.buttons if (kept := tuple(b for b in row if b.copy_code is None))
    )
    return Outgoing(rest, buttons=buttons)


def _interactive(kind: str, text: str, extra: dict[str, Any]) -> dict[str, Any]:
    body = {"type": kind, "body": {"text": _cut(text, MAX_INTERACTIVE_BODY)}, **extra}
    return {"type": "interactive", "interactive": body}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
