"""The WhatsApp side of bench/chat.py: the Graph API peer with arrival times, signed webhook
notifications from distinct senders, linked senders seeded with the chat ids the adapter
computes, and the WhatsApp-only server to measure.

Every sender has its own number (`wa_id`), so every message is its own chat, as on Telegram. An
unlinked sender's first message ("oi", WhatsApp's "/start") gets the CPF question; "minhas
guias" and "gerar token" come from senders linked beforehand. "gerar token" answers in two
messages (the authentication template with the code, then the guide it is for with its
"Não reconheço" button): its reply counts when the second one reaches the peer.
"""

from __future__ import annotations

import argparse
import itertools
import random
from typing import Any

from bench.chat_load import Replies, Send, Sends
from bench.chat_procs import Server
from bench.seeding import beneficiaries_with_guides
from bot.whatsapp import whatsapp_sealer
from integrations.whatsapp.addresses import Address
from tests.peers.graph_api import GraphApi
from tests.support.chat_drivers import whatsapp_settings
from token_core.keyring import Keyring
from token_core.persistence.models import ChatLink
from token_core.vocabulary import Channel

# Brazilian mobiles, 55 41 9xxxx-xxxx, from a random start: a fresh one for every sender.
_numbers = itertools.count(random.randrange(10**7, 5 * 10**7))


class TimedGraphApi(GraphApi):
    """The Graph API peer; `replies` times every message it accepts (after Meta's checks)."""

    def __init__(self) -> None:
        super().__init__()
        self.replies = Replies()

    def _content(self, body: dict[str, Any], who: str) -> None:
        super()._content(body, who)  # raises GraphError for what Meta would refuse
        kind = body.get("type", "text")
        if kind == "text":
            text = body["text"]["body"]
        elif kind == "interactive":
            text = body["interactive"]["body"]["text"]
        else:
            text = f"({kind})"
        self.replies.arrived(who, text)

    def sends(self, senders: list[str], text: str, messages: int = 1) -> Sends:
        """One signed notification per sender, each with one text message."""
        out = []
        for who in senders:
            body, headers = self.signed(self.payload(self.text(who, text)))
            del headers["Content-Type"]  # the load's own
            out.append(Send(who, body, headers, messages))
        return out


def new_senders(count: int) -> list[str]:
    return [f"55419{n:08d}" for n in itertools.islice(_numbers, count)]


def whatsapp_env(peer: GraphApi) -> dict[str, str]:
    """The server's `whatsapp` section as the tests configure it (tests/support/chat_drivers)."""
    settings = whatsapp_settings(peer)
    return {f"ODONTOKEN_WHATSAPP__{key.upper()}": str(value) for key, value in settings.items()}


async def seed_linked_whatsapp(count: int, keyring: Keyring) -> tuple[list[str], list[str]]:
    """`count` beneficiaries with one guide awaiting a token, each linked to two senders (the
    first list asks "minhas guias", the second "gerar token"), under the chat id the adapter
    computes from the number with the server's pepper."""
    sealer = whatsapp_sealer(keyring)
    ids = [b for b, _ in await beneficiaries_with_guides(count, keyring)]
    guias, token = new_senders(count), new_senders(count)
    links = []
    for senders in (guias, token):
        for wa_id, beneficiary in zip(senders, ids, strict=True):
            chat_id = sealer.chat_id(Address(wa_id=wa_id))
            assert chat_id is not None
            links.append(
                ChatLink(channel=Channel.WHATSAPP, chat_id=chat_id, beneficiary_id=beneficiary)
            )
    await ChatLink.bulk_create(links, batch_size=1000)
    return guias, token


def whatsapp_server(
    args: argparse.Namespace,
    peer: TimedGraphApi,
    port: int,
    cmd: list[str],
    env: dict[str, str],
    linked: tuple[list[str], list[str]],
    spy: str,
) -> Server:
    """The WhatsApp-only server and its loads, as Telegram's: the first message, "minhas guias"
    and "gerar token" in closed loop, then the first message paced."""
    guias, token = linked
    return Server(
        name="odontoken whatsapp",
        cmd=cmd,
        env=env,
        ready="listening on",
        url=f"http://127.0.0.1:{port}/webhooks/whatsapp",
        headers={},  # each notification carries its own signature
        replies=peer.replies,
        warm_up=peer.sends(new_senders(100), "Oi"),
        runs=[
            ("oi", peer.sends(new_senders(args.chats), "Oi")),
            ("minhas guias", peer.sends(guias, "Minhas guias")),
            ("gerar token", peer.sends(token, "Gerar token", messages=2)),
        ],
        paced=("oi", peer.sends(new_senders(int(args.rate * args.seconds)), "Oi")),
        spy=spy,
    )
