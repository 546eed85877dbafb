"""Every log line masked like a transcript: codes, CPFs and phone numbers in whatever form
they were typed (token_core/chat/redaction.py). `configure_logging` puts `RedactingFilter` on the
service's handler, so a value that reached a log call by mistake is still not written.
"""

from __future__ import annotations

import logging

from token_core.chat.redaction import mask_sensitive

_TRACEBACKS = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Masks a record's message (formatted with its args), its traceback and its stack.

    Cheap on the usual line: one formatting (which the handler then reuses) and, for ASCII
    text with fewer than six digits, nothing more. A record whose message changed carries the
    masked text as `msg` with no `args`; its traceback is cached masked (`exc_text`), which
    formatters print instead of formatting the exception again.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: the handler reports it
            return True
        masked = mask_sensitive(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Formatters print a cached exc_text instead of formatting exc_info again; exc_info
            # itself stays for any other handler that wants the exception object.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_sensitive(record.stack_info)
        return True
