"""A plaintext code and a full CPF exist only in the delivery message: never at rest or in logs."""

from __future__ import annotations

import logging

import pytest

from bot.composition import assemble
from bot.log_format import RequestIdFilter, formatter
from bot.logs import pin_parameter_loggers
from tests.conftest import World
from tests.support import backends
from token_core.codes.policy import TokenPolicy
from token_core.codes.validation import ValidationStatus
from token_core.keyring import Keyring
from token_core.registry.identity import Cpf, Mobile
from token_core.storage.memory import InProcessStore
from token_core.storage.ports import EphemeralStore
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import Channel

# Eight digits: a six-digit code could turn up by chance in microsecond timestamps of the dump.
POLICY = TokenPolicy(digits=8)


async def dump_store(store: EphemeralStore) -> str:
    if isinstance(store, RedisStore):
        return repr(await backends.redis_dump(store.prefix))
    assert isinstance(store, InProcessStore)
    return repr(store.snapshot())


async def test_issue_and_validate_leave_no_code_or_cpf_in_store_database_or_logs(
    store: EphemeralStore,
    keyring: Keyring,
    world: World,
    database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pin_parameter_loggers()  # what configure_logging does at start-up
    caplog.set_level(logging.DEBUG)
    services = assemble(store, keyring, POLICY)
    cpf = Cpf.parse(backends_cpf := "529.982.247-25")
    phone = Mobile.parse("(41) 98857-5949")
    ben = await world.beneficiary(cpf=backends_cpf, mobile="(41) 98857-5949")
    guide = await world.guide(ben)

    issued = await services.issuer.for_guide(guide.numero, Channel.SMS, actor="sio")
    await services.issuer.record_delivery(issued, Channel.SMS, actor="sio")
    spent = issued.code.reveal()
    wrong = f"{(int(spent) + 1) % 10**8:08d}"
    assert (
        await services.validator.validate(guide.numero, wrong, Channel.SMS, "sio")
    ).status is ValidationStatus.INVALID
    assert (await services.validator.validate(guide.numero, spent, Channel.SMS, "sio")).ok
    live = (await services.issuer.for_beneficiary(ben.carteirinha, Channel.APP, "app")).code

    store_text = await dump_store(store)
    db_text = await backends.database_dump(database)
    log_text = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    # The lines as the service writes them, in both formats (app.log_format).
    stamp = RequestIdFilter()
    lines = {
        name: "\n".join(formatter(name).format(r) for r in caplog.records if stamp.filter(r))
        for name in ("plain", "json")
    }

    # The dumps are real: they hold what the flow wrote, masked.
    assert ben.carteirinha in store_text and ":used:" in store_text
    assert cpf.masked in db_text and guide.numero in db_text
    assert "token.validated" in log_text

    secrets = {
        "spent code": spent,
        "wrong code": wrong,
        "live code": live.reveal(),
        "CPF digits": cpf.digits,
        "CPF formatted": cpf.formatted,
    }
    texts = {"store": store_text, "database": db_text, "logs": log_text}
    texts |= {f"{name} log lines": text for name, text in lines.items()}
    assert all("token.validated" in text for text in lines.values())
    for where, text in texts.items():
        for what, value in secrets.items():
            assert value not in text, f"{what} found in {where}"
    for text in (log_text, *lines.values()):
        assert phone.e164 not in text and phone.e164[3:] not in text
