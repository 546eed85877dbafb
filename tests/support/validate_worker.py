"""A second OS process that validates one code many times at once against shared
PostgreSQL + Redis. Reads the code from stdin, prints the statuses as JSON.

Usage: python -m tests.support.validate_worker DB_URL REDIS_PREFIX GUIDE COUNT START_AT [REDIS_URL]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bot.composition import assemble
from tests.support.backends import REDIS_URL, TEST_PEPPER
from token_core.codes.policy import TokenPolicy
from token_core.keyring import Keyring
from token_core.persistence.database import close_database, open_database
from token_core.storage.redis_store import RedisStore
from token_core.vocabulary import Channel


async def main(
    db_url: str, prefix: str, guide: str, count: int, start_at: float, redis_url: str
) -> None:
    code = sys.stdin.readline().strip()
    await open_database(db_url)
    store = RedisStore.from_url(redis_url, prefix)
    try:
        services = assemble(store, Keyring(TEST_PEPPER.encode()), TokenPolicy())
        await store.ping()
        await asyncio.sleep(max(start_at - time.time(), 0))
        results = await asyncio.gather(
            *(
                services.validator.validate(guide, code, Channel.SMS, actor=f"worker-{i}")
                for i in range(count)
            )
        )
        print(json.dumps([r.status.value for r in results]))
    finally:
        await store.close()
        await close_database()


if __name__ == "__main__":
    url, redis_prefix, numero, n, start = sys.argv[1:6]
    redis_url = sys.argv[6] if len(sys.argv) > 6 else REDIS_URL
    asyncio.run(main(url, redis_prefix, numero, int(n), float(start), redis_url))
