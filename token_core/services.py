"""The bundle of core services the edges (API, chat, console) call into."""

from __future__ import annotations

from dataclasses import dataclass

from token_core.clients import ClientRegistry
from token_core.fraud import FraudReports
from token_core.guides import GuideService
from token_core.issuance import TokenIssuer
from token_core.linking import ChatLinking
from token_core.secrets import Keyring
from token_core.sending import CodeSending
from token_core.storage.ports import EphemeralStore
from token_core.transcripts import Transcripts
from token_core.validation import TokenValidator


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
