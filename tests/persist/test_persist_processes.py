"""Real server processes on one dynalite: they agree on the data; a store that dies
mid-request is a 503 and leaves nothing half-written."""

from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pymacaron.persist.local import Dynalite
from tests.conftest import LiveServer, free_port, fresh_tables, gunicorn_cmd

from .conftest import SERVICE

pytestmark = pytest.mark.slow


def start_server(env: dict, workers: int = 1) -> LiveServer:
    port = free_port()
    return LiveServer(gunicorn_cmd(port, workers=workers), cwd=SERVICE, port=port, env=env).wait()


def test_two_server_processes_agree_on_the_data(dynalite):
    env = {"PYM_DYNAMODB_URL": dynalite.url, "PYM_DYNAMODB_TABLE_PREFIX": fresh_tables("two")}
    a = start_server(env)
    try:
        b = start_server(env)
        try:
            put = requests.put(
                a.url + "/records/shared",
                json={"id": "shared", "count": 1, "ratio": 0.5, "owner": {"name": "A"}},
                timeout=10,
            )
            assert put.status_code == 200, put.text
            got = requests.get(b.url + "/records/shared", timeout=10)
            assert got.status_code == 200 and got.json() == put.json()
            requests.put(b.url + "/records/shared", json={"id": "shared", "count": 2}, timeout=10)
            assert requests.get(a.url + "/records/shared", timeout=10).json()["count"] == 2

            # 40 concurrent read-modify-write increments, half through each process:
            # every 200 is counted exactly once, every loser is a 409 PERSIST_CONFLICT.
            def hit(i):
                server = (a, b)[i % 2]
                r = requests.post(server.url + "/counters/c/increment", timeout=20)
                return r.status_code, r.json().get("error"), r.text

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(hit, range(40)))
            ok = sum(1 for status, _, _ in results if status == 200)
            conflicts = [e for status, e, _ in results if status == 409]
            assert ok + len(conflicts) == 40, results
            assert set(conflicts) <= {"PERSIST_CONFLICT"}
            final = requests.get(b.url + "/counters/c", timeout=10).json()
            assert final["value"] == ok and final["version"] == ok
        finally:
            b.stop()
    finally:
        a.stop()


def _whole_request(sock: socket.socket, data: bytes) -> bytes:
    """The rest of an HTTP request whose first bytes are ``data`` (by Content-Length)."""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


