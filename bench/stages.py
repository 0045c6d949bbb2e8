"""Where a request's time goes: µs per stage of the shipped path, in-process.

`bench/micro.py --stages` (and `make bench`) prints, per endpoint, the cost of each stage of
a request as `python -m pymacaron.serve` serves it, from the Python side of the RSGI bridge
(run/rsgi.py) down to the handler and back, beside the same bridge running the raw WSGI
callable (bench/apps/raw_app.py, the limit). Nothing in the framework is changed: every
stage calls the framework's own objects (the bridge, the layers, the dispatch, the
operation), built by the bench service as it starts; this module only times them.

How each stage is timed:

- the **bridge** and the **layers** (request id + security headers, access log) run with a
  stub inside (a copy of the real object whose inner app returns a reply of the same shape
  at once): their own cost is that minus the stub's;
- the **dispatch** (routing, request context, Flask's request hooks, the operation, the
  reply hand-off) runs step by step in its real order, each step a call of the real
  object, on a fresh request context per request;
- inside the operation, **parameters** and **body** (and its parse, schema validation and
  model) and **reply** (response validation, serialisation) are split by timing the real
  callables alone on the same inputs; what their parent costs beyond them is shown as
  "the rest".

The sanity check: the sum of the stages against the whole path timed untouched (the bridge
calling the real app). What happens outside Python's app path (granian's Rust side, the
hand-off to a request thread, the GIL) is not in-process: with a bench results JSON
(`--results`, default bench/results/latest.json) it is shown as the server's CPU per request
minus the in-process total, for the raw callable and for pymacaron.
"""

from __future__ import annotations

import copy
import io
import json
import os
import statistics
import sys
import tempfile
import time
from types import SimpleNamespace

from flask import Flask
from flask.signals import request_started

BODY_KEY = "pymacaron.body"  # server/environ.py BODY: the body the bridge read whole
HERE = os.path.dirname(os.path.abspath(__file__))

# stage name -> (group, description); the order is the request's
STAGES = {
    "bridge": "server hand-off: the RSGI bridge's Python side (environ, reply buffering)",
    "flask-call": "Flask.__call__ (-> the layers)",
    "layers": "WSGI layers: request id + security headers + access log (line built, queued)",
    # measured within "layers" since the three run folded (server/layers.py): no row
    "access-log": "access log (line built, queued)",
    "routing": "routing (SpecDispatch table match)",
    "body-read": "body read into the environ (dispatch)",
    "fast-check": "fast path: the app and operation checks (fastpath.plain_app...)",
    "fast-request": "fast path: the request object built, the service set (no context)",
    "context": "request context (build + push + pop)",
    "flask-hooks": "Flask dispatch: request_started, before/after request hooks, finalize",
    "negotiate": "content negotiation (Accept)",
    "parameters": "parameters (path, query, headers)",
    "body-parse": "body parse (JSON)",
    "body-validate": "body validation (schema)",
    "body-model": "body model (NewPet built)",
    "body-rest": "body: the rest (media type checks...)",
    "handler": "handler",
    "resp-validate": "response validation",
    "serialize": "reply serialisation (orjson + Response, or BareReply on the fast path)",
    "reply-rest": "reply: the rest (status, entry lookup)",
    "send": "reply hand-off to WSGI (_send: headers list)",
}


class _Timer:
    """µs of ``fn(setup())`` per call, the clock's own cost taken off; each call gets a
    fresh ``setup()`` and ``teardown(state)``, both untimed.

    Each call is timed on its own and the calls over 4x the median are left out before the
    mean: on a shared machine a loop's plain mean carries every preemption (a time slice of
    several ms lost every few dozen calls), which says nothing about the code; the trimmed
    mean keeps the code's own spread. The garbage collector's rare long pauses go with them,
    in the stages and in the whole path alike.
    """

    TRIM = 4.0

    def __init__(self, n: int):
        self.n = n
        clock = time.perf_counter_ns
        samples = []
        for _ in range(5000):
            a = clock()
            samples.append(clock() - a)
        self.overhead_ns = statistics.median(samples)

    def typical(self, samples) -> float:
        cap = statistics.median(samples) * self.TRIM
        kept = [s for s in samples if s <= cap]
        return max(0.0, (sum(kept) / len(kept) - self.overhead_ns) / 1000)

    def per_call(self, fn, setup=None, teardown=None) -> float:
        clock = time.perf_counter_ns
        samples = []
        for _ in range(self.n):
            state = setup() if setup else None
            a = clock()
            fn(state)
            samples.append(clock() - a)
            if teardown:
                teardown(state)
        return self.typical(samples)


