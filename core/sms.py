"""Text messages (SMS): one backend module for the whole portal, chosen by `SMS_URL`.

Core knows no app: the notices (notifications) and the phone verification codes (accounts) both
send through `sms_send`. A backend has one method, `send(phone, text) -> str`, which returns the
gateway's message id and raises `SmsError` on any failure.

- ``console://`` writes one line per message to standard output (the development default);
- ``file:///absolute/path`` appends one line per message to that file (tests, a real worker);
- ``https://gateway.example.cn/send`` (or ``http://``) posts JSON ``{phone, text, sign}`` to the
  gateway with the key of `SMS_API_KEY` in the ``X-Api-Key`` header, `SMS_TIMEOUT` seconds at most;
  an answer other than 2xx is a failure. The message id is the answer's ``id`` (or ``message_id``);
- empty: no text messages at all (`sms_enabled()` is False).
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.error
import urllib.request
import uuid
from typing import Protocol, TextIO
from urllib.parse import unquote, urlsplit

from django.conf import settings


class SmsError(Exception):
    """The message was not accepted (the gateway refused it, did not answer, or SMS is off)."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> str: ...


def _line(phone: str, text: str, message_id: str) -> str:
    # One message, one line: line breaks of the text are kept visible but never split it.
    return f"{message_id}\t{phone}\t{text.replace(chr(13), ' ').replace(chr(10), ' ')}\n"


class ConsoleBackend:
    """Writes each message as one line ``<id>\\t<phone>\\t<text>`` to a stream (standard output
    by default) or appends it to a file."""

    _lock = threading.Lock()

    def __init__(self, *, path: str | None = None, stream: TextIO | None = None) -> None:
        self.path = path
        self.stream = stream

    def send(self, phone: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        line = _line(phone, text, message_id)
        if self.path:
            # One write of one line in append mode: lines of several processes never interleave.
            with self._lock, open(self.path, "a", encoding="utf-8") as out:
                out.write(line)
        else:
            stream = self.stream or sys.stdout
            stream.write(line)
            stream.flush()
        return message_id


class HttpGatewayBackend:
    """The production adapter: one POST of JSON per message to the gateway's URL."""

    def __init__(self, url: str, *, api_key: str, sign: str, timeout: float) -> None:
        self.url = url
        self.api_key = api_key
        self.sign = sign
        self.timeout = timeout

    def send(self, phone: str, text: str) -> str:
        body = json.dumps(
            {"phone": phone, "text": text, "sign": self.sign}, ensure_ascii=False
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "X-Api-Key": self.api_key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            raise SmsError(f"gateway answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:  # refused, timed out, bad address
            raise SmsError(f"gateway unreachable: {type(exc).__name__}: {exc}") from exc
        if not 200 <= status < 300:
            raise SmsError(f"gateway answered HTTP {status}")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        return str(answer.get("id") or answer.get("message_id") or "")


def backend_from_url(url: str) -> SmsBackend | None:
    """The backend an `SMS_URL` names; None when it is empty (SMS off)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "console":
        return ConsoleBackend()
    if parts.scheme == "file":
        return ConsoleBackend(path=unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return HttpGatewayBackend(
            url,
            api_key=settings.SMS_API_KEY,
            sign=settings.SMS_SIGN,
            timeout=settings.SMS_TIMEOUT,
        )
    raise ValueError(f"SMS_URL: unknown scheme {parts.scheme!r}")


def sms_enabled() -> bool:
    return bool(settings.SMS_URL)


def sms_send(phone: str, text: str) -> str:
    """Send one text message through the configured backend; the gateway's message id."""
    backend = backend_from_url(settings.SMS_URL)
    if backend is None:
        raise SmsError("SMS is off (SMS_URL is empty)")
    return backend.send(phone, text)
