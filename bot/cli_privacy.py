"""`odontoken purge` and `odontoken beneficiaries export|erase`: retention and data subject
requests (token_core/privacy, docs/privacy.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.composition import running_services
from bot.purging import retention_periods
from bot.settings import Settings
from token_core import audit
from token_core.privacy import erasure, subject
from token_core.privacy.retention import purge, purge_and_record
from token_core.vocabulary import AuditKind

ACTOR = "cli"


def add_purge(sub: Any) -> None:
    one = sub.add_parser("purge", help="remove personal data past its retention period")
    one.add_argument(
        "--dry-run", action="store_true", help="print what would go (per table); change nothing"
    )
    one.set_defaults(handler=_purge)


def add_subject_requests(ben_sub: Any) -> None:
    export = ben_sub.add_parser("export", help="print as JSON everything held about a person")
    export.add_argument("carteirinha", metavar="CARTEIRINHA")
    export.add_argument(
        "--completo", action="store_true", help="mobile and e-mail in full (masked otherwise)"
    )
    export.set_defaults(handler=_export)
    erase = ben_sub.add_parser(
        "erase", help="remove a person's data, keep guides and a pseudonymised audit trail"
    )
    erase.add_argument("carteirinha", metavar="CARTEIRINHA")
    erase.add_argument(
        "--confirmar", action="store_true", help="erase (without it: print what would change)"
    )
    erase.set_defaults(handler=_erase)


async def _purge(settings: Settings, args: argparse.Namespace) -> int:
    periods = retention_periods(settings)
    async with running_services(settings, apply_migrations=True):
        if args.dry_run:
            counts = await purge(periods, dry_run=True)
        else:
            counts = await purge_and_record(periods, ACTOR)
    print("would remove (dry run, nothing changed):" if args.dry_run else "removed:")
    for line in counts.lines(periods):
        print(f"  {line}")
    if not args.dry_run:
        print(f"audited as {AuditKind.PRIVACY_PURGED.value}")
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    async with running_services(settings, apply_migrations=True):
        data = await subject.export(args.carteirinha, full_contacts=args.completo)
        if data is None:
            return _unknown(args.carteirinha)
        await audit.For(ACTOR, carteirinha=args.carteirinha).record(
            AuditKind.SUBJECT_EXPORTED, contatos_completos=args.completo
        )
    print(json.dumps(data, ensure_ascii=False, indent=2))
    if not args.completo:
        print("Contacts are masked; --completo prints them in full.", file=sys.stderr)
    return 0


async def _erase(settings: Settings, args: argparse.Namespace) -> int:
    card = args.carteirinha
    async with running_services(settings, apply_migrations=True) as services:
        planned = await erasure.plan(card, services.keyring)
        if planned is None:
            return _unknown(card)
        found, change = planned
        if args.confirmar:
            done = await erasure.erase(card, services.keyring, services.store, ACTOR)
            assert done is not None
            change = done
    if args.confirmar:
        print(f"erased {card}:")
    else:
        print(f"would erase {card} (nothing changed; run again with --confirmar):")
    for line in _erasure_lines(change, len(found.guides)):
        print(f"  {line}")
    return 0


def _erasure_lines(change: erasure.Erasure, guides: int) -> list[str]:
    return [
        f"beneficiary: name, CPF, mobile and e-mail removed; inactive "
        f"(name {erasure.ERASED_NAME!r}, CPF {erasure.ERASED_CPF})",
        f"chat_link: {change.chat_links} rows deleted",
        f"transcript_entry: {change.transcripts} rows deleted",
        f"conversation: {change.conversations} rows deleted",
        f"fraud_report: {change.fraud_reports} notes cleared, chat ids pseudonymised",
        f"audit_event: {change.audit_events} rows pseudonymised as {change.pseudonym}",
        f"outbox_event: {change.callback_events} payloads pseudonymised",
        f"guide: {guides} kept (the health-plan record)",
        "ephemeral store: every key about the card and its chats removed",
    ]


def _unknown(carteirinha: str) -> int:
    print(f"odontoken: no beneficiary with carteirinha {carteirinha}", file=sys.stderr)
    return 2
