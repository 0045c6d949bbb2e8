"""`python server.py` (what `make run` serves) starts dynalite for the pet shop and stops it."""

from __future__ import annotations

import os
import sys
import time

import pytest
import requests

from tests.conftest import REPO, LiveServer, free_port

pytestmark = pytest.mark.slow


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def dev_server(data: str, monkeypatch) -> LiveServer:
    """python server.py with no PYM_DYNAMODB_URL: it must start its own dynalite."""
    for name in [k for k in os.environ if k.startswith("PYM_DYNAMODB_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYM_DYNAMODB_PATH", data)
    port = free_port()
    return LiveServer([sys.executable, "server.py", "--port", str(port)], cwd=REPO, port=port).wait(
        60
    )


def test_the_dev_server_starts_dynalite_and_serves_from_it(tmp_path, token_for, monkeypatch):
    data = str(tmp_path / "dynamodb")
    server = dev_server(data, monkeypatch)
    try:
        log = server.output()
        assert "x-persist: dynalite on http://127.0.0.1:" in log
        assert "created local table pets (Pet)" in log
        assert requests.get(server.url + "/pets/1", timeout=10).json()["name"] == "Rex"
        pet = {"name": "Dev", "species": "fish", "price": {"amount": 3.5, "currency": "EUR"}}
        from pymacaron.config import set_service_dir

        set_service_dir(REPO)  # the pet shop's jwt settings sign the token
        auth = {"Authorization": f"Bearer {token_for('staff')}"}
        created = requests.post(server.url + "/pets", json=pet, headers=auth, timeout=10).json()
        store_pids = children(server.proc.pid)
        assert store_pids, "no dynalite child process"
    finally:
        server.stop()
    time.sleep(0.5)
    assert not any(os.path.exists(f"/proc/{p}") for p in store_pids), "dynalite outlived the server"
    # the data are on disk: a new dev server sees the pet
    again = dev_server(data, monkeypatch)
    try:
        got = requests.get(f"{again.url}/pets/{created['id']}", timeout=10)
        assert got.status_code == 200 and got.json()["name"] == "Dev"
    finally:
        again.stop()
