"""A new user's first hour, as they live it: the wheel built from this repository in a fresh
venv (the `kit` fixture), `pym new bookmarks` outside this repository, then the README's and
the guides' steps in order, in a plain shell (no JWT_SECRET, no PYM_* variables):

`make test`; `pym token` in a plain shell; the user's edits as the guides tell them (a
persisted `x-persist` model, an `@asynctask` that stores one with `with_async: true`, an
OpenAPI 3.1 spec whose `servers` URL has a path beside the Swagger 2.0 one); `make run`
answering the README's curl lines; the model surviving a restart; the task storing a model
under `make run`; `pym acceptance --local` while `make run` is up; `pym fuzz` on both specs;
`pym pipeline local` with fuzzing on for both (its image has the async and persist extras,
built on Debian bookworm's Python 3.11.2). Each step's time is printed, and listed at the end.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from tests.e2e.journey import Served, Steps, run
from tests.image.image_helpers import BASE_IMAGE, REPO, free_port

pytestmark = [pytest.mark.xdist_group("image"), pytest.mark.slow]

NAME = "bookmarks"
STEPS = Steps("first hour")

# ---- what the user adds, as docs/persist.md and docs/tasks.md tell them --------------------
SPEC_PATHS = """
  /bookmarks:
    post:
      summary: Store a bookmark (x-persist)
      operationId: add_bookmark
      x-bind-server: bookmarks.store.add_bookmark
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/Bookmark"}}
      responses:
        "201": {description: Stored, schema: {$ref: "#/definitions/Bookmark"}}
        default: {description: Error, schema: {$ref: "#/definitions/Error"}}
  /bookmarks/{bookmark_id}:
    get:
      summary: A stored bookmark
      operationId: get_bookmark
      x-bind-server: bookmarks.store.get_bookmark
      parameters:
        - {name: bookmark_id, in: path, required: true, type: string, pattern: "^[a-z0-9-]{1,40}$"}
      responses:
        "200": {description: The bookmark, schema: {$ref: "#/definitions/Bookmark"}}
        default: {description: Error, schema: {$ref: "#/definitions/Error"}}
  /bookmarks/{bookmark_id}/archive:
    post:
      summary: Archive a bookmark later (an async task stores the copy)
      operationId: archive_bookmark
      x-bind-server: bookmarks.store.archive_bookmark
      parameters:
        - {name: bookmark_id, in: path, required: true, type: string, pattern: "^[a-z0-9-]{1,40}$"}
      responses:
        "202": {description: Queued, schema: {$ref: "#/definitions/Queued"}}
        default: {description: Error, schema: {$ref: "#/definitions/Error"}}
"""
SPEC_DEFINITIONS = """
  Bookmark:
    type: object
    required: [id, url]
    additionalProperties: false
    x-persist:
      table: bookmarks
      key: id
      not_found: BOOKMARK_NOT_FOUND
    properties:
      id: {type: string, pattern: "^[a-z0-9-]{1,40}$"}
      url: {type: string, minLength: 1, maxLength: 500}
  Queued:
    type: object
    required: [queued]
    properties:
      queued: {type: string}
"""
STORE_PY = '''"""Stored bookmarks (x-persist) and their archiving task (@asynctask)."""

from pymacaron.models import Bookmark
from pymacaron.tasks import asynctask


def add_bookmark(bookmark):
    return bookmark.save(), 201


def get_bookmark(bookmark_id):
    return Bookmark.load_or_404(bookmark_id)


@asynctask(retries=3, backoff=1)
def archive(bookmark_id):
    """Store an archived copy (idempotent: a task runs at least once)."""
    original = Bookmark.load(bookmark_id)
    copy_id = f"{bookmark_id}-archived"[:40]
    if original is not None and Bookmark.load(copy_id) is None:
        Bookmark(id=copy_id, url=original.url).save()


def archive_bookmark(bookmark_id):
    archive(bookmark_id)
    return {"queued": bookmark_id}, 202
'''
NOTES_SPEC = """openapi: 3.1.0
info:
  title: notes
  version: "1.0.0"
servers:
  - url: http://localhost:8080/notes/v1
paths:
  /notes/{note_id}:
    get:
      operationId: get_note
      x-bind-server: bookmarks.notes.get_note
      parameters:
        - name: note_id
          in: path
          required: true
          schema: {type: integer, minimum: 1, maximum: 1000}
      responses:
        "200":
          description: A note
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
        "400":
          description: Bad request
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Error"}
components:
  schemas:
    Note:
      type: object
      required: [id, text]
      properties:
        id: {type: integer}
        text: {type: [string, "null"]}
    Error:
      type: object
      required: [status, error, error_description, error_id]
      properties:
        status: {type: integer}
        error: {type: string}
        error_description: {type: string}
        error_id: {type: string}
        user_message: {type: string}
"""
NOTES_PY = """def get_note(note_id):
    return {"id": note_id, "text": None if note_id % 2 else f"note {note_id}"}
"""
ACCEPT_PY = """import uuid


