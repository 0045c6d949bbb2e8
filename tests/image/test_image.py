"""The real image: built from docker/Dockerfile by pym image build (pym image build), run by
pym image run, tested from outside, stopped with SIGTERM under load, pushed and pulled.

All in xdist_group "image": one worker, one build shared through session fixtures
(tests/image/conftest.py), run in file order.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.image.image_helpers import (
    BASE_IMAGE,
    REPO,
    TEST_JWT_SECRET,
    free_port,
    pym,
    wait_until,
)

pytestmark = [pytest.mark.xdist_group("image"), pytest.mark.slow]

# The service's own layers (venv + app), on top of the base image: 66.5 MB with jsonschema-rs
# (its 14.8 MB shared object is the validation engine, docs/decisions.md) before the docs
# page's Swagger UI files (flask-swagger-ui, 2.5 MB) joined the runtime.
MAX_SERVICE_LAYERS_BYTES = 72_000_000
# boto3/botocore are the `persist` extra: in this image because the example's specs have
# x-persist models in DynamoDB (docs/persist.md); checked apart below.
PERSIST_MODULES = ("boto3", "botocore")
BOTOCORE_MODELS = {"dynamodb", "sqs", "sts", "sso", "sso-oidc"}
DEPLOY_TIME_MODULES = (
    "pymacaron_kit",
    "docker",
    "aws_cdk",
    "constructs",
    "moto",
    "pytest",
    "ruff",
    "cfnlint",
    "pip",
    "setuptools",
    "infra",
)


def run_once(client, image_id: str, *cmd: str, check: bool = True, **kwargs) -> tuple[int, str]:
    """Run CMD in a new container of the image (not `docker exec`: podman 4.3 leaves an
    exec session's conmon processes behind when the container is removed)."""
    container = client.containers.run(image_id, list(cmd), detach=True, **kwargs)
    try:
        code = container.wait(timeout=60)["StatusCode"]
        out = container.logs().decode(errors="replace").strip()
    finally:
        container.remove(force=True)
    if check:
        assert code == 0, f"{cmd} exited {code}: {out}"
    return code, out


def healthcheck_of(client, image_id: str) -> dict:
    """The image's HEALTHCHECK (Docker: Config.Healthcheck; podman 4's Docker API omits it,
    its libpod API has it)."""
    attrs = client.images.get(image_id).attrs
    found = (attrs.get("Config") or {}).get("Healthcheck")
    if not found:
        url = f"{client.api.base_url}/v4.0.0/libpod/images/{image_id}/json"
        response = client.api._get(url)
        if response.status_code == 200:
            found = response.json().get("Healthcheck")
    assert found, f"no HEALTHCHECK on {image_id}"
    return found


def test_build_prints_id_and_size_and_bakes_metadata(built_image, client):
    out = built_image["stdout"]
    assert re.search(r"^id:\s+sha256:[0-9a-f]{64}$", out, re.M), out[-500:]
    assert re.search(r"^size:\s+[\d.]+ MB \(\d+ bytes\)$", out, re.M), out[-500:]
    image = client.images.get(built_image["id"])
    config = image.attrs["Config"]
    assert config["Labels"]["org.opencontainers.image.version"] == built_image["tag"]
    assert config["User"] == "10001:10001"
    assert "/ping" in " ".join(healthcheck_of(client, built_image["id"])["Test"])
    assert config["Env"] and "PORT=8080" in config["Env"]
    # the task supervisor (execs the server when with_async is off), then pymacaron.serve
    # (execs granian by default, gunicorn with PYM_SERVER=gunicorn)
    assert config["Cmd"] == [
        "python",
        "-m",
        "pymacaron.tasks.supervise",
        "python",
        "-m",
        "pymacaron.serve",
    ]


def test_image_size_is_small(built_image, client):
    base = client.images.get(BASE_IMAGE).attrs["Size"]
    own = built_image["size"] - base
    print(
        f"\nimage size {built_image['size'] / 1e6:.1f} MB = base {base / 1e6:.1f} MB "
        f"+ service layers {own / 1e6:.1f} MB (build {built_image['build_seconds']} s)"
    )
    assert 0 < own < MAX_SERVICE_LAYERS_BYTES


def test_runs_as_non_root(service, client, built_image):
    container, _, _ = service
    container.reload()
    pid = container.attrs["State"]["Pid"]  # the container's PID 1, seen from the host
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M)
    assert uids, status
    assert uids.groups() == ("10001", "10001", "10001"), status
    assert "granian" in cmdline  # exec'd all the way down: the server itself is PID 1
    # The app user can't modify the service code.
    code, out = run_once(
        client, built_image["id"], "sh", "-c", "echo x > /app/server.py", check=False
    )
    assert code != 0 and "Permission denied" in out, out


