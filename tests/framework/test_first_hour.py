"""What broke in a new user's first hour (issue 24), each piece at its own level.

The whole journey, from the wheel in a `pym new` repository, is tests/e2e/test_first_hour.py
and tests/e2e/test_docs_browser.py; here the parts, fast and in-process where they can be.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from pymacaron.server import docs
from tests.conftest import REPO, build_app

NEW_TEMPLATES = os.path.join(REPO, "infra", "templates", "new")


def pym(*args, cwd=None, env=None, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "pymacaron", *args],
        cwd=cwd,
        env=env or dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def new_repo(tmp_path_factory):
    """`pym new bookmarks`'s files, written by the kit's code (no wheel: that is e2e's)."""
    from pymacaron_kit.new import new_service

    where = tmp_path_factory.mktemp("new") / "bookmarks"
    new_service("bookmarks", str(where))
    return where


def plain_env(**extra) -> dict:
    """A shell with no JWT_SECRET and no PYM_ENV, as a user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "PYM_"))}
    return {**env, **extra}


# ---- 1. the docs page: Try it out reaches this server; Authorize -------------------------
def test_the_docs_page_documents_have_no_origin_and_keep_their_schemes(new_repo):
    client = build_app(str(new_repo)).test_client()
    page = client.get("/docs").data.decode()
    urls = json.loads(re.search(r'data-urls="([^"]+)"', page).group(1).replace("&quot;", '"'))
    assert urls == [{"name": "bookmarks 0.1.0", "url": "/docs/openapi/bookmarks.json"}]
    shown = client.get(urls[0]["url"]).get_json()
    # no host: Swagger UI calls the host (and scheme) the document came from
    assert "host" not in shown and "schemes" not in shown
    assert shown["securityDefinitions"]["bearer"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A JWT as `Bearer <token>` (pym token USER prints one)",
    }
    assert shown["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    # the served spec itself stays as written
    assert client.get("/openapi.json").get_json()["host"] == "localhost:8080"
    # and the page's CSP stays strict: only this origin
    assert "connect-src 'self';" in client.get("/docs").headers["Content-Security-Policy"]


def test_openapi3_servers_become_relative_for_the_docs_page():
    doc = {
        "openapi": "3.1.0",
        "servers": [
            {"url": "http://localhost:8080/notes/v1"},
            {"url": "https://api.example.com/notes/v1", "description": "prod"},
            {"url": "{scheme}://{host}/v{major}", "variables": {
                "scheme": {"default": "https"}, "host": {"default": "x"}, "major": {"default": "1"}}},
        ],
        "paths": {"/ping": {"servers": [{"url": "http://localhost:8080/"}], "get": {}}},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }  # fmt: skip
    out = docs.docs_document(doc)
    assert out["servers"] == [
        {"url": "/notes/v1"},
        {"url": "/v{major}", "variables": {"major": {"default": "1"}}},
    ]
    assert out["paths"]["/ping"]["servers"] == [{"url": "/"}]
    assert out["components"] == doc["components"]
    assert doc["servers"][0]["url"] == "http://localhost:8080/notes/v1"  # not modified


def test_the_new_template_declares_a_bearer_scheme_and_keeps_requires_auth():
    with open(os.path.join(NEW_TEMPLATES, "apis", "__name__.yaml.tmpl")) as f:
        text = f.read()
    assert "securityDefinitions:" in text and "- bearer: []" in text
    assert "x-decorate-server: pymacaron.auth.requires_auth" in text


# ---- 2. pym fuzz and an OpenAPI 3 servers path --------------------------------------------
def test_fuzz_base_url_takes_the_openapi3_servers_path(tmp_path):
    from pymacaron.testing.fuzz import base_url_for

    spec = tmp_path / "notes.yaml"
    spec.write_text(
        "openapi: 3.1.0\ninfo: {title: n, version: '1'}\n"
        "servers:\n  - url: http://localhost:8080/notes/v1/\npaths: {}\n"
    )
    assert base_url_for(str(spec), "http://127.0.0.1:9") == "http://127.0.0.1:9/notes/v1"
    spec.write_text("swagger: '2.0'\ninfo: {title: n, version: '1'}\nbasePath: /b\npaths: {}\n")
    assert base_url_for(str(spec), "http://127.0.0.1:9") == "http://127.0.0.1:9/b"


# ---- 5. the async lock on Debian bookworm's Python 3.11.2 ---------------------------------
def test_the_async_lock_carries_async_timeout_for_python_before_3_11_3():
    with open(os.path.join(REPO, "docker", "requirements-async.lock")) as f:
        text = f.read()
    line = next(ln for ln in text.splitlines() if ln.startswith("async-timeout=="))
    assert line.endswith('; python_full_version < "3.11.3" \\'), line
    assert "--hash=sha256:" in text.split(line, 1)[1].splitlines()[1]


def test_lock_adds_what_an_older_python_needs_with_its_marker():
    from pymacaron_kit.release.lock import conditional_missing

    items = [
        {"metadata": {"name": "redis", "requires_dist": [
            "async-timeout>=4.0.3; python_full_version < '3.11.3'",
            "hiredis>=3.2.0; extra == 'hiredis'", "tomli; python_version < '3.11'"]}},
        {"metadata": {"name": "celery", "requires_dist": ["redis>=4"]}},
    ]  # fmt: skip
    assert conditional_missing(items) == [
        ("async-timeout>=4.0.3", 'python_full_version < "3.11.3"')
    ]


# ---- 6. a dynalite on a data directory already in use says so -----------------------------
@pytest.mark.slow
def test_a_second_dynalite_on_the_same_data_names_the_lock(tmp_path):
    import boto3

    from pymacaron.persist.local import Dynalite

    data = tmp_path / "dynamodb"
    with Dynalite(str(data), log_file=str(tmp_path / "one.log")) as first:
        db = boto3.client("dynamodb", endpoint_url=first.url, region_name="eu-west-1",
                          aws_access_key_id="x", aws_secret_access_key="y")  # fmt: skip
        assert db.list_tables()["TableNames"] == []  # its LevelDB is open (and locked)
        second = Dynalite(str(data), log_file=str(tmp_path / "two.log"))
        with pytest.raises(RuntimeError) as e:
            second.start()
            second.stop()
    message = str(e.value)
    assert "\n" not in message and "another dynalite uses this data directory" in message


def _run_local_acceptance(tmp_path, monkeypatch, config: str, started: list) -> None:
    """Run `pym acceptance --local` on a service whose pym-config is ``config``, stopped
    (AcceptanceError "stop here") where its first local service would start; ``started``
    gets the (name, env) it would have started with."""
    from pymacaron.testing import runner

    class Stub:
        def __init__(self, name, directory, env, logdir):
            started.append((name, env))
            raise runner.AcceptanceError("stop here")

    (tmp_path / "testaccept").mkdir()
    (tmp_path / "pym-config.yaml").write_text(config)
    monkeypatch.setattr(runner, "LocalService", Stub)
    runner.run_acceptance(runner.AcceptanceOptions(directory=str(tmp_path), local=True))


def test_acceptance_local_gives_the_service_a_store_of_its_own(tmp_path, monkeypatch):
    """The runner's local service gets its own PYM_DYNAMODB_PATH (not .pym/dynamodb)."""
    from pymacaron.testing import runner

    started: list = []
    monkeypatch.delenv("PYM_DYNAMODB_URL", raising=False)
    monkeypatch.delenv("PYM_DYNAMODB_PATH", raising=False)
    with pytest.raises(runner.AcceptanceError):
        _run_local_acceptance(tmp_path, monkeypatch, "name: svc\n", started)
    path = started[0][1]["PYM_DYNAMODB_PATH"]
    assert path.endswith("dynamodb") and not path.startswith(str(tmp_path))


def test_acceptance_local_refuses_the_config_the_service_would_refuse(tmp_path, monkeypatch):
    """`pym acceptance --local` reads the typed config (the one the service's start reads):
    a secret listed in env_secrets and not set stops the run with that one-line message,
    naming the key, before any service starts (it used to read the raw file for the name,
    start the service and report that it did not start)."""
    from pymacaron.testing import runner

    started: list = []
    monkeypatch.delenv("PYM_TEST_API_KEY", raising=False)
    config = "name: svc\nenv_secrets: [PYM_TEST_API_KEY]\n"
    with pytest.raises(runner.AcceptanceError) as refused:
        _run_local_acceptance(tmp_path, monkeypatch, config, started)
    message = str(refused.value)
    assert started == []
    assert "\n" not in message
    assert "pym-config.yaml" in message and "env_secrets" in message
    assert "PYM_TEST_API_KEY" in message


def test_acceptance_local_names_the_service_from_its_typed_config(tmp_path, monkeypatch):
    """The local service is named by pym-config's `name` (as its typed config reads it)."""
    from pymacaron.testing import runner

    started: list = []
    with pytest.raises(runner.AcceptanceError, match="stop here"):
        _run_local_acceptance(tmp_path, monkeypatch, "name: petstore\n", started)
    assert [name for name, _ in started] == ["petstore"]


def test_acceptance_local_serves_with_the_dev_secret_so_pym_token_works(new_repo):
    """In a plain shell, `pym acceptance --local` starts the service with the secret `pym run`
    uses (.pym/dev-secret): a token of `pym token` is accepted by it (on 997c910 the local
    service got a throw-away secret and /me answered 401)."""
    env = plain_env()
    token = pym("token", "ada", cwd=str(new_repo), env=env).stdout.strip()
    assert token.count(".") == 2
    proc = pym("acceptance", "--local", "--token", token, "--", "-q", "-k", "me_with_a_token",
               cwd=str(new_repo), env=env, timeout=120)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "using .pym/dev-secret, as pym run does" in out
    assert re.search(r"\b1 passed\b", out), out[-2000:]
    assert token not in out  # never logged


# ---- 7. the development JWT secret ------------------------------------------------------
def test_this_repositorys_makefile_exports_no_secret_of_its_own():
    """`make run` here relies on .pym/dev-secret as a `pym new` repository's does: the
    Makefile exports no JWT_SECRET into its recipes (on 997c910 it exported a fixed one)."""
    env = {k: v for k, v in os.environ.items() if k != "JWT_SECRET"}
    proc = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", 'pym-secret: ; @echo "[$$JWT_SECRET]"',
         "pym-secret"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout


def test_pym_new_writes_a_dev_secret_every_command_reads(new_repo):
    from pymacaron.config import load_config

    secret = (new_repo / ".pym" / "dev-secret").read_text().strip()
    assert (
        len(secret) >= 40 and oct((new_repo / ".pym" / "dev-secret").stat().st_mode)[-3:] == "600"
    )
    assert ".pym/" in (new_repo / ".gitignore").read_text().split()
    assert "JWT_SECRET" not in (new_repo / "Makefile").read_text().replace("# JWT_SECRET", "")
    env = plain_env()
    assert load_config(str(new_repo), env="dev", environ=env).jwt_secret == secret
    for stage in ("staging", "live"):
        with pytest.raises(Exception, match="JWT_SECRET"):
            load_config(str(new_repo), env=stage, environ=env)
    # an exported JWT_SECRET wins
    assert load_config(str(new_repo), env="dev", environ={"JWT_SECRET": "x" * 40}).jwt_secret == (
        "x" * 40
    )


@pytest.mark.slow
def test_pym_token_and_check_work_in_a_plain_shell(new_repo):
    import jwt

    env = plain_env()
    token = pym("token", "ada", cwd=str(new_repo), env=env)
    assert token.returncode == 0, token.stderr
    secret = (new_repo / ".pym" / "dev-secret").read_text().strip()
    claims = jwt.decode(
        token.stdout.strip(), secret, algorithms=["HS256"], audience="bookmarks-users"
    )
    assert claims["sub"] == "ada" or "ada" in json.dumps(claims)
    check = pym("check", cwd=str(new_repo), env=env)
    assert check.returncode == 0, check.stderr
    # 9: each line once
    out = check.stdout + check.stderr
    assert out.count("serving bookmarks, ping on 5 routes") == 1, out
    # live never reads the dev secret
    live = pym("token", "ada", cwd=str(new_repo), env={**env, "PYM_ENV": "live"})
    assert live.returncode == 2 and "JWT_SECRET" in live.stderr


def test_a_dev_secret_is_created_by_any_pym_command_in_a_fresh_clone(new_repo, tmp_path):
    import shutil

    clone = tmp_path / "clone"
    shutil.copytree(new_repo, clone, ignore=shutil.ignore_patterns(".pym"))
    proc = pym("token", "bob", cwd=str(clone), env=plain_env())
    assert proc.returncode == 0, proc.stderr
    assert (clone / ".pym" / "dev-secret").is_file()


# ---- 8. the guides in the wheel: pym docs ----------------------------------------------
def test_pym_docs_lists_and_prints_the_guides():
    listing = pym("docs")
    assert listing.returncode == 0
    for topic in ("deploy", "pipeline", "persist", "tasks", "image", "operate"):
        assert re.search(rf"^  {topic}\s", listing.stdout, re.M), listing.stdout
    assert "architecture" not in listing.stdout and "decisions" not in listing.stdout
    deploy = pym("docs", "deploy")
    with open(os.path.join(REPO, "docs", "deploy.md")) as f:
        source = f.read()
    # the same text, its references to other guides as the command that prints them
    assert deploy.stdout.splitlines()[0] == source.splitlines()[0]
    assert len(deploy.stdout.splitlines()) == len(source.splitlines())
    assert "docs/image.md" in source and "docs/image.md" not in deploy.stdout
    assert "pym docs image" in deploy.stdout
    bad = pym("docs", "nope")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "deploy" in bad.stderr


def test_messages_and_config_comments_name_only_what_a_user_has():
    """Every docs/X.md or scripts/ a user reads in a message or a generated file is a
    `pym docs X` (or a pym command) instead."""
    offenders = []
    for root, _, names in os.walk(NEW_TEMPLATES):
        for name in names:
            path = os.path.join(root, name)
            with open(path) as f:
                for number, line in enumerate(f, 1):
                    if re.search(r"docs/\w+\.md|scripts/", line):
                        offenders.append(f"{path}:{number}: {line.strip()}")
    sources = [
        os.path.join(root, name)
        for top in ("framework/pymacaron", "infra")
        for root, _, names in os.walk(os.path.join(REPO, top))
        for name in names
        if name.endswith(".py") and "templates" not in root
    ]
    for path in sources:
        with open(path) as f:
            text = f.read()
        # strings only (messages), not docstrings or comments: quoted text on a line
        for number, line in enumerate(text.splitlines(), 1):
            code = line.strip().startswith("#") or '"""' in line
            strings = [] if code else re.findall(r'"([^"]*)"', line)
            if any(re.search(r"docs/\w+\.md|scripts/|npm install`? \(package", s) for s in strings):
                offenders.append(f"{path}:{number}: {line.strip()}")
    assert offenders == []


def test_the_guides_are_in_the_wheel(tmp_path):
    import zipfile

    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), REPO],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("pymacaron-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"pymacaron/guides/deploy.md", "pymacaron/guides/persist.md"} <= names
    assert "pymacaron/guides/decisions.md" not in names


# ---- 9. the small ones ----------------------------------------------------------------------
def test_pym_version():
    from pymacaron import __version__

    proc = pym("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"pym (pymacaron) {__version__}"


def test_a_non_server_command_does_not_say_cannot_start(tmp_path):
    (tmp_path / "server.py").write_text("")
    (tmp_path / "pym-config.yaml").write_text("name: x\nenv_secrets: [JWT_SECRET]\n")
    proc = pym("token", "ada", cwd=str(tmp_path), env=plain_env(PYM_ENV="staging"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("pym token: ") and "cannot start" not in proc.stderr


def test_pym_run_reload_restarts_the_dev_server_on_an_edit(new_repo, tmp_path):
    import shutil
    import time

    import requests

    from tests.conftest import free_port

    svc = tmp_path / "svc"
    shutil.copytree(new_repo, svc)
    port = free_port()
    log = open(tmp_path / "run.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "pymacaron", "run", "--reload", "--port", str(port)],
        cwd=str(svc), env=plain_env(), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/hello?who=ada"

    def answer():
        try:
            return requests.get(url, timeout=2).json().get("message")
        except (requests.RequestException, ValueError):
            return None

    try:
        deadline = time.monotonic() + 40
        while answer() != "hello, ada" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert answer() == "hello, ada", (tmp_path / "run.log").read_text()[-3000:]
        api = svc / "bookmarks" / "api.py"
        api.write_text(api.read_text().replace('f"hello, {who}"', 'f"hi, {who}"'))
        deadline = time.monotonic() + 40
        while answer() != "hi, ada" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert answer() == "hi, ada", (tmp_path / "run.log").read_text()[-3000:]
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(20)
        log.close()


# ---- 3. dynalite for a repository without node_modules ---------------------------------
@pytest.mark.slow
def test_dynalite_is_installed_on_first_use_into_the_cache(tmp_path, monkeypatch):
    from pymacaron.persist.local import Dynalite, find_dynalite

    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + ":/usr/bin:/bin")
    service = tmp_path / "svc"
    service.mkdir()
    assert find_dynalite(str(service)) is None  # nothing there, as in a `pym new` repo
    binary = find_dynalite(str(service), install=True)
    assert binary and binary.startswith(str(tmp_path / "cache"))
    with Dynalite(str(tmp_path / "data"), binary=binary) as store:
        import boto3

        db = boto3.client("dynamodb", endpoint_url=store.url, region_name="eu-west-1",
                          aws_access_key_id="x", aws_secret_access_key="y")  # fmt: skip
        assert db.list_tables()["TableNames"] == []
    assert find_dynalite(str(service), install=True) == binary  # once


# ---- 4. the dev worker gets the dev store -------------------------------------------------
def test_the_dev_worker_starts_after_dynalite_and_inherits_its_url(monkeypatch):
    from pymacaron.persist import local
    from pymacaron.run import dev
    from pymacaron.tasks import dev as tasks_dev

    seen = []
    monkeypatch.delenv("PYM_DYNAMODB_URL", raising=False)
    monkeypatch.delenv("PYM_RELOAD", raising=False)

    def dynalite():
        seen.append("dynalite")
        os.environ["PYM_DYNAMODB_URL"] = "http://127.0.0.1:1"

    monkeypatch.setattr(local, "start_dev_dynamodb", dynalite)
    monkeypatch.setattr(
        tasks_dev, "start_dev_worker", lambda: seen.append(os.environ.get("PYM_DYNAMODB_URL"))
    )

    class Server:
        def serve_forever(self):
            seen.append("serving")

        def server_close(self):
            pass

    import werkzeug.serving

    monkeypatch.setattr(werkzeug.serving, "make_server", lambda *a, **k: Server())
    monkeypatch.setattr(dev.signal, "signal", lambda *a: None)
    with pytest.raises(SystemExit):
        dev.run_dev_server(object(), 1)
    os.environ.pop("PYM_DYNAMODB_URL", None)
    assert seen == ["dynalite", "http://127.0.0.1:1", "serving"]
