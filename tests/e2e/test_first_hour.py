"""A new user's first hour, as they live it: the wheel built from this repository in a fresh
venv (the `kit` fixture), `pym new bookmarks` outside this repository, then the README's and
the guides' steps in order, in a plain shell (no JWT_SECRET, no PYM_* variables):

`make test`; `pym token` in a plain shell; the user's edits as the guides tell them (a
persisted `x-persist` model, an `@asynctask` that stores one with `with_async: true`, an
OpenAPI 3.1 spec whose `servers` URL has a path beside the Swagger 2.0 one); `make run`
answering the README's curl lines; the model surviving a restart; the task storing a model
under `make run`; `pym acceptance --local` while `make run` is up; `pym fuzz` on both specs;
`pym pipeline local` with fuzzing on for both (its image has the async and persist extras,
built on Debian bookworm's Python 3.11.2) promoting, then a failing unit test stopping the
next run with `live` unchanged. Each step's time is printed, and listed at the end.
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

from tests.e2e.journey import (
    FAILING_UNIT_TEST,
    Served,
    Steps,
    add_stored_model_and_task,
    commit,
    live_digest,
    new_repository,
    record_step,
    run,
)
from tests.image.image_helpers import BASE_IMAGE, REPO, free_port

pytestmark = [pytest.mark.xdist_group("first-hour"), pytest.mark.slow]

NAME = "bookmarks"
STEPS = Steps("first hour")

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
    with STEPS("pym new bookmarks"):
        path = new_repository(kit, tmp_path_factory.mktemp("firsthour"), NAME)
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
        add_stored_model_and_task(repo, NAME)
        (repo / NAME / "notes.py").write_text(NOTES_PY)
        (repo / "apis" / "notes.yaml").write_text(NOTES_SPEC)
        (repo / "testaccept" / "test_stored.py").write_text(ACCEPT_PY)
        commit(kit, repo, "bookmarks stored, archived, notes")
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
    # what the passing run did: every step, the repository's own unit tests, both reports,
    # the tested digest promoted to live
    data = json.loads(summary.read_text())
    for s in data["steps"]:  # the pipeline's own steps, in the journey step times
        record_step(STEPS.title, f"  pipeline step {s['step']}", s["seconds"])
    assert [s["step"] for s in data["steps"]] == [
        "unit-tests", "image", "staging", "acceptance", "promote", "live", "smoke"
    ]  # fmt: skip
    assert re.search(r"\b4 passed\b", out)  # the generated repo's own unit tests
    assert (edited / "reports" / "fuzz.xml").is_file()
    assert (edited / "reports" / "acceptance.xml").is_file()
    promoted = live_digest(registry, NAME)
    assert promoted and promoted == data["pushed_digest"] == data["live_after"]
    assert data["live_before"] is None and all(s["code"] == 0 for s in data["steps"])
    assert f"PROMOTED {NAME}:{tag}" in out
    assert live_digest(registry, NAME, f"live-{tag}") == promoted  # the dated live tag
    assert "smoke-test: http://127.0.0.1:" in out and f"runs {tag}" in out

    # a failing unit test stops the next run before anything is built: live unchanged
    (edited / "tests" / "test_broken.py").write_text(FAILING_UNIT_TEST)
    commit(kit, edited, "a failing test")
    broken = tmp_path / "broken.json"
    with STEPS("pym pipeline local (a failing unit test)"):
        proc = run([str(kit["bin"] / "pym"), "pipeline", "local", "--registry", registry,
                    "--base", BASE_IMAGE, "--tag", f"{tag}-broken", "--summary", str(broken)],
                   cwd=str(edited), env=plain(kit, DOCKER_HOST=docker_host), check=False,
                   timeout=600)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-5000:]
    data = json.loads(broken.read_text())
    assert [(s["step"], s["code"] != 0) for s in data["steps"]] == [("unit-tests", True)]
    assert "1 failed" in out and "STOPPED at unit-tests" in out and "live UNCHANGED" in out
    assert live_digest(registry, NAME) == promoted == data["live_after"]