def test_only_the_runtime_and_the_service_are_in_the_image(built_image, client):
    probe = (
        "import importlib.util as u, json, os, pymacaron;"
        "print(json.dumps({'app': os.listdir('/app'), 'pymacaron': pymacaron.__file__,"
        f"'found': [m for m in {DEPLOY_TIME_MODULES!r} if u.find_spec(m)]}}))"
    )
    report = json.loads(run_once(client, built_image["id"], "python", "-c", probe)[1])
    listing = set(report["app"])
    assert {"server.py", "apis", "pym-config.yaml", ".container-version"} <= listing
    for excluded in (
        "tests",
        "testaccept",
        "infra",
        "scripts",
        "docker",
        "framework",
        ".git",
        ".venv",
        "app.py",
        "cdk.json",
        "Makefile",
        "pyproject.toml",
    ):
        assert excluded not in listing, f"/app/{excluded} should not be in the image"
    assert report["found"] == [], f"deploy-time/dev modules in the image: {report['found']}"
    persist = (
        "import importlib.util as u, json, os;"
        f"found = [m for m in {PERSIST_MODULES!r} if u.find_spec(m)];"
        "import botocore;"
        "print(json.dumps({'found': found, 'models': sorted(d for d in os.listdir("
        "os.path.join(os.path.dirname(botocore.__file__), 'data')) if '.' not in d)}))"
    )
    extra = json.loads(run_once(client, built_image["id"], "python", "-c", persist)[1])
    assert extra["found"] == list(PERSIST_MODULES), extra
    assert set(extra["models"]) <= BOTOCORE_MODELS and "dynamodb" in extra["models"], extra
    where = report["pymacaron"]
    assert where.startswith("/opt/venv/lib/"), f"pymacaron not installed in the venv: {where}"


def test_version_reports_the_built_tag_as_container(service, built_image):
    _, url, _ = service
    body = requests.get(f"{url}/version", timeout=5).json()
    assert body["container"] == built_image["tag"]
    assert body["name"] == "petshop"


