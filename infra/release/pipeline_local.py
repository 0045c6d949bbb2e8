"""``pym pipeline local``: the pipeline's steps on this machine, in the pipeline's order.

  1 unit-tests   the repository's own test command (pipeline.unit_tests; default pytest tests)
  2 image        pym image build --tag T, then pym image push T --registry R
  3 staging      pym image run T --pym-env staging      (the local "staging")
  4 acceptance   pym acceptance --host 127.0.0.1 --port P, then pym fuzz --url ...
  5 promote      pym image promote T --registry R       (R/<name>:live = the same digest)
  6 live         pull R/<name>:live, run it with --pym-env live
  7 smoke        pym smoke --url http://127.0.0.1:P2 --version T

It stops at the first failing step and reports which one, its exit code and the registry's
`live` tag (unchanged when a step before `promote` failed). Exit codes: 0 promoted and
smoke-tested, 1 a step failed, 2 usage.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import KW_ONLY, dataclass

from pymacaron.testing.runner import free_port

from ..names import pipeline_local_container
from ..service_repo import unit_test_command
from . import common as rel
from . import image as img
from .smoke import smoke

STEPS = ("unit-tests", "image", "staging", "acceptance", "promote", "live", "smoke")


def pym_command(*argv: str) -> list[str]:
    """A `pym` subcommand run by this very Python (no PATH lookup, no shell script)."""
    return [sys.executable, "-m", "pymacaron", *argv]


@dataclass(eq=False)
class PipelineLocal:
    """One run of the pipeline on this machine; the options are ``pym pipeline local``'s."""

    root: str
    _: KW_ONLY
    registry: str = "127.0.0.1:5000"
    tag: str | None = None
    base: str | None = None
    skip_unit_tests: bool = False
    accept_dir: str | None = None
    fuzz: bool = True
    fuzz_examples: int | None = None
    reports: str = "reports"
    keep_running: bool = False
    summary: str | None = None

    def __post_init__(self) -> None:
        root, registry, tag = self.root, self.registry, self.tag
        self.reports = os.path.join(root, self.reports)
        self.summary_file = self.summary
        self.config = rel.read_pym_config(root)
        self.name = rel.service_name(root)
        self.tag = tag or rel.git_version(root)
        self.repository = f"{registry}/{self.name}"
        self.results: list[dict] = []
        bindir = os.path.dirname(sys.executable)
        self.env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        self.containers: list[str] = []
        self.staging_port = free_port()
        self.live_port = free_port()
        self.pushed_digest: str | None = None
        self.dynamodb = None  # the local stages' dynalite (x-persist), when started here
        self.broker = None  # the local stages' redis-server (with_async), when started here

    def call(self, cmd: list[str] | str) -> int:
        shown = cmd if isinstance(cmd, str) else " ".join(cmd).replace(sys.executable, "python")
        print(f"    $ {shown}", flush=True)
        return subprocess.run(
            cmd, cwd=self.root, env=self.env, shell=isinstance(cmd, str)
        ).returncode

    def step(self, name: str, body) -> bool:
        number = STEPS.index(name) + 1
        print(f"\n==> [{number}/{len(STEPS)}] {name}", flush=True)
        started = time.monotonic()
        try:
            code, detail = body()
        except rel.ReleaseError as e:
            code, detail = e.code or 1, str(e)
            print(f"    {name}: {e}", file=sys.stderr)
        seconds = round(time.monotonic() - started, 1)
        self.results.append({"step": name, "code": code, "seconds": seconds, "detail": detail})
        print(f"<== {name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in {seconds} s")
        return code == 0

    # ---- the steps -----------------------------------------------------------------------

    def unit_tests(self):
        if self.skip_unit_tests:
            print("    skipped (--skip-unit-tests)")
            return 0, "skipped"
        command = unit_test_command(self.config.get("pipeline"))
        code = self.call(command)
        return code, command

    def image(self):
        img.build(self.root, tag=self.tag, base=self.base, quiet=True)
        self.pushed_digest = img.push(self.root, self.tag, self.registry)
        return 0, f"{self.repository}:{self.tag} {self.pushed_digest or ''}".strip()

    def local_dynamodb(self, stage: str) -> None:
        """x-persist: a dynalite for the local stages (unless PYM_DYNAMODB_URL names one),
        one table prefix per stage as on AWS."""
        if self.dynamodb is None and "PYM_DYNAMODB_URL" in self.env:
            pass
        elif self.dynamodb is None:
            if not rel.uses_dynamodb(self.root):
                return
            import tempfile

            from pymacaron.persist.local import Dynalite, find_dynalite

            data = tempfile.mkdtemp(prefix="pipeline-local-dynamodb-")
            try:
                binary = find_dynalite(self.root, install=True)
                self.dynamodb = Dynalite(data, binary=binary).start()
            except (FileNotFoundError, RuntimeError) as e:
                raise rel.ReleaseError(
                    f"x-persist: cannot start dynalite ({e}); set PYM_DYNAMODB_URL"
                ) from None
            print(f"    dynalite for the local stages: {self.dynamodb.url} (data {data})")
            self.env["PYM_DYNAMODB_URL"] = os.environ["PYM_DYNAMODB_URL"] = self.dynamodb.url
        self.env["PYM_DYNAMODB_TABLE_PREFIX"] = os.environ["PYM_DYNAMODB_TABLE_PREFIX"] = (
            f"{stage}-"
        )

    def local_broker(self, stage: str) -> None:
        """with_async: a redis-server of this run's own on a free port (never whatever
        answers on 6379), unless PYM_BROKER_URL names one: then it says it reuses it."""
        if self.broker is not None:
            return
        if not rel.read_pym_config(self.root, stage).get("with_async"):
            return
        if self.env.get("PYM_BROKER_URL"):
            shown = self.env["PYM_BROKER_URL"].split("@")[-1]
            print(f"    with_async: reusing the broker of PYM_BROKER_URL ({shown})")
            self.broker = False
            return
        import shutil
        import tempfile

        from pymacaron.tasks.dev import broker_reachable

        server = shutil.which("redis-server")
        if not server:
            raise rel.ReleaseError(
                "with_async: no redis-server to start for the local stages: install it "
                "(apt-get install redis-server) or set PYM_BROKER_URL to a broker"
            )
        port = free_port()
        data = tempfile.mkdtemp(prefix="pipeline-local-redis-")
        self.broker = subprocess.Popen(
            [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
             "no", "--dir", data],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        for _ in range(100):
            if broker_reachable(url, timeout=0.2):
                break
            time.sleep(0.05)
        print(f"    with_async: redis-server for the local stages on {url} (its own)")
        self.env["PYM_BROKER_URL"] = os.environ["PYM_BROKER_URL"] = url

    def run_container(self, ref: str, port: int, stage: str):
        name = pipeline_local_container(self.name, stage)
        self.local_dynamodb(stage)
        self.local_broker(stage)
        self.containers.append(name)
        img.run(self.root, ref, port=port, name=name, pym_env=stage)
        return 0, f"{ref} on http://127.0.0.1:{port}"

    def staging(self):
        return self.run_container(self.tag, self.staging_port, "staging")

    def acceptance_commands(self) -> list[list[str]]:
        cmd = ["acceptance", "--dir", self.root, "--host", "127.0.0.1"]
        cmd += ["--port", str(self.staging_port), "--env", "staging"]
        cmd += ["--junit", os.path.join(self.reports, "acceptance.xml")]
        if self.accept_dir:
            cmd += ["--tests", os.path.abspath(self.accept_dir)]
        commands = [pym_command(*cmd)]
        if self.fuzz:
            fuzz = ["fuzz", "--dir", self.root, "--url", f"http://127.0.0.1:{self.staging_port}"]
            fuzz += ["--env", "staging", "--junit", os.path.join(self.reports, "fuzz.xml")]
            if self.fuzz_examples:
                fuzz += ["--max-examples", str(self.fuzz_examples)]
            commands.append(pym_command(*fuzz))
        return commands

    def acceptance(self):
        os.makedirs(self.reports, exist_ok=True)
        for cmd in self.acceptance_commands():
            code = self.call(cmd)
            if code:
                return code, f"{cmd[3]} failed"
        return 0, "acceptance and fuzzing passed" if self.fuzz else "acceptance passed (no fuzz)"

    def promote(self):
        img.promote(self.root, self.tag, self.registry)
        return 0, f"{self.repository}:live"

    def live(self):
        client = rel.docker_client()
        ref = f"{self.repository}:live"
        print(f"    pull {ref}", flush=True)
        try:
            client.images.pull(self.repository, tag="live")
        except Exception as e:  # noqa: BLE001 - reported as the step's failure
            return 1, f"pull {ref} failed: {rel._short(e)}"
        return self.run_container(ref, self.live_port, "live")

    def smoke(self):
        url = f"http://127.0.0.1:{self.live_port}"
        return smoke(url, self.tag, timeout=30), url

    # ---- the run -------------------------------------------------------------------------

    def secrets_env(self) -> None:
        # each stage's env_secrets, as its runtime reads them (pym-config.<stage>.yaml too)
        names = {
            n
            for s in ("staging", "live")
            for n in rel.read_pym_config(self.root, s).get("env_secrets") or []
        }
        made = sorted(n for n in names if not self.env.get(n))
        for n in made:
            self.env[n] = os.environ[n] = secrets.token_urlsafe(32)
        if made:
            print(f"pipeline local: {', '.join(made)} not set: throw-away values for this run")

    def cleanup(self) -> None:
        if self.dynamodb is not None and not self.keep_running:
            self.dynamodb.stop()
        if self.broker and not self.keep_running:
            self.broker.terminate()
            self.broker.wait(10)
        if self.keep_running or not self.containers:
            return
        try:
            client = rel.docker_client()
        except rel.ReleaseError:
            return
        for name in self.containers:
            try:
                client.containers.get(name).remove(force=True)
            except Exception:  # noqa: BLE001 - not started, or already gone
                pass

    def live_digest(self) -> str | None:
        try:
            return img.v2_digest(self.registry, self.name, "live")
        except rel.ReleaseError as e:
            raise rel.ReleaseError(
                f"no registry answering at {self.registry} ({e}): start one (pym docs image) "
                "or pass --registry host:port",
                rel.EXIT_USAGE,
            ) from None

    def execute(self) -> int:
        live_before = self.live_digest()
        rel.docker_client()  # fail early, with the engine's how-to, when none answers
        self.secrets_env()
        print(f"pipeline local: {self.name}:{self.tag} -> {self.registry}; "
              f"live is {live_before or 'not set'}")  # fmt: skip
        ok = True
        try:
            for name in STEPS:
                if not self.step(name, getattr(self, name.replace("-", "_"))):
                    ok = False
                    break
        finally:
            self.cleanup()
        live_after = self.live_digest()
        self.report(ok, live_before, live_after)
        return 0 if ok else 1

    def report(self, ok: bool, live_before, live_after) -> None:
        print("\npipeline local summary")
        for r in self.results:
            status = "ok" if r["code"] == 0 else f"FAILED (exit {r['code']})"
            print(f"  {r['step']:<11} {status:<18} {r['seconds']:>6} s  {r['detail']}")
        for name in STEPS[len(self.results) :]:
            print(f"  {name:<11} {'not run':<18}")
        if ok:
            print(f"PROMOTED {self.name}:{self.tag}: live is {live_after}")
        else:
            failed = self.results[-1]["step"]
            changed = "UNCHANGED" if live_after == live_before else "changed"
            print(f"STOPPED at {failed}: nothing after it ran; live {changed} "
                  f"({live_after or 'not set'})")  # fmt: skip
        if self.summary_file:
            with open(self.summary_file, "w") as f:
                json.dump(
                    {"ok": ok, "tag": self.tag, "pushed_digest": self.pushed_digest,
                     "live_before": live_before, "live_after": live_after,
                     "steps": self.results},
                    f, indent=2,
                )  # fmt: skip
