"""The development server (``python server.py``) on SIGTERM: it stops accepting and answers
the requests it already received (issue 26, item 5: it reset every request in flight)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest
import requests

from tests.conftest import LiveServer, free_port

from .support import FUZZ_SERVICE

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]


def test_dev_server_answers_requests_in_flight_on_sigterm():
    port = free_port()
    server = LiveServer(
        [sys.executable, "server.py", "--port", str(port)], cwd=FUZZ_SERVICE, port=port
    ).wait(45)
    replies: list = []

    def call():
        try:
            replies.append(requests.get(server.url + "/api/v1/slow?ms=800", timeout=20).status_code)
        except requests.RequestException as e:
            replies.append(type(e).__name__)

    try:
        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.3)  # all six are in the handler
        os.kill(server.proc.pid, signal.SIGTERM)
        for t in threads:
            t.join(30)
        assert replies == [200] * 6, replies
        assert server.proc.wait(20) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/ping", timeout=2)
    finally:
        server.stop()