def _scope(method: str, path: str) -> SimpleNamespace:
    path, _, query = path.partition("?")
    return SimpleNamespace(
        method=method,
        path=path,
        query_string=query,
        server="127.0.0.1:8080",
        client="127.0.0.1:51000",
        http_version="1.1",
        scheme="http",
    )


def _headers(body: bytes | None) -> dict:
    """What wrk sends (bench/run.py's script for POST)."""
    headers = {"host": "127.0.0.1:8080"}
    if body:
        headers["content-length"] = str(len(body))
        headers["content-type"] = "application/json"
    return headers


def _discard(status, headers, exc_info=None):
    return None


class StageProfile:
    """The stages of one endpoint for the bench service (``app``), through ``bridge``."""

    def __init__(self, app: Flask, bridge, endpoint: tuple, timer: _Timer):
        self.app, self.bridge, self.timer = app, bridge, timer
        method, path, body, self.expected = endpoint
        self.method, self.path = method, path
        self.body = body.encode() if body else b""
        self.scope = _scope(method, path)
        self.headers = _headers(self.body)
        # the real objects, found the way a request finds them
        self.chain = []  # the layers, outermost first, down to SpecDispatch
        wsgi = app.wsgi_app
        while not hasattr(wsgi, "table"):
            self.chain.append(wsgi)
            wsgi = wsgi.app
        self.dispatch = wsgi
        self.dispatch_mod = sys.modules[type(wsgi).__module__]
        env = self.environ()
        self.found = self.dispatch.table().match(method, env["PATH_INFO"])
        assert self.found is not None, f"{method} {path} is not a spec route"
        self.rule, self.view_args = self.found
        self.op = app.view_functions[self.rule.endpoint]
        self.op_mod = sys.modules[type(self.op).__module__]
        # one real reply, for the stubs (same status, headers and body shape)
        status, headers, data = self.bridge._call(self.environ())
        assert status == self.expected, (method, path, status, data[:300])
        self.reply = (f"{status} X", [tuple(h) for h in headers], data)

    def environ(self) -> dict:
        """The environ the bridge hands the app: its head's, then the body read whole."""
        environ = self.bridge._environ(self.scope, self.headers)
        if self.body:
            environ["CONTENT_LENGTH"] = str(len(self.body))
        environ["wsgi.input"] = io.BytesIO(self.body)
        environ[BODY_KEY] = self.body
        return environ

    def stub(self, environ, start_response):
        status, headers, data = self.reply
        start_response(status, list(headers))
        return [data]

    # -- probes: each times one call and returns {name: ns} ------------------------------
    def _timed(self, name, fn, setup=None, teardown=None):
        clock = time.perf_counter_ns

        def probe():
            state = setup() if setup else None
            a = clock()
            fn(state)
            d = clock() - a
            if teardown:
                teardown(state)
            return {name: d}

        return probe

    def _in_context(self, name, fn):
        def setup():
            ctx = self.dispatch_mod._SpecContext(
                self.app, self.environ(), self.rule, self.view_args
            )
            ctx.push()
            return ctx

        return self._timed(name, lambda _: fn(), setup, lambda ctx: ctx.pop(None))

    def probes(self, raw_app) -> list:
        """Every measurement of this endpoint, as probes run interleaved (one call of each
        per round), so that a busy second of the machine weighs on all of them alike."""
        op, app = self.op, self.app

        def through(wsgi_app):
            bridge = copy.copy(self.bridge)
            bridge.wsgi_app = wsgi_app
            return lambda _: bridge._call(self.environ())

        out = [
            self._timed("total", through(app)),
            self._timed("raw", through(raw_app)),
            self._timed("stub", lambda env: self.stub(env, _discard), self.environ),
            self._timed("bridge+stub", through(self.stub)),
        ]
        fake = SimpleNamespace(wsgi_app=self.stub)
        out.append(
            self._timed(
                "flask-call+stub", lambda env: Flask.__call__(fake, env, _discard), self.environ
            )
        )
        # the layers as installed (RequestId runs SecurityHeaders and AccessLog folded into
        # one call, server/layers.py), on copies whose innermost one calls the stub
        copies = [copy.copy(layer) for layer in self.chain]
        for outer, inner in zip(copies, copies[1:], strict=False):
            outer.app = inner
        if copies:
            copies[-1].app = self.stub
            front = copies[0]
            out.append(self._timed("layers+stub#0", lambda env: front(env, _discard), self.environ))
        out.append(self._dispatch_steps)
        # the splits of read_request and make_reply: the real callables alone
        body = getattr(op, "body", None)
        if body is not None and hasattr(body, "read") and hasattr(body, "validator"):
            parse = sys.modules[type(body).__module__].parse_json_body
            value = parse(self.body)
            if self.fast_path():  # as fastpath.serve reads it
                from flask import Request  # noqa: PLC0415

                from pymacaron.server import fastpath  # noqa: PLC0415

                lean = getattr(fastpath, "LEAN", Request)
                out.append(
                    self._timed(
                        "read-body",
                        lambda req: body.read(op.spec.label, req),
                        lambda: lean(self.environ()),
                    )
                )
            else:
                out.append(self._in_context("read-body", lambda: body.read(op.spec.label)))
            out.append(self._timed("body-parse", lambda _: parse(self.body)))
            if body.validator is not None:
                out.append(self._timed("body-validate", lambda _: body.validator(value)))
            if getattr(body, "model", None) is not None:
                out.append(self._timed("body-model", lambda _: body.model.from_json(value)))
        ctx = self.dispatch_mod._SpecContext(app, self.environ(), self.rule, self.view_args)
        ctx.push()
        try:
            args, kwargs = op.read_request(self.view_args)
            result = op.handler(*args, **kwargs)
        finally:
            ctx.pop(None)
        data, status = result, op.default_status
        if isinstance(result, tuple):
            data, status = result[0], result[1]
        validator = (op.responses.get(status) or op.default_response or (None,))[0]
        if validator is not None:
            out.append(
                self._timed(
                    "resp-validate", lambda _: op._check_body(validator, data, status, None)
                )
            )
        from pymacaron.server import replies  # noqa: PLC0415

        json_reply = replies.json_reply
        if self.fast_path() and op.bare_replies:
            bare = replies.bare_json_reply
            out.append(self._timed("serialize", lambda _: bare(data, status)))
        else:
            out.append(self._timed("serialize", lambda _: json_reply(data, status, None)))
        return out

    def _dispatch_steps(self) -> dict:
        """SpecDispatch.__call__ and Operation.__call__ once, step by step, each step the
        real call, on a fresh environ and request context: {step: ns}. An operation on
        the fast path (fastpath.py) runs its steps instead."""
        if self.fast_path():
            return self._fast_steps()
        app, op, mod = self.app, self.op, self.dispatch_mod
        clock = time.perf_counter_ns
        env, table, rule, view_args, (t0, t1, t2) = self._route()
        ctx = mod._SpecContext(app, env, rule, view_args)
        ctx.push()
        t3 = clock()
        app._got_first_request = True
        request_started.send(app, _async_wrapper=app.ensure_sync)
        assert app.preprocess_request() is None
        view = app.ensure_sync(app.view_functions[rule.endpoint])
        assert view is op
        t4 = clock()
        if op.guard is not None:
            op.guard()
        mimetype = op.negotiate()
        t5 = clock()
        args, kwargs = op.read_request(view_args)
        t6 = clock()
        result = op.handler(*args, **kwargs)
        t7 = clock()
        rv = op.make_reply(result, mimetype)
        t8 = clock()
        response = app.finalize_request(rv)
        t9 = clock()
        b"".join(mod._send(response, env, _discard))
        t10 = clock()
        ctx.pop(None)
        t11 = clock()
        # a span of k clock reads carries k clock costs: "context" and "flask-hooks" are two
        over = int(self.timer.overhead_ns)
        return {
            "routing": t1 - t0,
            "body-read": t2 - t1,
            "context": (t3 - t2) + (t11 - t10) - over,
            "flask-hooks": (t4 - t3) + (t9 - t8) - over,
            "negotiate": t5 - t4,
            "read": t6 - t5,
            "handler": t7 - t6,
            "reply": t8 - t7,
            "send": t10 - t9,
        }

    def fast_path(self) -> bool:
        """True when the dispatch serves this endpoint without Flask's context now (never
        with a pymacaron older than the fast path: the stages of Flask's path)."""
        if getattr(self.op, "fast_reason", "") is not None:
            return False
        from pymacaron import current  # noqa: PLC0415
        from pymacaron.server import fastpath  # noqa: PLC0415

        service = self.app.extensions.get(current.EXTENSION)
        return fastpath.plain_app(self.app, service, self.environ())

    def _route(self):
        """SpecDispatch.__call__'s first steps on a fresh environ: the table's match, then
        the body read whole; the clock read before, between and after them."""
        app, dispatch, mod = self.app, self.dispatch, self.dispatch_mod
        clock = time.perf_counter_ns
        env = self.environ()
        t0 = clock()
        table = dispatch.table()
        rule, view_args = table.match(env.get("REQUEST_METHOD", "GET"), env["PATH_INFO"])
        t1 = clock()
        length = env.get("CONTENT_LENGTH")
        if length and length.isdigit():
            mod._buffer_body(env, int(length), app.config.get("MAX_CONTENT_LENGTH"))
        return env, table, rule, view_args, (t0, t1, clock())

    def _fast_steps(self) -> dict:
        """The fast path of SpecDispatch.__call__ and fastpath.serve, step by step."""
        from flask import Request  # noqa: PLC0415

        from pymacaron import current  # noqa: PLC0415
        from pymacaron.server import fastpath  # noqa: PLC0415

        app, op, mod = self.app, self.op, self.dispatch_mod
        clock = time.perf_counter_ns
        env, table, rule, view_args, (t0, t1, t2) = self._route()
        fast = table.fast.get(id(rule))
        service = app.extensions.get(current.EXTENSION)
        assert fast is op and op.fast_reason is None and app.view_functions[rule.endpoint] is op
        assert fastpath.plain_app(app, service, env)
        t3 = clock()
        req = getattr(fastpath, "LEAN", Request)(env)
        req.url_rule = rule
        req.view_args = view_args
        token = current.SERVING.set(service)
        t4 = clock()
        mimetype = op.negotiate(req)
        t5 = clock()
        args, kwargs = op.read_request(view_args, req)
        t6 = clock()
        result = op.handler(*args, **kwargs)
        t7 = clock()
        if op.bare_replies:  # as Operation.serve(fast=True)
            rv = type(op).make_reply(op, result, mimetype, req, True)
        else:
            rv = op.make_reply(result, mimetype, req)
        t8 = clock()
        current.SERVING.reset(token)
        t9 = clock()
        b"".join(mod._send(rv, env, _discard))
        t10 = clock()
        over = int(self.timer.overhead_ns)
        return {
            "routing": t1 - t0,
            "body-read": t2 - t1,
            "fast-check": t3 - t2,
            "fast-request": (t4 - t3) + (t9 - t8) - over,
            "negotiate": t5 - t4,
            "read": t6 - t5,
            "handler": t7 - t6,
            "reply": t8 - t7,
            "send": t10 - t9,
        }

    def measure(self, raw_app) -> dict:
        """{stage: µs} and the whole path's, the raw callable's: the probes, interleaved."""
        probes = self.probes(raw_app)
        samples: dict = {}
        for _ in range(self.timer.n):
            for probe in probes:
                for name, d in probe().items():
                    samples.setdefault(name, []).append(d)
        us = {name: self.timer.typical(v) for name, v in samples.items()}
        stub = us.pop("stub")
        out = {
            "bridge": us.pop("bridge+stub") - stub,
            "flask-call": us.pop("flask-call+stub") - stub,
        }
        out["layers"] = 0.0
        for name in [k for k in us if "+stub#" in k]:
            out[name.split("+", 1)[0]] += us.pop(name) - stub
        read = us.pop("read")
        body = us.pop("read-body", 0.0)
        for k in ("body-parse", "body-validate", "body-model"):
            if k in us:
                out[k] = us.pop(k)
        if body:
            out["body-rest"] = body - sum(
                out.get(k, 0.0) for k in ("body-parse", "body-validate", "body-model")
            )
        out["parameters"] = read - body
        reply = us.pop("reply")
        out["resp-validate"] = us.pop("resp-validate", 0.0)
        out["serialize"] = us.pop("serialize")
        out["reply-rest"] = reply - out["resp-validate"] - out["serialize"]
        total, raw = us.pop("total"), us.pop("raw")
        out.update(us)  # routing, body-read, context, flask-hooks, negotiate, handler, send
        return {"stages": out, "total": total, "raw": raw}


