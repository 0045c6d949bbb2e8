#!/usr/bin/env python3
"""Instructions per call of the parts of a request, under callgrind: where bench/cost.py's
totals go.

Each part is one real call of the framework's own objects (the bench service as
bench/cost.py loads it, the same RSGI bridge), run 200 times unmeasured, then ``-n`` times
in its own measured region (``functools_reduce``, as bench/cost.py). A part that needs a
fresh environ copies a prepared one (``dict_copy``, reported, is that copy's cost), and
every part includes the ~1,200 instructions of the loop's own call (``noop``). Parts are
not disjoint: ``call_get1`` is the whole request, ``dispatch_get1`` what runs inside the
layers, ``fast_serve_get1`` what runs inside the dispatch, and so on.

    .venv/bin/python bench/cost_parts.py                  # every part, -n 100
    .venv/bin/python bench/cost_parts.py plain_app,lean_request -n 300
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import io
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cost  # noqa: E402


def _parts() -> dict:
    """name -> a callable of no argument: one call of that part."""
    os.environ["PYM_ACCESS_LOG_FLUSH_S"] = "3600"
    bridge, body_key = cost._load("pym")
    from data import PETS, PETS_BY_ID  # noqa: PLC0415 (bench/apps, on the path now)

    from pymacaron import current  # noqa: PLC0415
    from pymacaron.logs import new_request_id  # noqa: PLC0415
    from pymacaron.server import fastpath  # noqa: PLC0415
    from pymacaron.server.accesslog import text_line  # noqa: PLC0415
    from pymacaron.server.layers import _folded  # noqa: PLC0415
    from pymacaron.server.reply_writer import ReplyWriter  # noqa: PLC0415

    layers = cost._layers(bridge.wsgi_app)
    dispatch = next(x for x in layers if type(x).__name__ == "SpecDispatch")
    access = next(x for x in layers if type(x).__name__ == "AccessLog")
    security = next(x for x in layers if type(x).__name__ == "SecurityHeaders")
    app = dispatch.app
    service = app.extensions.get(current.EXTENSION)
    table = dispatch.table()
    headers = {"host": "127.0.0.1:8080", "user-agent": "wrk"}

    def environ(method: str, path: str) -> dict:
        e = bridge._environ(cost._Scope(method, path), headers)
        e["wsgi.input"] = io.BytesIO(b"")
        e[body_key] = b""
        return e

    get1 = environ("GET", "/pets/1")
    rule1, args1 = table.match("GET", "/pets/1")
    op1 = table.fast[id(rule1)]
    rule20, _ = table.match("GET", "/pets")
    op20 = table.fast[id(rule20)]
    request1 = fastpath.LEAN(dict(get1))
    pet1, pets20 = PETS_BY_ID[1], PETS[:20]
    import orjson  # noqa: PLC0415

    def start_response(status, headers, exc_info=None):
        return None

    # the folded layers around a stub app returning the reply of an empty JSON body
    def stub(environ, start_response):
        start_response("200 OK", [])
        return [b""]

    stub_access = copy.copy(access)
    stub_access.app = stub
    stub_security = copy.copy(security)
    stub_security.app = stub_access
    scope1 = cost._Scope("GET", "/pets/1")
    return {
        "noop": lambda: None,
        "dict_copy": lambda: dict(get1),
        "call_get1": lambda: bridge._call(environ("GET", "/pets/1")),
        "call_list20": lambda: bridge._call(environ("GET", "/pets?limit=20")),
        "environ": lambda: bridge._environ(scope1, headers),
        "folded_layers_stub": lambda: _folded(stub_security, dict(get1), start_response),
        "access_log": lambda: access.log(get1, 0.0),
        "text_line": lambda: text_line(1.5e9, "0" * 32, "GET", "/pets/1", "200", 1.234),
        "request_id": new_request_id,
        "dispatch_get1": lambda: dispatch(dict(get1), start_response),
        "match_dynamic": lambda: table.match("GET", "/pets/1"),
        "match_static": lambda: table.match("GET", "/pets"),
        "plain_app": lambda: fastpath.plain_app(app, service, get1),
        "lean_request": lambda: fastpath.LEAN(dict(get1)),
        "fast_serve_get1": lambda: fastpath.serve(op1, service, rule1, dict(args1), dict(get1)),
        "negotiate": lambda: op1.negotiate(request1),
        "read_request_get1": lambda: op1.read_request(args1, request1),
        "make_reply_get1": lambda: ReplyWriter.make_reply(
            op1, pet1, "application/json", request1, True
        ),
        "response_check_pet": lambda: op1.responses[200][0](pet1),
        "response_check_list20": lambda: op20.responses[200][0](pets20),
        "orjson_list20": lambda: orjson.dumps(pets20),
    }


def child(names: list[str], n: int) -> None:
    parts = _parts()
    unknown = [k for k in names if k not in parts]
    if unknown:
        raise SystemExit(
            f"cost_parts: unknown part(s) {', '.join(unknown)}; known: {', '.join(parts)}"
        )
    sink = tempfile.TemporaryFile()  # noqa: SIM115 (fd 2 until the process ends)
    os.dup2(sink.fileno(), 2)
    gc.collect()
    gc.freeze()
    for name in names:
        part = parts[name]
        for _ in range(200):
            part()
        functools.reduce(lambda acc, _, part=part: (part(), acc)[1], range(n), 0)
    print(",".join(names), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="?", help="comma-separated names (default: all)")
    parser.add_argument("-n", type=int, default=100, help="measured calls per part")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.parts.split(","), args.n)
        return 0
    names = args.parts.split(",") if args.parts else list(_names())
    counts = cost.callgrind_regions(
        [os.path.abspath(__file__), ",".join(names), "-n", str(args.n), "--child"]
    )
    if len(counts) != len(names):
        raise SystemExit(f"cost_parts: {len(counts)} measured regions for {len(names)} parts")
    print(f"instructions per call, -n {args.n}")
    for name, count in zip(names, counts, strict=True):
        print(f"{name:24s} {count / args.n:12,.0f}")
    return 0


def _names() -> tuple[str, ...]:
    return (
        "noop", "dict_copy", "call_get1", "call_list20", "environ", "folded_layers_stub",
        "access_log", "text_line", "request_id", "dispatch_get1", "match_dynamic",
        "match_static", "plain_app", "lean_request", "fast_serve_get1", "negotiate",
        "read_request_get1", "make_reply_get1", "response_check_pet", "response_check_list20",
        "orjson_list20",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
