"""The baseline for bench/validate.py: a bare aiohttp JSON handler, nothing else.

python -m bench.bare_server PORT
"""

from __future__ import annotations

import json
import sys

from aiohttp import web


async def handle(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    return web.json_response({"numero": request.match_info["numero"], "recebido": body})


def main() -> None:
    app = web.Application()
    app.router.add_post("/api/v1/guias/{numero}/validacao", handle)
    print("listening", flush=True)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