def _bench_service():
    """The bench service's Flask app as the shipped server builds it, and the bridge."""
    apps = os.path.join(HERE, "apps")
    service = os.path.join(apps, "pymacaron")
    for p in (apps, service):
        if p not in sys.path:
            sys.path.insert(0, p)
    framework = os.path.join(os.path.dirname(HERE), "framework")
    if framework not in sys.path:
        sys.path.insert(0, framework)
    os.environ.setdefault("JWT_SECRET", "bench")
    cwd = os.getcwd()
    os.chdir(service)
    try:
        import server  # noqa: PLC0415 (the bench service, as `server:app`)
    finally:
        os.chdir(cwd)
    import raw_app  # noqa: PLC0415

    from pymacaron.run.rsgi import WSGIOverRSGI  # noqa: PLC0415

    return server.app, raw_app.app, WSGIOverRSGI


def profile(endpoints: dict, n: int = 3000, repeats: int = 3, results: str | None = None):
    """{endpoint: {"stages": {...}, "sum": µs, "total": µs, "raw": µs, "server": {...}}}."""
    app, raw, bridge_class = _bench_service()
    bridge = bridge_class(app)  # no threads started: the bench calls it directly
    timer = _Timer(n)
    server_cpu = _server_cpu(results)
    out = {}
    # the access log writes to fd 2: a file, as under the server, not the terminal
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            for name, endpoint in endpoints.items():
                out[name] = _endpoint(StageProfile(app, bridge, endpoint, timer), raw, repeats)
                if server_cpu.get(name):
                    out[name]["server"] = server_cpu[name]
        finally:
            for layer in _layers(app):  # the queued access lines go to the sink too
                writer = getattr(layer, "_writer", None)
                if writer is not None:
                    writer.flush()
            os.dup2(saved, 2)
            os.close(saved)
    return out


