"""The store killed under the image's server (granian, 2 workers): reads get a clean 503
``PERSIST_UNAVAILABLE`` that never shows the store's internal address, and the service
answers again once the store is back (issue 26, item 9)."""

from __future__ import annotations

import time

import pytest
import requests

from pymacaron.persist.local import Dynalite

from .support import start_image_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]


def test_a_dead_store_is_a_503_without_its_address(tmp_path):
    store = Dynalite(str(tmp_path / "data"), log_file=str(tmp_path / "dynalite.log")).start()
    server = start_image_server(env={"PYM_DYNAMODB_URL": store.url})
    try:
        assert requests.get(server.url + "/pets/1", timeout=20).status_code == 200
        port = store.port
        store.stop()
        reply = requests.get(server.url + "/pets/1", timeout=30)
        assert reply.status_code == 503, reply.text
        body = reply.json()
        assert body["error"] == "PERSIST_UNAVAILABLE", body
        assert str(port) not in reply.text and "127.0.0.1" not in reply.text, reply.text
        assert "http://" not in reply.text, reply.text
        # the same store back on its port: answers again
        store = Dynalite(
            str(tmp_path / "data"), log_file=str(tmp_path / "dynalite2.log"), port=port
        ).start()
        deadline = time.monotonic() + 30
        status = 0
        while time.monotonic() < deadline and status != 200:
            status = requests.get(server.url + "/pets/1", timeout=20).status_code
            time.sleep(0.2)
        assert status == 200
    finally:
        server.stop()
        store.stop()
