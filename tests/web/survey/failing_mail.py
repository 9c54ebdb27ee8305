"""A real Django e-mail backend whose mail server is down: every send raises SMTPException."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class MailServerDownBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Any) -> int:
        raise SMTPException("421 mail server down (test backend)")
