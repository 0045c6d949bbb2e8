"""SIGTERM to the image's server (granian, 2 workers) under 16 keep-alive clients: every
request written whole is answered, every connection ends after a ``Connection: close``
reply, and the access log has exactly the answered requests (issue 26, item 5: 1–2
requests per SIGTERM were sent and never answered). ``make chaos`` runs 10 SIGTERMs."""

from __future__ import annotations

import pytest

from .keepalive import sigterm_under_keepalive
from .support import start_image_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

ACCESS = "pymacaron.access: GET /ping 200"


def sigterm_runs(runs: int) -> dict:
    total = {"sent": 0, "answered": 0, "unanswered": 0, "logged": 0}
    for _ in range(runs):
        server = start_image_server()
        try:
            counts = sigterm_under_keepalive(server.proc.pid, server.port, clients=16)
            server.proc.wait(30)
            logged = server.output().count(ACCESS) - 1  # the one /ping of start's wait
        finally:
            server.stop()
        for key in ("sent", "answered", "unanswered"):
            total[key] += counts[key]
        total["logged"] += logged
        # each connection told before it ended (a connection queued before the listener
        # stopped is accepted and answered too: one more)
        assert counts["closes"] >= 16, counts
    return total


def test_sigterm_under_keepalive_drops_nothing():
    total = sigterm_runs(2)  # 10 in `make chaos`; each run starts a server (~8 s)
    print("SIGTERM x2 under 16 keep-alive clients:", total)
    assert total["sent"] > 100, total
    assert total["unanswered"] == 0, total
    assert total["logged"] == total["answered"], total
