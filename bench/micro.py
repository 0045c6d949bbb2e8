#!/usr/bin/env python3
"""In-process cost per request: the WSGI app called directly, no server, no sockets.

CPU time (process_time) per request for bare Flask and pymacaron on the bench endpoints.
Steadier than wrk on a busy machine; use it to work on the hot path, and `--profile` to see
where the time goes (cProfile, sorted by own time).

    .venv/bin/python bench/micro.py [-n 20000] [--profile pym:POST]
    .venv/bin/python bench/micro.py --auth [-n 5000]   # GET /pets/1 behind a bearer JWT
    .venv/bin/python bench/micro.py --stages [-n 3000] [--results FILE]  # µs per stage

``--stages`` prints where a request's time goes, stage by stage, beside the raw WSGI
callable through the same bridge (bench/stages.py says how each stage is timed).

``--auth`` serves the same petstore with a bearer scheme on every operation and compares
no token check, HS256 (``jwt_secret``) and RS256 / ES256 tokens verified with the keys of a
JWKS served on 127.0.0.1 (``jwt_jwks_url``; fetched once, then cached).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
APPS = os.path.join(HERE, "apps")
sys.path.insert(0, APPS)
sys.path.insert(0, os.path.join(APPS, "pymacaron"))
# this tree's pymacaron, found before bench/apps/pymacaron (a directory of that name)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "framework"))
os.environ.setdefault("JWT_SECRET", "bench")

from run import ENDPOINTS, NEW_PET  # noqa: E402

_BODY = NEW_PET.encode()


def environ(method: str, path: str, body: str | None) -> dict:
    path, _, query = path.partition("?")
    env = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "micro",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_TYPE"] = "application/json"
        env["CONTENT_LENGTH"] = str(len(_BODY))
    return env


_AUTH: str | None = None  # the Authorization header sent (--auth)


def call(app, method, path, body):
    env = environ(method, path, body)
    if _AUTH:
        env["HTTP_AUTHORIZATION"] = _AUTH
    env["wsgi.input"] = io.BytesIO(_BODY if body else b"")
    status = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    out = b"".join(app(env, start_response))
    return status[0], out


def load_apps() -> dict:
    cwd = os.getcwd()
    os.chdir(os.path.join(APPS, "pymacaron"))
    try:
        import server  # the pymacaron bench service
    finally:
        os.chdir(cwd)
    import flask_app

    return {"flask": flask_app.app, "pym": server.app}


def measure(app, endpoint: str, n: int) -> float:
    method, path, body, expected = ENDPOINTS[endpoint]
    status, out = call(app, method, path, body)
    assert status.startswith(str(expected)), (endpoint, status, out[:300])
    for _ in range(200):
        call(app, method, path, body)
    t0 = time.process_time()
    for _ in range(n):
        call(app, method, path, body)
    return (time.process_time() - t0) / n * 1e6


def _jwks_server(keys: dict) -> str:
    """A JWKS on 127.0.0.1 (a thread); its URL."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    body = json.dumps({"keys": list(keys.values())}).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def auth_apps(tmp: str) -> dict:
    """name -> (app, Authorization header): the petstore behind a bearer scheme."""
    import time as _time

    import jwt
    import yaml
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    from pymacaron import create_app

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    keys = {
        "rsa": {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rsa"},
        "ec": {**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "ec"},
    }
    url = _jwks_server(keys)
    with open(os.path.join(APPS, "pymacaron", "apis", "petstore.yaml")) as f:
        spec = yaml.safe_load(f)
    spec["securityDefinitions"] = {
        "bearer": {"type": "apiKey", "in": "header", "name": "Authorization"}
    }
    spec["security"] = [{"bearer": []}]
    now = int(_time.time())
    claims = {"sub": "bench", "aud": "bench", "iss": url, "iat": now, "exp": now + 86400}
    hs = jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256")
    rs = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "rsa"})
    es = jwt.encode(claims, ec_key, algorithm="ES256", headers={"kid": "ec"})
    common = f"response_validation: error\njwt_audience: bench\njwt_issuer: {url}\n"
    variants = {
        "HS256": ("env_secrets: [JWT_SECRET]\n", hs),
        "RS256-jwks": (f"jwt_jwks_url: {url}/jwks\n", rs),
        "ES256-jwks": (f"jwt_jwks_url: {url}/jwks\n", es),
    }
    out = {}
    for name, (config, token) in variants.items():
        where = os.path.join(tmp, name)
        os.makedirs(os.path.join(where, "apis"))
        with open(os.path.join(where, "apis", "petstore.yaml"), "w") as f:
            yaml.safe_dump(spec, f, sort_keys=False)
        with open(os.path.join(where, "pym-config.yaml"), "w") as f:
            f.write(f"name: bench-{name.lower()}\n" + common + config)
        out[name] = (create_app(where), f"Bearer {token}")
    out["_verify"] = (url, rs)
    return out


