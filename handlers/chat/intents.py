"""What a linked beneficiary asked for, recognised case- and accent-insensitively."""

from __future__ import annotations

import enum
import unicodedata


class Intent(enum.Enum):
    TOKEN = "token"
    GUIDES = "guides"
    HELP = "help"
    HUMAN = "human"
    UNLINK = "unlink"
    START = "start"
    UNKNOWN = "unknown"


_SYNONYMS = {
    Intent.TOKEN: {
        "gerar token",
        "token",
        "codigo",
        "gerar codigo",
        "/token",
        "novo token",
        "codigo de seguranca",
        "gerar",
    },
    Intent.GUIDES: {"minhas guias", "guias", "/guias"},
    Intent.HELP: {"ajuda", "/ajuda", "/help", "menu", "oi", "ola"},
    Intent.HUMAN: {"atendente", "/atendente", "falar com atendente", "humano", "sab"},
    Intent.UNLINK: {"desvincular", "/desvincular", "sair"},
    Intent.START: {"/start"},
}
_LOOKUP = {phrase: intent for intent, phrases in _SYNONYMS.items() for phrase in phrases}


def normalise(text: str) -> str:
    """Lower case, no accents, no emoji or punctuation at the ends, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = "".join(c if c.isalnum() or c in " /" else " " for c in plain)
    return " ".join(plain.split())


def intent_of(text: str) -> Intent:
    return _LOOKUP.get(normalise(text), Intent.UNKNOWN)