def test_a_bookmark_is_stored(pym_client):
    key = uuid.uuid4().hex[:12]
    pym_client.assertPostReturnJson("/bookmarks", {"id": key, "url": "https://a.example"}, 201)
    got = pym_client.assertGetReturnJson(f"/bookmarks/{key}", 200)
    assert got["url"] == "https://a.example"


def test_a_note_of_the_31_spec(pym_client):
    assert pym_client.assertGetReturnJson("/notes/v1/notes/2", 200)["text"] == "note 2"
"""


@pytest.fixture(scope="module")
def repo(kit, tmp_path_factory):
    where = tmp_path_factory.mktemp("firsthour")
    assert not str(where).startswith(REPO)
    with STEPS("pym new bookmarks"):
        run([str(kit["bin"] / "pym"), "new", NAME], cwd=str(where), env=kit["env"])
    path = where / NAME
    git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com"]
    run(["git", "init", "-q"], cwd=str(path), env=kit["env"])
    run(["git", "add", "-A"], cwd=str(path), env=kit["env"])
    run([*git, "commit", "-qm", "pym new"], cwd=str(path), env=kit["env"])
    yield path
    print("\n" + STEPS.summary())


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    """The broker `with_async: true` needs (docs/tasks.md: start one, set PYM_BROKER_URL)."""
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed: run `make system-tools`"
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def plain(kit, **extra) -> dict:
    """The user's shell: the kit's venv on PATH, no JWT_SECRET, no PYM_* variables."""
    env = {k: v for k, v in kit["env"].items() if not k.startswith(("JWT_", "PYM_"))}
    return {**env, **extra}


def test_make_test_of_the_new_repository(repo, kit):
    readme = (repo / "README.md").read_text()
    command = re.search(r"^(make test)\b", readme, re.M).group(1)
    with STEPS("make test (fresh repository)"):
        proc = run([*command.split(), f"VENV={kit['venv']}"], cwd=str(repo), env=plain(kit))
    assert re.search(r"\b4 passed\b", proc.stdout), proc.stdout[-2000:]
    out = proc.stdout + proc.stderr
    assert out.count("serving bookmarks, ping on") <= 1, out  # pym check: each line once


def test_pym_token_in_a_plain_shell(repo, kit):
    import jwt

    with STEPS("pym token (plain shell)"):
        proc = run([str(kit["bin"] / "pym"), "token", "ada"], cwd=str(repo), env=plain(kit))
    secret = (repo / ".pym" / "dev-secret").read_text().strip()
    claims = jwt.decode(proc.stdout.strip(), secret, algorithms=["HS256"],
                        audience=f"{NAME}-users", issuer=NAME)  # fmt: skip
    assert "ada" in json.dumps(claims)


@pytest.fixture(scope="module")
def edited(repo, kit):
    """The user's edits, as the guides tell them, committed."""
    with STEPS("the user's edits (x-persist, @asynctask, a 3.1 spec)"):
        spec = repo / "apis" / f"{NAME}.yaml"
        text = spec.read_text()
        text = text.replace("\ndefinitions:\n", SPEC_PATHS + "\ndefinitions:\n" + SPEC_DEFINITIONS)
        spec.write_text(text)
        (repo / NAME / "store.py").write_text(STORE_PY)
        (repo / NAME / "notes.py").write_text(NOTES_PY)
        (repo / "apis" / "notes.yaml").write_text(NOTES_SPEC)
        (repo / "testaccept" / "test_stored.py").write_text(ACCEPT_PY)
        config = repo / "pym-config.yaml"
        config.write_text(config.read_text().replace("# with_async: false", "with_async: true"))
        req = repo / "requirements.txt"
        req.write_text(req.read_text().replace("pymacaron[kit]==", "pymacaron[kit,async]=="))
        git = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com"]
        run(["git", "add", "-A"], cwd=str(repo), env=kit["env"])
        run([*git, "commit", "-qm", "bookmarks stored, archived, notes"], cwd=str(repo),
            env=kit["env"])  # fmt: skip
    return repo


@pytest.fixture(scope="module")
def make_run(edited, kit, redis, tmp_path_factory):
    """`make run` on a free port (the user's own broker in PYM_BROKER_URL), restartable."""
    port = free_port()
    log = str(tmp_path_factory.mktemp("makerun") / "make-run.log")
    env = plain(kit, PYM_BROKER_URL=redis)
    cmd = ["make", "run", f"PORT={port}", f"VENV={kit['venv']}"]

    class MakeRun:
        def __init__(self):
            self.served = None

        def start(self, timeout=240):
            self.served = Served(cmd, str(edited), env, port, log).wait(timeout)
            return self.served

        def stop(self):
            if self.served is not None:
                self.served.stop()
                self.served = None

    runner = MakeRun()
    with STEPS("make run (pip install of the async extra, dynalite on first use)"):
        runner.start()
    yield runner
    runner.stop()


