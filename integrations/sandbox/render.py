"""The dialogue's `Outgoing` as the events the sandbox page draws: the text, the buttons (each a
real button: a callback, or "copy" with the code), the menu of shortcuts, the contact button.
A message with a code carries it in its text, as on Telegram, and its expiry, when the page
takes the code away.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from token_core.chat.messages import Outgoing
from token_core.vocabulary import iso_utc


def message_event(out: Outgoing, replaced: Mapping[str, str]) -> dict[str, Any]:
    buttons = [
        [
            {"rotulo": b.label, "copiar": b.copy_code.reveal()}
            if b.copy_code is not None
            else {"rotulo": b.label, "dados": b.data}
            for b in row
        ]
        for row in out.buttons
    ]
    return {
        "tipo": "mensagem",
        "id": uuid.uuid4().hex,
        "texto": replaced.get(out.text, out.text),
        "botoes": buttons,
        "menu": list(out.menu),
        "tirar_menu": out.remove_keyboard,
        "contato": out.ask_contact,
        "expira_em": iso_utc(out.expires_at) if out.expires_at else None,
    }


def deleted_event(message_id: str) -> dict[str, Any]:
    """The person's own message taken away (the CPF they typed)."""
    return {"tipo": "apagada", "id": message_id}


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False)
