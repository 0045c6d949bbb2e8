"""Slow clients against a live server on 127.0.0.1, and the latency of normal requests
meanwhile: :func:`slowloris` holds ``bodies`` connections that send a POST's headers then
one body byte every ``interval`` s, and ``headers`` connections that send a header line
byte by byte, reopening any the server closes, while a probe thread sends ``GET /ping``
and a normal ``POST`` one after the other on new connections, and times them."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time

POST_PATH = "/adoption/v1/applications"
POST_BODY = json.dumps({"home": "house", "animal_id": 1, "garden": True, "notes": None})
POST_HEADERS = {"Content-Type": "application/json", "Cookie": "adopter=abcd"}


async def _slow(port: int, head: bytes, drip: bytes, interval: float, stop, counts, kind):
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), interval * 2
            )
        except (OSError, TimeoutError):
            counts[kind + "_refused"] += 1
            await asyncio.sleep(interval)
            continue
        counts[kind + "_opened"] += 1
        try:
            writer.write(head)
            await writer.drain()
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(65536), interval)
                except TimeoutError:
                    writer.write(drip)
                    await asyncio.wait_for(writer.drain(), interval)
                    continue
                if not data:
                    counts[kind + "_closed_by_server"] += 1
                    break
                counts[kind + "_answered"] += 1  # a refusal (408...): read on to the close
        except (OSError, TimeoutError):
            counts[kind + "_closed_by_server"] += 1
        finally:
            writer.close()


def probe(port: int, stop: threading.Event, out: dict, pause: float = 0.05) -> None:
    """GET /ping and POST the normal body alternately until ``stop``; latencies in ``out``."""
    while not stop.is_set():
        for kind in ("ping", "post"):
            t0 = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                if kind == "ping":
                    conn.request("GET", "/ping")
                else:
                    conn.request("POST", POST_PATH, body=POST_BODY, headers=POST_HEADERS)
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0
            out[kind].append((time.perf_counter() - t0, status))
        time.sleep(pause)


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def slowloris(port: int, bodies: int, headers: int, seconds: float, interval: float = 2.0) -> dict:
    """Hold the slow connections for ``seconds`` while probing; a summary dict."""
    counts: dict[str, int] = {
        f"{k}_{w}": 0
        for k in ("body", "header")
        for w in ("opened", "refused", "closed_by_server", "answered")
    }
    lat: dict[str, list] = {"ping": [], "post": []}
    stop_probe = threading.Event()

    async def main():
        stop = asyncio.Event()
        body_head = (
            f"POST {POST_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Cookie: adopter=abcd\r\nContent-Length: 100000\r\n\r\n{"
        ).encode()
        header_head = b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a"
        tasks = [
            asyncio.create_task(_slow(port, body_head, b" ", interval, stop, counts, "body"))
            for _ in range(bodies)
        ] + [
            asyncio.create_task(_slow(port, header_head, b"a", interval, stop, counts, "header"))
            for _ in range(headers)
        ]
        await asyncio.sleep(min(3.0, seconds / 4))  # the slow ones are in before probing
        prober = threading.Thread(target=probe, args=(port, stop_probe, lat), daemon=True)
        prober.start()
        await asyncio.sleep(seconds)
        stop_probe.set()
        stop.set()
        # every slow client ends within an interval; a stuck one is cancelled, never waited on
        _, stuck = await asyncio.wait(tasks, timeout=interval * 3 + 5)
        for task in stuck:
            task.cancel()
        counts["stuck_at_end"] = len(stuck)
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(150):
            if not prober.is_alive():
                break
            await asyncio.sleep(0.1)

    asyncio.run(main())
    summary: dict = dict(counts)
    for kind, rows in lat.items():
        times = [t for t, s in rows if s]
        summary[kind] = {
            "n": len(rows),
            "ok": sum(1 for _, s in rows if 200 <= s < 300),
            "failed": sum(1 for _, s in rows if not s),
            "p50_ms": round(percentile(times, 0.50) * 1000, 1),
            "p99_ms": round(percentile(times, 0.99) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1) if times else None,
        }
    return summary