class HoldingProxy:
    """A TCP proxy in front of dynalite that can hold requests (to stop dynalite mid-request)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.holding = threading.Event()
        self.seen = threading.Event()
        self.released = threading.Event()
        self.closed = False
        self.target = b"DynamoDB_20120810.PutItem"  # the request to hold
        self.drop_response = threading.Event()
        self.dropped = b""
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        upstream = None
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    return
                if self.holding.is_set() and self.target in data:
                    self.seen.set()
                    self.released.wait(20)
                if self.drop_response.is_set() and self.target in data:
                    # deliver the request, lose its response (the connection drops)
                    self.drop_response.clear()
                    data = _whole_request(client, data)
                    with socket.create_connection(("127.0.0.1", self.upstream_port), 5) as up:
                        up.sendall(data)
                        self.dropped = up.recv(65536)
                    return
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port), 2)
                    threading.Thread(
                        target=self._back, args=(upstream, client), daemon=True
                    ).start()
                upstream.sendall(data)
        except OSError:
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    @staticmethod
    def _back(upstream: socket.socket, client: socket.socket):
        try:
            while data := upstream.recv(65536):
                client.sendall(data)
        except OSError:
            pass
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.sock.close()


def test_dynalite_stopped_mid_request_is_a_503_and_nothing_is_half_written(tmp_path):
    store = Dynalite(str(tmp_path / "data"), log_file=str(tmp_path / "dynalite.log")).start()
    proxy = HoldingProxy(store.port)
    env = {"PYM_DYNAMODB_URL": proxy.url, "PYM_DYNAMODB_TABLE_PREFIX": "mid-"}
    server = start_server(env)
    try:
        before = {"id": "kept", "count": 1, "tags": ["x"], "owner": {"name": "K"}}
        assert requests.put(server.url + "/records/kept", json=before, timeout=10).ok
        # hold the next request inside the proxy, kill dynalite, then let it through
        proxy.holding.set()
        result = {}

        def put():
            result["reply"] = requests.put(
                server.url + "/records/lost",
                json={"id": "lost", "count": 2, "contacts": [{"name": "A"}, {"name": "B"}]},
                timeout=60,
            )

        worker = threading.Thread(target=put)
        worker.start()
        assert proxy.seen.wait(10), "the request never reached the store"
        store.kill()
        proxy.holding.clear()
        proxy.released.set()
        worker.join(60)
        reply = result["reply"]
        assert reply.status_code == 503, reply.text
        body = reply.json()
        assert body["error"] == "PERSIST_UNAVAILABLE"
        assert "cannot be reached" in body["error_description"]
        assert "Traceback" not in reply.text
        # while it is down, reads are 503 too (not 404: the server does not know)
        down = requests.get(server.url + "/records/kept", timeout=60)
        assert down.status_code == 503 and down.json()["error"] == "PERSIST_UNAVAILABLE"
        # back on the same data: the earlier record is whole, the interrupted one absent
        store = Dynalite(store.path, port=store.port, log_file=store.log_file).start()
        kept = requests.get(server.url + "/records/kept", timeout=20)
        assert kept.status_code == 200 and kept.json() == before
        lost = requests.get(server.url + "/records/lost", timeout=20)
        assert lost.status_code == 404 and lost.json()["error"] == "RECORD_NOT_FOUND"
        log = server.output()
        assert "PUT /records/lost 503" in log and " 500 " not in log
    finally:
        server.stop()
        proxy.close()
        store.stop()


def test_a_write_whose_response_was_lost_is_retried_without_a_false_conflict(tmp_path):
    """The PutItem reaches the store but its response is lost: the SDK retries, the retry's
    condition fails on our own write, and the save is recognised as done (not a 409)."""
    store = Dynalite(str(tmp_path / "data")).start()
    proxy = HoldingProxy(store.port)
    server = start_server({"PYM_DYNAMODB_URL": proxy.url, "PYM_DYNAMODB_TABLE_PREFIX": "lost-"})
    try:
        proxy.drop_response.set()
        first = requests.post(server.url + "/counters/n/increment", timeout=30)
        assert b"HTTP/1.1 200" in proxy.dropped, "the store did not get the first attempt"
        assert first.status_code == 200, first.text
        assert first.json() == {"name": "n", "value": 1, "version": 1}
        again = requests.post(server.url + "/counters/n/increment", timeout=30)
        assert again.json() == {"name": "n", "value": 2, "version": 2}
    finally:
        server.stop()
        proxy.close()
        store.stop()


def test_two_pet_shops_see_the_same_pets(dynalite, tmp_path, token_for):
    """The example: two pet shop servers, as on two hosts (each its own TMPDIR, where the
    old per-host SQLite file lived), one DynamoDB: a pet added on one is served by the other."""
    from tests.conftest import REPO, table_prefix

    prefix = table_prefix("shops")
    servers = []
    try:
        for host in ("a", "b"):
            (tmp_path / host).mkdir()
            port = free_port()
            env = {"PYM_DYNAMODB_TABLE_PREFIX": prefix, "TMPDIR": str(tmp_path / host)}
            servers.append(
                LiveServer(gunicorn_cmd(port, workers=2), cwd=REPO, port=port, env=env).wait()
            )
        a, b = servers
        from pymacaron.config import set_service_dir

        set_service_dir(REPO)  # the pet shop's jwt settings sign the token
        auth = {"Authorization": f"Bearer {token_for('staff')}"}
        pet = {"name": "Roamer", "species": "dog", "price": {"amount": 99.5, "currency": "EUR"}}
        created = requests.post(a.url + "/pets", json=pet, headers=auth, timeout=10)
        assert created.status_code == 201, created.text
        pet_id = created.json()["id"]
        for _ in range(6):  # new connections: both of b's workers answer
            got = requests.get(
                f"{b.url}/pets/{pet_id}", headers={"Connection": "close"}, timeout=10
            )
            assert got.status_code == 200 and got.json()["name"] == "Roamer"
        listed = requests.get(b.url + "/pets?status=available&limit=100", timeout=10).json()
        assert pet_id in [p["id"] for p in listed]
        # ids handed out by both shops at once never collide
        with ThreadPoolExecutor(6) as pool:
            replies = list(
                pool.map(
                    lambda i: requests.post(
                        servers[i % 2].url + "/pets", json=pet, headers=auth, timeout=20
                    ),
                    range(6),
                )
            )
        assert [r.status_code for r in replies] == [201] * 6
        assert len({r.json()["id"] for r in replies}) == 6
    finally:
        for server in servers:
            server.stop()
