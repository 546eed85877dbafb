"""`Outgoing` → Bot API calls: text, inline buttons (copy, callbacks), contact request, menu."""

from __future__ import annotations

from telegram import (
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from token_core.chat.messages import Outgoing

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def reply_markup(out: Outgoing) -> Markup:
    if out.buttons:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(b.label, copy_text=CopyTextButton(b.copy_code.reveal()))
                    if b.copy_code is not None
                    else InlineKeyboardButton(b.label, callback_data=b.data)
                    for b in row
                ]
                for row in out.buttons
            ]
        )
    if out.ask_contact:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(out.ask_contact, request_contact=True)]],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
    if out.menu:
        rows = [list(out.menu[i : i + 2]) for i in range(0, len(out.menu), 2)]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)
    if out.remove_keyboard:
        return ReplyKeyboardRemove()
    return None
