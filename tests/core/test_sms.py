"""The SMS backends: the console one writes one line per message, the HTTP gateway adapter posts
JSON to a real (tiny, local) HTTP server and treats anything but 2xx as a failure."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from core import sms


def test_console_backend_writes_one_line_per_message_to_its_stream():
    out = io.StringIO()
    backend = sms.ConsoleBackend(stream=out)
    first = backend.send("13907430001", "第一条\n两行")
    second = backend.send("13907430002", "second")
    lines = out.getvalue().splitlines()
    assert lines == [f"{first}\t13907430001\t第一条 两行", f"{second}\t13907430002\tsecond"]
    assert first != second


def test_file_url_appends_to_the_file(settings, tmp_path):
    path = tmp_path / "sms.txt"
    settings.SMS_URL = f"file://{path}"
    sms.sms_send("13907430001", "one")
    sms.sms_send("13907430001", "two")
    assert [line.split("\t")[2] for line in path.read_text().splitlines()] == ["one", "two"]


def test_console_url_prints_to_standard_output(settings, capsys):
    settings.SMS_URL = "console://"
    sms.sms_send("13907430001", "hello")
    assert "\t13907430001\thello" in capsys.readouterr().out


def test_empty_url_means_no_text_messages(settings):
    settings.SMS_URL = ""
    assert not sms.sms_enabled()
    with pytest.raises(sms.SmsError):
        sms.sms_send("13907430001", "hello")


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError):
        sms.backend_from_url("smtp://x")


class _Gateway(BaseHTTPRequestHandler):
    status = 200
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers["Content-Length"])
        type(self).received.append(
            {"key": self.headers.get("X-Api-Key"), "body": json.loads(self.rfile.read(length))}
        )
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": "gw-1"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    _Gateway.received = []
    _Gateway.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Gateway)  # port 0: a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/send", _Gateway
    server.shutdown()
    server.server_close()


def test_http_gateway_posts_phone_text_and_sign_with_the_api_key(settings, gateway):
    url, handler = gateway
    settings.SMS_URL = url
    settings.SMS_API_KEY = "k-123"
    settings.SMS_SIGN = "物业登记"
    assert sms.sms_send("13907430001", "提醒") == "gw-1"
    assert handler.received == [
        {"key": "k-123", "body": {"phone": "13907430001", "text": "提醒", "sign": "物业登记"}}
    ]


@pytest.mark.parametrize("status", [400, 500, 503])
def test_http_gateway_answer_other_than_2xx_is_a_failure(settings, gateway, status):
    url, handler = gateway
    handler.status = status
    settings.SMS_URL = url
    with pytest.raises(sms.SmsError, match=str(status)):
        sms.sms_send("13907430001", "提醒")


def test_http_gateway_unreachable_is_a_failure(settings):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    port = server.server_port
    server.server_close()  # nothing listens on that port any more
    settings.SMS_URL = f"http://127.0.0.1:{port}/send"
    settings.SMS_TIMEOUT = 1
    with pytest.raises(sms.SmsError, match="unreachable"):
        sms.sms_send("13907430001", "提醒")