def _layers(app) -> list:
    out, wsgi = [], app.wsgi_app
    while hasattr(wsgi, "app"):
        out.append(wsgi)
        wsgi = wsgi.app
    return out


def _endpoint(prof: StageProfile, raw, repeats: int) -> dict:
    for _ in range(300):  # warm: validators compiled, caches filled
        prof.bridge._call(prof.environ())
    runs = [prof.measure(raw) for _ in range(repeats)]
    stages = {k: statistics.median(r["stages"][k] for r in runs) for k in runs[0]["stages"]}
    totals = [r["total"] for r in runs]
    return {
        "stages": {k: stages[k] for k in STAGES if k in stages},
        "sum": sum(stages.values()),
        "total": statistics.median(totals),
        "total_range": (min(totals), max(totals)),
        "raw": statistics.median(r["raw"] for r in runs),
    }


def _server_cpu(path: str | None) -> dict:
    """{endpoint: {"pym": µs, "raw": µs, "file": path}} from a bench results JSON."""
    path = path or os.path.join(HERE, "results", "latest.json")
    try:
        with open(path) as f:
            servers = json.load(f)["servers"]
    except (OSError, ValueError, KeyError):
        return {}
    out = {}
    for name, key in (("pym-shipped", "pym"), ("raw-shipped", "raw")):
        for e, m in servers.get(name, {}).get("endpoints", {}).items():
            if m.get("cpu_us"):
                out.setdefault(e, {"file": os.path.relpath(path)})[key] = m["cpu_us"]
    return out