def verify_only(url: str, token: str, n: int) -> None:
    """The verification alone (no request): ours (security/tokens.py) vs PyJWT's
    PyJWKClient (cached keys) + jwt.decode, the same RS256 token and JWKS."""
    import jwt

    from pymacaron.security.tokens import Verifier

    conf = {"jwt_jwks_url": url + "/jwks", "jwt_issuer": url, "jwt_audience": "bench"}
    ours = Verifier(type("Conf", (), {"get": lambda self, k, d=None: conf.get(k, d)})())
    client = jwt.PyJWKClient(url + "/jwks", cache_keys=True)

    def pyjwk():
        key = client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key, algorithms=["RS256"], audience="bench", issuer=url)

    for name, fn in (("ours", lambda: ours.decode(token)), ("PyJWKClient", pyjwk)):
        fn()
        best = float("inf")
        for _ in range(3):
            t0 = time.process_time()
            for _ in range(n):
                fn()
            best = min(best, (time.process_time() - t0) / n * 1e6)
        print(f"verify RS256 only  {name:12s} {best:7.1f} us/token")


def measure_auth(n: int) -> int:
    import tempfile

    global _AUTH
    os.environ["JWT_SECRET"] = "bench-secret-as-long-as-a-real-one-32+"  # PyJWT warns under 32
    apps = load_apps()
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"no token check": (apps["pym"], None), **auth_apps(tmp)}
        url, rs = variants.pop("_verify")
        costs = {}
        for name, (app, header) in variants.items():
            _AUTH = header
            costs[name] = min(measure(app, "GET /pets/1", n) for _ in range(3))
        _AUTH = None
    base = costs["no token check"]
    for name, cost in costs.items():
        print(f"GET /pets/1  {name:15s} {cost:7.1f} us/request  (+{cost - base:6.1f} us)")
    verify_only(url, rs, n)
    return 0


def print_stages(args) -> int:
    import json

    import stages

    n = args.n if args.n != 5000 else 3000
    profiled = stages.profile(ENDPOINTS, n=n, repeats=args.repeats, results=args.results)
    print(
        f"Per-stage profile, in-process (n={n} x {args.repeats} rounds, median; "
        f"load average {os.getloadavg()[0]:.1f}):\n"
    )
    print(stages.report(profiled))
    problems = stages.check(profiled)
    print()
    print(
        "sanity check: "
        + ("; ".join(problems) if problems else "the stages sum to the whole path within 15 %")
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(profiled, f, indent=2)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--auth", action="store_true", help="the cost of verifying a token")
    parser.add_argument("--profile", help="app:ENDPOINT-prefix, e.g. pym:POST or pym:GET /pets?")
    parser.add_argument("--stages", action="store_true", help="µs per stage (bench/stages.py)")
    parser.add_argument("--repeats", type=int, default=3, help="--stages: rounds (median)")
    parser.add_argument(
        "--results", help="--stages: a bench/run.py results JSON (server CPU per request)"
    )
    parser.add_argument("--json", help="--stages: also write the profile to this file")
    args = parser.parse_args()
    if args.auth:
        return measure_auth(args.n)
    if args.stages:
        return print_stages(args)
    apps = load_apps()
    if args.profile:
        name, _, prefix = args.profile.partition(":")
        endpoint = next(e for e in ENDPOINTS if e.startswith(prefix))
        prof = cProfile.Profile()
        prof.enable()
        measure(apps[name], endpoint, args.n)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    for endpoint in ENDPOINTS:
        costs = {
            name: min(measure(app, endpoint, args.n) for _ in range(3))
            for name, app in apps.items()
        }
        base = costs["flask"]
        print(
            f"{endpoint:20s} "
            + "  ".join(f"{k} {v:6.1f} us" for k, v in costs.items())
            + f"  pym/flask cost {costs['pym'] / base:.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
