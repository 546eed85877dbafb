"""The dialogue before a chat is linked: own contact first, then the CPF."""

from __future__ import annotations

from handlers.chat import texts
from handlers.chat.state import DialogueState, StateStore
from token_core.chat.linking import ChatLinking, LinkStatus
from token_core.chat.messages import Incoming, Outgoing, Reply
from token_core.chat.redaction import looks_like_cpf
from token_core.errors import InvalidCpf, InvalidPhone
from token_core.registry.identity import Cpf, Mobile
from token_core.vocabulary import CHAT_CHANNELS, format_retry


def ask_contact(text: str) -> Outgoing:
    return Outgoing(text, ask_contact=texts.SHARE_CONTACT_BUTTON)


class LinkingFlow:
    def __init__(self, linking: ChatLinking, states: StateStore) -> None:
        self._linking = linking
        self._states = states

    async def handle(self, msg: Incoming, state: DialogueState) -> Reply:
        locked = await self._linking.locked_until(msg.channel, msg.chat_id)
        if locked is not None:
            return Reply((Outgoing(texts.LINK_LOCKED.format(hora=format_retry(locked))),))
        phone = msg.proven_phone or (msg.contact_phone if msg.contact_is_own else None)
        if msg.contact_phone and not msg.contact_is_own:
            return Reply((ask_contact(texts.SHARE_OWN_CONTACT),))
        if phone is not None:
            return await self._phone_proven(msg, phone, typed_cpf=msg.proven_phone is not None)
        if state.step == "awaiting_cpf" and state.phone_proof and msg.text:
            if not any(c.isdigit() for c in msg.text):
                return Reply((Outgoing(texts.ASK_CPF),))  # "ajuda", "oi": ask again, keep it
            return await self._cpf_typed(msg, state.phone_proof, msg.text)
        welcome = ask_contact(texts.WELCOME)
        if msg.text and looks_like_cpf(msg.text):  # a CPF typed too early is erased all the same
            return Reply((Outgoing(texts.CPF_DELETED, delete_message_id=msg.message_id), welcome))
        return Reply((welcome,))

    async def _phone_proven(self, msg: Incoming, phone: str, *, typed_cpf: bool) -> Reply:
        try:
            mobile = Mobile.parse(phone)
        except InvalidPhone:
            return Reply((Outgoing(texts.NOT_A_MOBILE),))
        proof = self._linking.phone_proof(mobile)
        await self._states.save(msg.channel, msg.chat_id, DialogueState("awaiting_cpf", proof))
        if typed_cpf and msg.text and any(c.isdigit() for c in msg.text):
            # WhatsApp proves the number with every message: a CPF may come right away.
            return await self._cpf_typed(msg, proof, msg.text)
        return Reply((Outgoing(texts.ASK_CPF, remove_keyboard=True),))

    async def _cpf_typed(self, msg: Incoming, proof: str, text: str) -> Reply:
        erase = Outgoing(texts.CPF_DELETED, delete_message_id=msg.message_id)
        try:
            cpf = Cpf.parse(text)
        except InvalidCpf:
            return Reply((erase, Outgoing(texts.CPF_INVALID)))
        result = await self._linking.link(msg.channel, msg.chat_id, proof, cpf)
        match result.status:
            case LinkStatus.LINKED:
                assert result.beneficiary is not None
                await self._states.clear(msg.channel, msg.chat_id)
                first_name = result.beneficiary.name.split()[0]
                canal = CHAT_CHANNELS.get(msg.channel, "chat")
                welcome = Outgoing(
                    texts.LINKED.format(nome=first_name, canal=canal), menu=texts.MENU
                )
                return Reply((erase, welcome))
            case LinkStatus.INACTIVE:
                await self._states.clear(msg.channel, msg.chat_id)
                return Reply((erase, Outgoing(texts.INACTIVE)))
            case LinkStatus.LOCKED:
                await self._states.clear(msg.channel, msg.chat_id)
                assert result.retry_at is not None
                hora = format_retry(result.retry_at)
                return Reply((erase, Outgoing(texts.LINK_LOCKED.format(hora=hora))))
        return Reply((erase, Outgoing(texts.NO_MATCH)))
