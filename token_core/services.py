"""The bundle of core services the edges (API, chat, console) call into."""

from __future__ import annotations

from dataclasses import dataclass

from token_core.access.clients import ClientRegistry
from token_core.chat.fraud import FraudReports
from token_core.chat.linking import ChatLinking
from token_core.chat.transcripts import Transcripts
from token_core.codes.issuance import TokenIssuer
from token_core.codes.validation import TokenValidator
from token_core.delivery.sending import CodeSending
from token_core.guides.service import GuideService
from token_core.keyring import Keyring
from token_core.storage.ports import EphemeralStore
from token_core.support.agents import AgentRegistry
from token_core.support.desk import SabDesk


@dataclass(frozen=True, slots=True)
class Services:
    store: EphemeralStore
    keyring: Keyring
    guides: GuideService
    issuer: TokenIssuer
    validator: TokenValidator
    sending: CodeSending
    clients: ClientRegistry
    linking: ChatLinking
    transcripts: Transcripts
    fraud: FraudReports
    agents: AgentRegistry
    desk: SabDesk
