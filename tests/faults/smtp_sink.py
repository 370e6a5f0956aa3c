"""A small SMTP server for the fault tests: it accepts every message, records its recipients,
and can take its time over each one (`delay` before it answers the end of DATA), so that a test
can kill a worker while it is sending. Real SMTP over TCP: the worker uses Django's SMTP backend
(`EMAIL_URL=smtp://127.0.0.1:PORT`)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter


class _Handler(socketserver.StreamRequestHandler):
    server: SMTPSink._Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        sink = self.server.sink
        self.reply("220 sink ESMTP")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go on")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                if sink.delay:
                    time.sleep(sink.delay)
                sink.accepted(recipients)
                self.reply("250 accepted")
            elif verb == "RSET":
                recipients = []
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class SMTPSink:
    class _Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        sink: SMTPSink

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self._lock = threading.Lock()
        self.received: list[str] = []  # one entry per recipient of each accepted message
        self._server = self._Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def accepted(self, recipients: list[str]) -> None:
        with self._lock:
            self.received.extend(recipients)

    def counts(self) -> Counter:
        with self._lock:
            return Counter(self.received)

    def __enter__(self) -> SMTPSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
