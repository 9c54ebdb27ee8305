"""Survey-link tokens never reach a log line.

A participant's link token is a password: whoever reads it can answer as them. It travels in
the URL path (``/s/<token>/...`` and ``/api/survey/<token>/fhir``), so request paths show up
in gunicorn's access log, in Django's "Not Found" warnings and in runserver's request lines.
``RedactLinkTokens`` rewrites every record's message with the token replaced; Django calls
``configure_logging`` (settings.LOGGING_CONFIG) in every process, which puts the filter on
every handler that exists then, including gunicorn's when Django runs inside it.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

__all__ = ["REDACTED", "RedactLinkTokens", "configure_logging", "redact_link_tokens"]

REDACTED = "[token]"

# "/s/<token>" and "/api/survey/<token>", also percent-encoded (a ?next= parameter) and in
# full URLs (a Referer). The token runs to the next separator.
_LINK_TOKEN = re.compile(
    r"(?P<prefix>(?:/|%2F)(?:s|api(?:/|%2F)survey)(?:/|%2F))(?P<token>(?:(?!%2F)[^/\s?#\"'<>])+)",
    re.IGNORECASE,
)

# gunicorn configures these before Django starts; a filter on the logger itself also covers
# handlers gunicorn creates later (log reopening).
_GUNICORN_LOGGERS = ("gunicorn.access", "gunicorn.error")


def redact_link_tokens(text: str) -> str:
    return _LINK_TOKEN.sub(lambda match: match["prefix"] + REDACTED, text)


class RedactLinkTokens(logging.Filter):
    """Replaces survey-link tokens in the formatted message (and any exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_link_tokens(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_link_tokens(record.exc_text)
        return True


_FILTER = RedactLinkTokens()


def configure_logging(config: dict[str, Any]) -> None:
    """``dictConfig`` (settings.LOGGING), then the token filter on every handler and on
    gunicorn's loggers: Django's own default handlers are configured before ours."""
    logging.config.dictConfig(config)
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            handler.addFilter(_FILTER)
    for name in _GUNICORN_LOGGERS:
        logging.getLogger(name).addFilter(_FILTER)