def report(profiled: dict) -> str:
    """A markdown table: one row per stage, one column per endpoint."""
    names = list(profiled)
    lines = [
        "| stage (µs per request) | " + " | ".join(names) + " |",
        "|---" + "|---:" * len(names) + "|",
    ]
    for key, label in STAGES.items():
        if not any(key in p["stages"] for p in profiled.values()):
            continue
        cells = [
            f"{round(p['stages'][key], 1) or 0.0:.1f}" if key in p["stages"] else "-"
            for p in profiled.values()
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(p) for p in profiled.values()) + " |")

    row("**sum of the stages**", lambda p: f"**{p['sum']:.1f}**")
    row(
        "**the whole path timed untouched** (range)",
        lambda p: f"**{p['total']:.1f}** ({p['total_range'][0]:.1f}-{p['total_range'][1]:.1f})",
    )
    row("sum / whole", lambda p: f"{p['sum'] / p['total']:.2f}")
    row("raw WSGI callable through the same bridge", lambda p: f"{p['raw']:.1f}")
    row("pymacaron / raw, in-process", lambda p: f"{p['total'] / p['raw']:.1f}x")
    if any("server" in p for p in profiled.values()):

        def outside(p, key, inproc):
            cpu = p.get("server", {}).get(key)
            return f"{cpu:.0f} - {inproc:.0f} = {cpu - inproc:.0f}" if cpu else "?"

        row(
            "outside the app, raw-shipped: server CPU/req - in-process",
            lambda p: outside(p, "raw", p["raw"]),
        )
        row(
            "outside the app, pym-shipped: server CPU/req - in-process",
            lambda p: outside(p, "pym", p["total"]),
        )
    return "\n".join(lines)


def check(profiled: dict, tolerance: float = 0.15) -> list[str]:
    """The endpoints whose stages do not sum to the whole within ``tolerance``."""
    return [
        f"{name}: the stages sum to {p['sum']:.1f} µs, the whole path is {p['total']:.1f} µs"
        for name, p in profiled.items()
        if abs(p["sum"] / p["total"] - 1) > tolerance
    ]
