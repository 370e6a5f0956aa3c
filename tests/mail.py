"""An e-mail backend for tests whose mail server refuses everything."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPException("mail server refused the message")
