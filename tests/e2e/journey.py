"""Helpers of the journey tests (a user's repository, from the wheel): commands, timed steps,
background servers started and stopped by handle."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import requests

from tests.e2e.conftest import run  # noqa: F401  (one helper for every e2e module)
from tests.image.image_helpers import REPO

GIT = ["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com"]
FAILING_UNIT_TEST = """
def test_a_deliberately_failing_unit_test():
    assert 1 + 1 == 3
"""


def new_repository(kit, where, name: str):
    """`pym new NAME` in ``where`` (outside this repository), committed to git: its path."""
    assert not str(where).startswith(REPO)
    run([str(kit["bin"] / "pym"), "new", name], cwd=str(where), env=kit["env"])
    path = where / name
    run(["git", "init", "-q"], cwd=str(path), env=kit["env"])
    commit(kit, path, "pym new")
    return path


def commit(kit, repo, message: str) -> None:
    """``git add -A`` and commit in ``repo`` (the user's repository)."""
    run(["git", "add", "-A"], cwd=str(repo), env=kit["env"])
    run([*GIT, "commit", "-qm", message], cwd=str(repo), env=kit["env"])


def record_step(title: str, name: str, seconds: float) -> None:
    """Append one step's time to the run's step log (printed at the end: tests/conftest.py)."""
    path = os.environ.get("PYM_TEST_STEP_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{title}\t{name}\t{seconds:.1f}\n")


def live_digest(registry: str, name: str, tag: str = "live") -> str | None:
    """The digest the registry's ``NAME:live`` tag (or ``tag``) names (None: no such tag)."""
    r = requests.head(
        f"http://{registry}/v2/{name}/manifests/{tag}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json,"
                 "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=5,
    )  # fmt: skip
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


class Steps:
    """Each journey step's wall time, printed as it ends and listed at the end."""

    def __init__(self, title: str):
        self.title = title
        self.times: list[tuple[str, float]] = []

    def __call__(self, name: str):
        steps = self

        class _Step:
            def __enter__(self):
                self.started = time.monotonic()

            def __exit__(self, *exc):
                took = time.monotonic() - self.started
                steps.times.append((name + ("" if exc[0] is None else " (FAILED)"), took))
                record_step(steps.title, steps.times[-1][0], took)
                print(f"\n[{steps.title}] {name}: {took:.1f} s", flush=True)

        return _Step()

    def summary(self) -> str:
        lines = [f"{self.title}: {len(self.times)} steps, {sum(t for _, t in self.times):.0f} s"]
        lines += [f"  {took:6.1f} s  {name}" for name, took in self.times]
        return "\n".join(lines)


class Served:
    """`make run` (or any command serving on 127.0.0.1:PORT) in the background."""

    def __init__(self, cmd, cwd, env, port: int, log_path: str):
        self.port, self.log_path = port, log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait(self, timeout: float = 90.0) -> Served:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                if requests.get(self.url + "/ping", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no /ping within {timeout} s:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # make, the dev server, its worker
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


# ---- what the user adds, as docs/persist.md and docs/tasks.md tell them --------------------
SPEC_PATHS = """
  /bookmarks:
    post:
      summary: Store a bookmark (x-persist)
      operationId: add_bookmark
      x-bind-server: {package}.store.add_bookmark
      parameters:
        - {name: body, in: body, required: true, schema: {$ref: "#/definitions/Bookmark"}}
      responses:
        "201": {description: Stored, schema: {$ref: "#/definitions/Bookmark"}}
        default: {description: Error, schema: {$ref: "#/definitions/Error"}}
  /bookmarks/{bookmark_id}:
    get:
      summary: A stored bookmark
      operationId: get_bookmark
      x-bind-server: {package}.store.get_bookmark
      parameters:
        - {name: bookmark_id, in: path, required: true, type: string, pattern: "^[a-z0-9-]{1,40}$"}
      responses:
        "200": {description: The bookmark, schema: {$ref: "#/definitions/Bookmark"}}
        default: {description: Error, schema: {$ref: "#/definitions/Error"}}
  /bookmarks/{bookmark_id}/archive:
    post:
      summary: Archive a bookmark later (an async task stores the copy)
      operationId: archive_bookmark
      x-bind-server: {package}.store.archive_bookmark
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


def add_stored_model_and_task(repo, package: str) -> None:
    """The user's edits of docs/persist.md and docs/tasks.md in a `pym new` repository: a
    stored `Bookmark` (x-persist table ``bookmarks``), its operations, the `archive` task,
    ``with_async: true`` and the async extra in requirements.txt."""
    spec = repo / "apis" / f"{package}.yaml"
    text = spec.read_text()
    paths = SPEC_PATHS.replace("{package}", package)
    text = text.replace("\ndefinitions:\n", paths + "\ndefinitions:\n" + SPEC_DEFINITIONS)
    spec.write_text(text)
    (repo / package / "store.py").write_text(STORE_PY)
    config = repo / "pym-config.yaml"
    config.write_text(config.read_text().replace("# with_async: false", "with_async: true"))
    req = repo / "requirements.txt"
    req.write_text(req.read_text().replace("pymacaron[kit]==", "pymacaron[kit,async]=="))
