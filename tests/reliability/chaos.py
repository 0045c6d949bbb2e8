"""``make chaos``: the issue-26 campaign's Goal figures, against the image's server
(``python -m pymacaron.serve``: granian, 2 workers) on 127.0.0.1, printed one line each.

- slow clients: 200 slow-body + 200 slow-header connections held 60 s; p99 of ``GET /ping``
  and of a normal ``POST`` meanwhile (Goal: under 100 ms);
- SIGTERM: 10 SIGTERMs under 16 keep-alive clients; requests sent and never answered
  (Goal: 0), and the access log against the answered count (Goal: equal);
- broker kills: Redis killed 10 times during enqueue load; acknowledged tasks never run
  (Goal: 0), see tests/tasks/brokerkill.py.

Exit status 1 when a Goal is missed. ``CHAOS_SECONDS`` / ``CHAOS_RUNS`` shorten it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from pymacaron.persist.local import Dynalite

from .keepalive import sigterm_under_keepalive
from .slowclients import slowloris
from .support import start_image_server

SECONDS = float(os.environ.get("CHAOS_SECONDS") or 60)
RUNS = int(os.environ.get("CHAOS_RUNS") or 10)
ACCESS = "pymacaron.access: GET /ping 200"


def slow_clients() -> bool:
    server = start_image_server()
    try:
        s = slowloris(server.port, bodies=200, headers=200, seconds=SECONDS)
    finally:
        server.stop()
    ok = all(s[k]["failed"] == 0 and s[k]["p99_ms"] < 100 for k in ("ping", "post"))
    print(
        f"chaos slow-clients: 200 slow-body + 200 slow-header for {SECONDS:g} s: "
        f"GET /ping n={s['ping']['n']} failed={s['ping']['failed']} p50={s['ping']['p50_ms']} ms "
        f"p99={s['ping']['p99_ms']} ms; POST n={s['post']['n']} failed={s['post']['failed']} "
        f"p50={s['post']['p50_ms']} ms p99={s['post']['p99_ms']} ms; "
        f"slow connections closed by the server: {s['body_closed_by_server']} body, "
        f"{s['header_closed_by_server']} header; Goal p99 < 100 ms: {'met' if ok else 'MISSED'}",
        flush=True,
    )
    print("chaos slow-clients detail:", json.dumps(s), flush=True)
    return ok


def sigterms() -> bool:
    total = {"sent": 0, "answered": 0, "unanswered": 0, "logged": 0}
    for _ in range(RUNS):
        server = start_image_server()
        try:
            counts = sigterm_under_keepalive(server.proc.pid, server.port, clients=16)
            server.proc.wait(30)
            logged = server.output().count(ACCESS) - 1  # start's one /ping
        finally:
            server.stop()
        for key in ("sent", "answered", "unanswered"):
            total[key] += counts[key]
        total["logged"] += logged
    ok = total["unanswered"] == 0 and total["logged"] == total["answered"]
    print(
        f"chaos sigterm: {RUNS} SIGTERMs under 16 keep-alive clients: sent={total['sent']} "
        f"answered={total['answered']} never answered={total['unanswered']} "
        f"access-log lines={total['logged']}; Goal 0 unanswered, log = answered: "
        f"{'met' if ok else 'MISSED'}",
        flush=True,
    )
    return ok


def broker_kills() -> bool:
    from tests.tasks.brokerkill import redis_kills

    result = redis_kills(kills=RUNS)
    ok = result["lost"] == 0
    print(
        f"chaos broker-kill: Redis killed {result['kills']} times during enqueue load: "
        f"acknowledged={result['acknowledged']} ran={result['ran']} lost={result['lost']} "
        f"(stalled workers replaced by the watchdog: {result['stalled_workers_replaced']}); "
        f"Goal 0 lost: {'met' if ok else 'MISSED'}",
        flush=True,
    )
    return ok


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        store = None
        if not os.environ.get("PYM_DYNAMODB_URL"):
            store = Dynalite(os.path.join(tmp, "data"), log_file=os.path.join(tmp, "d.log"))
            os.environ["PYM_DYNAMODB_URL"] = store.start().url
        try:
            results = [slow_clients(), sigterms()]
            if os.path.exists(
                os.path.join(os.path.dirname(__file__), "..", "tasks", "brokerkill.py")
            ):
                results.append(broker_kills())
        finally:
            if store is not None:
                store.stop()
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
