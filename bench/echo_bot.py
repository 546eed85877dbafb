"""The baseline for bench/chat.py: a stock python-telegram-bot 22 echo bot inside aiohttp.

Application.builder() with no Updater and PTB's own HTTPXRequest; a MessageHandler answers every
text with the same text; POST /webhooks/telegram checks the secret header and feeds the update
queue, as PTB's custom-webhook examples do.

    python -m bench.echo_bot PORT BOT_API_BASE_URL TOKEN SECRET
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import AsyncIterator

from aiohttp import web
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

APPLICATION = web.AppKey("application", Application)


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text:
        await update.message.reply_text(update.message.text)


def build(base_url: str, token: str, secret: str) -> web.Application:
    app = web.Application()

    async def webhook(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        application = request.app[APPLICATION]
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return web.json_response({"ok": True})

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        application = Application.builder().token(token).base_url(base_url).updater(None).build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        app[APPLICATION] = application
        async with application:
            await application.start()
            yield
            await application.stop()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhooks/telegram", webhook)
    return app


def main() -> None:
    port, base_url, token, secret = sys.argv[1:5]
    web.run_app(
        build(base_url, token, secret),
        host="127.0.0.1",
        port=int(port),
        print=lambda _: print("listening", flush=True),
        access_log=None,
    )


if __name__ == "__main__":
    main()