def test_acceptance_tests_pass_against_the_container(service):
    _, url, port = service
    env = dict(
        os.environ,
        JWT_SECRET=TEST_JWT_SECRET,
        PYM_SERVER_HOST="127.0.0.1",
        PYM_SERVER_PORT=str(port),
    )
    cmd = [sys.executable, "-m", "pymacaron", "acceptance", "--dir", REPO, "--host",
           "127.0.0.1", "--port", str(port)]  # fmt: skip
    if cmd:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
        assert proc.returncode == 0, f"{cmd}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        return
    # No acceptance suite in the repository yet: the built-in contract, checked directly.
    assert requests.get(f"{url}/ping", timeout=5).json() == {}
    missing = requests.get(f"{url}/no/such/path", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["status"] == 404 and missing.json()["error_id"]
    auth = requests.get(f"{url}/auth/version", timeout=5)
    assert auth.status_code == 401
    assert auth.json()["error"] == "AUTHORIZATION_HEADER_MISSING"


def test_healthcheck_command_passes_in_the_container(service, client, built_image):
    container, _, _ = service
    test = healthcheck_of(client, built_image["id"])["Test"]
    assert test[0] == "CMD"
    # The HEALTHCHECK command, in the service container's network namespace (and with its
    # PORT: run-image sets one when the container shares the host's network, docs/persist.md)
    container.reload()
    port = [e for e in container.attrs["Config"]["Env"] or [] if e.startswith("PORT=")]
    run_once(
        client,
        built_image["id"],
        *test[1:],
        network_mode=f"container:{container.id}",
        environment=dict(e.split("=", 1) for e in port[-1:]),
    )
    # ...and it fails when nothing answers on $PORT.
    code, _ = run_once(
        client,
        built_image["id"],
        *test[1:],
        check=False,
        network_mode=f"container:{container.id}",
        environment={"PORT": "1"},
    )
    assert code != 0


def test_missing_env_secret_stops_the_container_with_its_name(built_image, client, engine_env):
    # run-image refuses before starting anything (for a stage: a local run would take the
    # repository's .pym/dev-secret, test_image_run_secret.py)...
    proc = pym(
        "image",
        "run",
        built_image["tag"],
        "--port",
        str(free_port()),
        env={**engine_env, "JWT_SECRET": "", "PYM_ENV": "staging"},
    )
    assert proc.returncode == 2
    assert "JWT_SECRET" in proc.stderr
    # ...and the image itself fails fast (the server's worker cannot load the app) naming it.
    container = client.containers.run(built_image["id"], detach=True)
    try:
        result = container.wait(timeout=60)
        logs = container.logs().decode(errors="replace")
        assert result["StatusCode"] != 0
        assert "JWT_SECRET" in logs, logs[-2000:]
    finally:
        container.remove(force=True)


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_sigterm_under_load_completes_in_flight_requests(built_image, client, server):
    """SIGTERM while 12 slow requests are in flight and 6 clients hammer /ping: every slow
    request completes with 200, no request gets a 5xx, and the container exits 0 well
    within the graceful timeout."""
    graceful_timeout = 10
    slow_seconds = 2.0
    port = free_port()
    container = client.containers.run(
        built_image["id"],
        detach=True,
        environment={
            "JWT_SECRET": TEST_JWT_SECRET,
            "GUNICORN_WORKERS": "2",
            "GUNICORN_THREADS": "8",
            "GUNICORN_GRACEFUL_TIMEOUT": str(graceful_timeout),
            "PYM_SERVER": server,
            "WEB_CONCURRENCY": "2",
            "GRANIAN_THREADS": "8",
            "GRANIAN_BACKPRESSURE": "32",
            "GRANIAN_GRACEFUL_TIMEOUT": str(graceful_timeout),
            "PYM_WSGI_APP": "slowwrap:app",
            "PYTHONPATH": "/testhooks",
        },
        volumes={
            os.path.join(os.path.dirname(__file__), "slowwrap.py"): {
                "bind": "/testhooks/slowwrap.py",
                "mode": "ro",
            }
        },
        ports={"8080/tcp": ("127.0.0.1", port)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: requests.get(f"{url}/ping", timeout=1).status_code == 200,
            60,
            "the container's /ping",
        )
        stop = threading.Event()
        statuses: list[int] = []
        errors: list[str] = []

        def hammer():
            with requests.Session() as s:
                while not stop.is_set():
                    try:
                        statuses.append(s.get(f"{url}/ping", timeout=10).status_code)
                    except requests.RequestException as e:
                        errors.append(type(e).__name__)
                        time.sleep(0.05)

        def slow():
            r = requests.get(
                f"{url}/_test/slow",
                params={"seconds": slow_seconds},
                headers={"Connection": "close"},
                timeout=30,
            )
            return r.status_code, r.json()

        with concurrent.futures.ThreadPoolExecutor(max_workers=18) as pool:
            load = [pool.submit(hammer) for _ in range(6)]
            time.sleep(0.5)
            before = len(statuses)
            in_flight = [pool.submit(slow) for _ in range(12)]
            time.sleep(0.8)  # accepted and sleeping inside the workers
            sent_at = time.monotonic()
            container.kill(signal="SIGTERM")
            outcome = [f.result(timeout=30) for f in in_flight]
            exit_code = container.wait(timeout=graceful_timeout + 15)["StatusCode"]
            exited_after = time.monotonic() - sent_at
            stop.set()
            for f in load:
                f.result(timeout=30)
        logs = container.logs().decode(errors="replace")
        assert before > 0, "the load never got a response before SIGTERM"
        assert outcome == [(200, {})] * 12, outcome
        assert all(s < 500 for s in statuses), sorted(set(statuses))
        assert exit_code == 0, logs[-3000:]
        assert exited_after < graceful_timeout, f"exited {exited_after:.1f} s after SIGTERM"
        # the server itself saw the signal and shut down in order
        stopped = {"gunicorn": "Handling signal: term", "granian": "Granian shutdown completed"}
        assert stopped[server] in logs, logs[-3000:]
        print(
            f"\n{server} SIGTERM: 12/12 in-flight completed, {len(statuses)} /ping answered, "
            f"{len(errors)} refused after shutdown, exit {exit_code} in {exited_after:.1f} s"
        )
    finally:
        container.remove(force=True)


def test_push_to_a_registry_and_pull_back_the_same_digest(
    built_image, client, registry, engine_env
):
    proc = pym("image", "push", built_image["tag"], "--registry", registry, env=engine_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    digest = re.search(r"^digest: (sha256:[0-9a-f]{64})$", proc.stdout, re.M).group(1)
    repository = f"{registry}/petshop"
    # The registry serves exactly that manifest for the tag.
    head = requests.head(
        f"http://{registry}/v2/petshop/manifests/{built_image['tag']}",
        timeout=10,
        headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
            "application/vnd.oci.image.manifest.v1+json"
        },
    )
    assert head.status_code == 200
    assert head.headers["Docker-Content-Digest"] == digest
    # What the registry holds is the built image: its config carries the tag, the user and
    # the HEALTHCHECK (so any engine that pulls it, e.g. Beanstalk's Docker, sees them).
    manifest = requests.get(
        f"http://{registry}/v2/petshop/manifests/{digest}",
        timeout=10,
        headers={"Accept": head.headers["Content-Type"]},
    ).json()
    blob = requests.get(
        f"http://{registry}/v2/petshop/blobs/{manifest['config']['digest']}", timeout=10
    ).json()
    assert blob["config"]["Labels"]["org.opencontainers.image.version"] == built_image["tag"]
    assert blob["config"]["User"] == "10001:10001"
    assert "/ping" in " ".join(blob["config"]["Healthcheck"]["Test"])
    # Pull it back (the local registry tag removed first): same digest, same image.
    client.images.remove(f"{repository}:{built_image['tag']}")
    pulled = client.images.pull(repository, tag=built_image["tag"])
    assert f"{repository}@{digest}" in pulled.attrs["RepoDigests"]
    assert pulled.id == built_image["id"]


def test_start_uses_the_checks_recorded_at_build_time(built_image, client):
    """The build ran `pym check` and recorded the checked specs and compiled validators
    (readable by the app user): loading the service imports neither bravado-core nor
    jsonschema, which is what keeps the cold start short."""
    probe = (
        "import sys, time; t = time.time(); import server; "
        "sys.stdout.write(f\"{round(time.time() - t, 2)} {'bravado_core' in sys.modules} "
        "{'jsonschema' in sys.modules}\\n\"); sys.stdout.flush()"
    )
    _, out = run_once(
        client, built_image["id"], "python", "-c", probe, environment={"JWT_SECRET": "x"}
    )
    # stdout and the service's log lines (stderr) interleave in the container's log: the
    # probe writes its line in one write
    line = next(
        (m for m in out.splitlines() if re.fullmatch(r"[\d.]+ (True|False) (True|False)", m)),
        None,
    )
    assert line, out
    seconds, bravado, jsonschema = line.split()
    assert (bravado, jsonschema) == ("False", "False"), out
    print(f"\nservice loaded in {seconds} s from the build-time records")


def test_the_image_serves_its_specs_and_the_docs_page_outside_live(service):
    """The same image runs staging and live: it carries Swagger UI's files, on unless live."""
    _, url, _ = service
    env = requests.get(f"{url}/version", timeout=5).json()["pym_env"]
    assert env != "live"
    docs = requests.get(f"{url}/docs", timeout=5)
    assert docs.status_code == 200 and docs.headers["Content-Type"].startswith("text/html")
    assert "https://" not in docs.text  # self-hosted: no CDN
    spec = requests.get(f"{url}/openapi.json", timeout=5).json()
    assert spec["swagger"] == "2.0" and "/ping" in spec["paths"]
    adoption = requests.get(f"{url}/openapi/adoption.json", timeout=5).json()
    assert adoption["openapi"].startswith("3.1")