def test_make_run_answers_the_readme_curl_lines(make_run, edited, kit):
    served = make_run.served
    readme = (edited / "README.md").read_text()
    lines = [ln.split("  #")[0].strip() for ln in readme.splitlines() if ln.startswith("curl ")]
    assert len(lines) == 4, lines
    expected = [
        "{}",
        '{"message": "hello, you"}',
        "AUTHORIZATION_HEADER_MISSING",
        '"user_id": "you"',
    ]
    with STEPS("the README's curl lines"):
        for line, want in zip(lines, expected, strict=True):
            line = line.replace("localhost:8080", f"localhost:{served.port}")
            out = run(["bash", "-c", line], cwd=str(edited), env=plain(kit)).stdout
            assert want in out.replace('":"', '": "'), (line, out)
    assert "Authorization: Bearer" not in served.output()  # no token in the log


def test_a_persisted_model_survives_a_restart(make_run):
    url = make_run.served.url
    with STEPS("a persisted model survives a restart"):
        r = requests.post(f"{url}/bookmarks", json={"id": "kept", "url": "https://k.example"},
                          timeout=10)  # fmt: skip
        assert r.status_code == 201, r.text
        make_run.stop()
        make_run.start(timeout=90)
        r = requests.get(f"{make_run.served.url}/bookmarks/kept", timeout=10)
    assert (r.status_code, r.json()["url"]) == (200, "https://k.example"), r.text


def test_an_async_task_stores_a_model_under_make_run(make_run):
    url = make_run.served.url
    with STEPS("an async task stores a model under make run"):
        assert requests.post(f"{url}/bookmarks", json={"id": "later", "url": "https://l.example"},
                             timeout=10).status_code == 201  # fmt: skip
        r = requests.post(f"{url}/bookmarks/later/archive", timeout=10)
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        got = None
        while time.monotonic() < deadline:
            got = requests.get(f"{url}/bookmarks/later-archived", timeout=10)
            if got.status_code == 200:
                break
            time.sleep(0.5)
    assert got is not None and got.status_code == 200, make_run.served.output()[-4000:]
    assert "dead-letter" not in make_run.served.output().lower()


def test_the_openapi_31_spec_is_served_beside_the_20_one(make_run):
    url = make_run.served.url
    assert requests.get(f"{url}/notes/v1/notes/4", timeout=10).json() == {"id": 4, "text": "note 4"}
    assert set(requests.get(f"{url}/version", timeout=10).json()["apis"]) >= {NAME, "notes"}


def test_acceptance_local_while_make_run_is_up(make_run, edited, kit, redis):
    assert make_run.served.proc.poll() is None
    with STEPS("pym acceptance --local while make run is up"):
        proc = run([str(kit["bin"] / "pym"), "acceptance", "--local"], cwd=str(edited),
                   env=plain(kit, PYM_BROKER_URL=redis), check=False, timeout=300)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    assert re.search(r"\b7 passed\b", out), out[-3000:]
    # and make run's own store is still fine
    assert requests.get(f"{make_run.served.url}/bookmarks/kept", timeout=10).status_code == 200


def test_pym_fuzz_on_both_specs(make_run, edited, kit):
    with STEPS("pym fuzz (2.0 + 3.1 specs, 5 examples)"):
        proc = run([str(kit["bin"] / "pym"), "fuzz", "--port", str(make_run.served.port),
                    "--max-examples", "5", "--seed", "1"], cwd=str(edited), env=plain(kit),
                   check=False, timeout=400)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert f"apis/notes.yaml against {make_run.served.url}/notes/v1" in out, out[-3000:]
    assert f"apis/{NAME}.yaml against {make_run.served.url}" in out
    make_run.stop()


def test_pipeline_local_with_fuzzing_for_both_specs(edited, kit, services, tmp_path):
    registry, docker_host = services
    tag = f"fh-{time.strftime('%H%M%S')}"
    summary = tmp_path / "summary.json"
    with STEPS("pym pipeline local (async + persist image, fuzz on both specs)"):
        proc = run([str(kit["bin"] / "pym"), "pipeline", "local", "--registry", registry,
                    "--base", BASE_IMAGE, "--tag", tag, "--fuzz-examples", "5",
                    "--summary", str(summary)], cwd=str(edited),
                   env=plain(kit, DOCKER_HOST=docker_host), check=False, timeout=900)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "acceptance and fuzzing passed" in out
    assert "/notes/v1" in out  # the 3.1 spec fuzzed under its base path
    assert re.search(r"redis-server for the local stages on redis://127\.0\.0\.1:\d+/0 \(its own\)",
                     out), out[-3000:]  # fmt: skip
    import docker

    client = docker.DockerClient(base_url=docker_host)
    size = client.images.get(f"{NAME}:{tag}").attrs["Size"]
    base = client.images.get(BASE_IMAGE).attrs["Size"]
    print(f"\nimage {NAME}:{tag} (async + persist extras): {size / 1e6:.1f} MB = base "
          f"{base / 1e6:.1f} MB + {(size - base) / 1e6:.1f} MB")  # fmt: skip
    # README.md's figure (112.5 MB measured on 2026-12-07), kept within 10 MB
    with open(os.path.join(REPO, "README.md")) as f:
        assert "~113 MB with the async and persist extras" in f.read()
    assert abs((size - base) / 1e6 - 113) <= 10
