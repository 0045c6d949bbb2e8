"""The acceptance runner: run a service's ``testaccept/`` with pytest against a target.

Targets: ``--host H --port P``, ``--url https://...``, or ``--local`` (start the service's
``server.py`` on a free port, wait for /ping, run, stop it). With ``--local`` the services
listed in ``testaccept/acceptance.yaml`` under ``local_services: {<api>: <dir>}`` are
started too, each on its own free port, and the service's client is pointed at them
(``PYM_CLIENT_<API>_URL``). The tests learn which downstream services are really there
from ``PYM_ACCEPT_PROVIDED`` (comma-separated API names: those started locally plus
``--provided``), so they can assert the real answer or the clean DOWNSTREAM error.

A test JWT is generated when the service's config has ``jwt_secret`` (``--local``, when
``JWT_SECRET`` is not set, uses the service's ``.pym/dev-secret`` as `pym run` and `pym
token` do, else makes one up). The exit code is pytest's (0 when every test
passed); 2 when the target cannot be reached or a local service does not start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..client.transport import failure_reason
from ..config import PymConfig, load_config, set_config
from ..devsecret import read_dev_secret
from ..exceptions import StartupError
from ..ports import free_port

ACCEPTANCE_FILE = "acceptance.yaml"

__all__ = ["AcceptanceOptions", "run_acceptance", "free_port", "wait_for_ping"]


@dataclass
class AcceptanceOptions:
    """What ``pym acceptance`` was asked to do."""

    directory: str = "."
    host: str | None = None
    port: int | None = None
    url: str | None = None
    local: bool = False
    tests: str = "testaccept"
    junit: str | None = None
    env: str | None = None
    token: str | None = None
    provided: list[str] = field(default_factory=list)
    no_ssl_check: bool = False
    start_timeout: float = 30.0
    pytest_args: list[str] = field(default_factory=list)


class AcceptanceError(Exception):
    """The run could not start: unreachable target, a service that does not start."""


def say(message: str) -> None:
    print(f"acceptance: {message}", file=sys.stderr, flush=True)


def wait_for_ping(base_url: str, timeout: float, process: subprocess.Popen | None = None):
    """Poll ``<base_url>/ping`` until it answers 200; raises AcceptanceError on timeout."""
    import requests  # on first use

    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AcceptanceError(f"the service exited with code {process.returncode}")
        try:
            r = requests.get(base_url + "/ping", timeout=2)
            if r.status_code == 200:
                return
            last = f"status {r.status_code}"
        except requests.RequestException as e:
            last = failure_reason(e)
        time.sleep(0.1)
    raise AcceptanceError(f"{base_url}/ping did not answer 200 within {timeout:.0f}s ({last})")


def check_reachable(base_url: str, verify: bool) -> None:
    """One GET /ping; raises AcceptanceError saying why the target cannot be tested."""
    import requests

    try:
        r = requests.get(base_url + "/ping", timeout=(5, 15), verify=verify)
    except requests.RequestException as e:
        raise AcceptanceError(
            f"cannot reach {base_url}/ping: {failure_reason(e)} (is the service running there?)"
        ) from None
    if r.status_code != 200:
        raise AcceptanceError(f"{base_url}/ping answered {r.status_code}, expected 200")


def load_local_services(directory: str, tests: str) -> dict[str, str]:
    """``local_services`` of ``<tests>/acceptance.yaml``: {api name: service directory}."""
    path = os.path.join(directory, tests, ACCEPTANCE_FILE)
    if not os.path.isfile(path):
        return {}
    from pymacaron.spec.yamlfile import load_yaml

    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise AcceptanceError(
            f"{path}: expected a mapping (local_services:, fuzz_exclude_paths:), "
            f"got a {type(data).__name__}"
        )
    services = data.get("local_services") or {}
    if not isinstance(services, dict):
        raise AcceptanceError(f"{path}: local_services must map API names to directories")
    out = {}
    for name, sub in services.items():
        service_dir = os.path.normpath(os.path.join(directory, str(sub)))
        if not os.path.isfile(os.path.join(service_dir, "server.py")):
            raise AcceptanceError(f"{path}: local_services.{name}: no server.py in {service_dir}")
        out[str(name)] = service_dir
    return out


def start_logged(argv: list[str], cwd: str, env: dict | None, log) -> subprocess.Popen:
    """``argv`` started in its own session (it and what it forks stop together), its output
    and errors into the open file ``log``."""
    return subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_process(process: subprocess.Popen, grace: float = 5.0, group: bool = False) -> None:
    """SIGTERM, then SIGKILL (to its whole session with ``group``) after ``grace`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(timeout=5)


class LocalService:
    """A service started as a real process on a free port, its output in a log file."""

    def __init__(self, name: str, directory: str, env: dict, logdir: str):
        self.name = name
        self.directory = directory
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(logdir, f"{name}.log")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        argv = [sys.executable, "server.py", "--port", str(self.port), "--host", "127.0.0.1"]
        self.process = start_logged(argv, directory, env, self._log)

    def tail(self, lines: int = 15) -> str:
        with open(self.log_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


def _target(options: AcceptanceOptions) -> tuple[str, str, bool]:
    """(PYM_SERVER_HOST, PYM_SERVER_PORT, https) for --url or --host/--port."""
    if options.url:
        parts = urlsplit(options.url if "://" in options.url else "https://" + options.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AcceptanceError(f"--url {options.url!r} is not an http(s) URL")
        if parts.path not in ("", "/"):
            raise AcceptanceError(f"--url {options.url!r}: give the service's root URL")
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        return parts.hostname, str(port), https
    if not options.host:
        raise AcceptanceError("say where to test: --local, --url URL or --host H [--port P]")
    port = options.port or 80
    return options.host, str(port), port == 443


def _base_url(host: str, port: str, https: bool) -> str:
    scheme = "https" if https else "http"
    default = (https and port == "443") or (not https and port == "80")
    return f"{scheme}://{host}" if default else f"{scheme}://{host}:{port}"


def _service_config(directory: str, env: dict) -> PymConfig:
    """The service's typed config, as its own start reads it (``PYM_ENV`` and secrets from
    ``env``); a file it refuses stops the run with its one-line message naming the key."""
    try:
        return load_config(service_dir=directory, env=env.get("PYM_ENV"), environ=env)
    except StartupError as e:
        raise AcceptanceError(str(e)) from None


def _make_token(config: PymConfig | None) -> str | None:
    """A JWT signed with the service's jwt_secret, or None when there is none."""
    from pymacaron.auth import generate_token

    if config is None or not config.jwt_secret:
        return None
    set_config(config)
    try:
        return generate_token("acceptance-tester", expire_in=3600)
    finally:
        set_config(None)


def _config_for_token(directory: str, env: dict) -> PymConfig | None:
    """The config a remote run signs its test JWT with; None (said) when it does not load
    here (its secrets may be the target's, not this machine's)."""
    try:
        return _service_config(directory, env)
    except Exception as e:
        say(f"no test JWT: the service's config does not load ({e})")
        return None


def run_acceptance(options: AcceptanceOptions) -> int:
    """Run the acceptance tests; returns pytest's exit code. A target that is unreachable or
    does not start, or no tests directory: AcceptanceError."""
    directory = os.path.abspath(options.directory)
    tests_dir = os.path.join(directory, options.tests)
    if not os.path.isdir(tests_dir):
        raise AcceptanceError(f"no {options.tests}/ directory in {directory}")
    env = dict(os.environ)
    if options.env:
        env["PYM_ENV"] = options.env
    provided = [p for p in options.provided if p]
    services: list[LocalService] = []
    logdir = tempfile.mkdtemp(prefix="pym-acceptance-")
    try:
        if options.local:
            if not env.get("JWT_SECRET"):
                # the secret `pym run` and `pym token` use (.pym/dev-secret), so a token of
                # `pym token` works against this run too; a throw-away one without it
                dev = read_dev_secret(directory, env.get("PYM_ENV"))
                if dev:
                    env["JWT_SECRET"] = dev
                    say("JWT_SECRET is not set: using .pym/dev-secret, as pym run does")
                else:
                    env["JWT_SECRET"] = secrets.token_urlsafe(32)
                    say("JWT_SECRET is not set: using a throw-away secret for this local run")
            env.setdefault("PYM_ENV", "dev")
            if not env.get("PYM_DYNAMODB_URL"):
                # x-persist: a store of this run's own, never the data of a `make run` that
                # may be up (dynalite locks its LevelDB directory: the second one fails)
                env.setdefault("PYM_DYNAMODB_PATH", os.path.join(logdir, "dynamodb"))
            local_services = load_local_services(directory, options.tests)
            config: PymConfig | None = _service_config(directory, env)  # before any start
            started_env = dict(env)
            for name, service_dir in local_services.items():
                service = LocalService(name, service_dir, started_env, logdir)
                services.append(service)
                env[f"PYM_CLIENT_{name.upper().replace('-', '_')}_URL"] = service.base_url
                provided.append(name)
            main = LocalService(str(config.name), directory, env, logdir)
            services.append(main)
            for service in services:
                try:
                    wait_for_ping(service.base_url, options.start_timeout, service.process)
                except AcceptanceError as e:
                    say(f"last lines of {service.log_path}:\n{service.tail()}")
                    raise AcceptanceError(
                        f"{service.name} ({service.directory}) did not start: {e}"
                    ) from None
                say(f"started {service.name} on {service.base_url}")
            host, port, https = "127.0.0.1", str(main.port), False
        else:
            host, port, https = _target(options)
            check_reachable(_base_url(host, port, https), verify=not options.no_ssl_check)
            config = None
        token = options.token or env.get("PYM_JWT_TOKEN")
        if not token:
            token = _make_token(config or _config_for_token(directory, env))
        if not token:
            say("no test JWT (no jwt_secret, --token or PYM_JWT_TOKEN): authenticated tests fail")
        test_env = dict(env)
        test_env.update(
            {
                "PYM_SERVER_HOST": ("https://" if https and port != "443" else "") + host,
                "PYM_SERVER_PORT": port,
                "PYM_ACCEPT_PROVIDED": ",".join(sorted(set(provided))),
            }
        )
        if token:
            test_env["PYM_JWT_TOKEN"] = token
        if options.no_ssl_check:
            test_env["NO_SSL_CHECK"] = "1"
        command = [sys.executable, "-m", "pytest", tests_dir, "-p", "no:cacheprovider"]
        if options.junit:
            command += ["--junitxml", os.path.abspath(options.junit)]
        command += list(options.pytest_args)
        say(
            f"running {options.tests}/ against {_base_url(host, port, https)} "
            f"(downstream provided: {test_env['PYM_ACCEPT_PROVIDED'] or 'none'})"
        )
        code = subprocess.call(command, cwd=directory, env=test_env)
        if code != 0 and services:
            for service in services:
                say(f"last lines of {service.name}'s log ({service.log_path}):\n{service.tail()}")
        return code
    finally:
        for service in reversed(services):
            with contextlib.suppress(Exception):
                service.stop()
        if not services or all(s.process.returncode in (0, -signal.SIGTERM) for s in services):
            shutil.rmtree(logdir, ignore_errors=True)
