"""``pym fuzz``: contract fuzzing of a running service with schemathesis.

Every operation of every spec the service serves is called with generated requests, valid
and invalid; the run fails when a reply is a 5xx or does not conform to the spec (status
code, content type, body schema), when a valid request is rejected or an invalid one
accepted, or when an authenticated operation answers without a token::

    pym fuzz --url http://127.0.0.1:8080                  # specs: the APIs it serves
    pym fuzz --port 8080 --spec apis/petshop.yaml --max-examples 50 --junit fuzz.xml
    PYM_FUZZ_TOKEN=... pym fuzz --url https://staging.example.com   # acceptance stage

Authenticated operations get ``Authorization: Bearer <token>``: ``--token`` (or
``$PYM_FUZZ_TOKEN``), else a token generated for ``--user`` with the service's
``jwt_secret`` when its pym-config and secrets are at hand. The token travels to
schemathesis through the environment and a private config file, never on a command line.
Needs schemathesis 4 (``pip install 'pymacaron[dev]'`` or ``pip install schemathesis``);
this module is loaded only by ``pym`` and never by a served application.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["cmd_fuzz", "served_specs", "FuzzRun", "run_schemathesis"]

DEFAULT_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "ignored_auth",
)
DEFAULT_PHASES = ("examples", "coverage", "fuzzing")
# What a schema-valid request may get: success, auth refusals, not found, a business rule
# (409 conflict, 422 refused), rate limiting; 5xx are failures of not_a_server_error.
ACCEPTABLE_FOR_VALID = ("2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx")
TOKEN_ENV = "PYM_FUZZ_TOKEN"
_BUILTIN = "builtin"


@dataclass
class FuzzRun:
    """The outcome of fuzzing one spec."""

    spec: str
    base_url: str
    returncode: int
    generated: int = 0
    failures: int = 0
    output: str = ""
    junit: str | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def configured_excludes(service_dir: str) -> list[str]:
    """``fuzz_exclude_paths`` of testaccept/acceptance.yaml (path regexes), if any."""
    from ..spec.yamlfile import load_yaml

    path = os.path.join(service_dir, "testaccept", "acceptance.yaml")
    if not os.path.isfile(path):
        return []
    data = load_yaml(path)
    values = data.get("fuzz_exclude_paths") if isinstance(data, dict) else None
    return [str(v) for v in values or []]


def _service_url(args) -> str:
    url = args.url or f"http://{args.host}:{args.port}"
    return url.rstrip("/")


def served_specs(url: str, service_dir: str, timeout: float = 10.0) -> list[str]:
    """The spec files of the APIs the service at ``url`` serves (GET /version lists them)."""
    import requests

    apis_dir = os.path.join(service_dir, "apis")
    names: list[str] = []
    try:
        reply = requests.get(url + "/version", timeout=timeout)
        if reply.ok:
            names = [n for n in (reply.json().get("apis") or []) if isinstance(n, str)]
    except (requests.RequestException, ValueError):
        names = []
    found = []
    for name in names:
        for ext in (".yaml", ".yml", ".json"):
            path = os.path.join(apis_dir, name + ext)
            if os.path.isfile(path):
                found.append(path)
                break
    if not found and os.path.isdir(apis_dir):  # an older service: fuzz every spec
        found = sorted(
            os.path.join(apis_dir, f)
            for f in os.listdir(apis_dir)
            if f.endswith((".yaml", ".yml", ".json"))
        )
    return found


def builtin_spec() -> str:
    from ..apipool import BUILTIN_DIR

    return os.path.join(BUILTIN_DIR, "ping.yaml")


def make_token(service_dir: str, user: str, env: str | None = None) -> str | None:
    """A one-hour token signed with the service's jwt_secret, or None when there is none."""
    from .. import config as config_module
    from ..auth import generate_token
    from ..exceptions import StartupError

    try:
        conf = config_module.load_config(os.path.abspath(service_dir), env=env)
    except StartupError as e:
        print(f"pym fuzz: no token ({e})", file=sys.stderr)
        return None
    if not conf.jwt_secret:
        return None
    previous = config_module._current
    config_module.set_config(conf)
    try:
        return generate_token(user, expire_in=3600)
    finally:
        config_module.set_config(previous)


def base_url_for(spec_path: str, url: str, service_dir: str | None = None) -> str:
    """``url`` + the spec's base path (Swagger 2.0 ``basePath``, OpenAPI 3 the path of
    ``servers[0].url``), unless the service sets ``ignore_base_path``."""
    from ..spec.openapi3 import base_path_of
    from ..spec.yamlfile import load_yaml

    if spec_path == builtin_spec():
        return url
    spec = load_yaml(spec_path)
    base = ""
    if isinstance(spec, dict):
        base = base_path_of(spec) if "openapi" in spec else (spec.get("basePath") or "")
    if base and service_dir:
        try:
            from ..config import load_config

            if load_config(os.path.abspath(service_dir)).ignore_base_path:
                base = ""
        except Exception:
            pass
    base = "" if base == "/" else base.rstrip("/")
    return url + base


_NOT_SCHEMAS = frozenset({"example", "examples", "default", "enum", "const"})
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)


def bound_integers(node) -> bool:
    """Write pymacaron's bounds on every integer schema of a spec that declares none, as
    its validation enforces them (spec/validation/translate.py: int32 for ``format:
    int32``, else int64, also without a format); True when one was written. Values
    (examples, defaults, enums) and extensions are left alone."""
    changed = False
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            low, high = INT32 if item.get("format") == "int32" else INT64
            if "minimum" not in item and "exclusiveMinimum" not in item:
                item["minimum"] = low
                changed = True
            if "maximum" not in item and "exclusiveMaximum" not in item:
                item["maximum"] = high
                changed = True
        stack.extend(
            v
            for k, v in item.items()
            if isinstance(v, dict | list)
            and not (isinstance(k, str) and (k in _NOT_SCHEMAS or k.startswith("x-")))
        )
    return changed


def _leaves_the_file(node) -> bool:
    from ..spec.walk import json_objects

    return any(
        isinstance(ref := o.get("$ref"), str) and not ref.startswith("#")
        for o in json_objects(node)
    )


def fuzz_view(spec_path: str, out_dir: str) -> str:
    """The spec as schemathesis should read it: :func:`bound_integers` applied (a positive
    case then never holds an integer pymacaron rightly refuses, and the negative ones
    test the bound), written as JSON in ``out_dir``. A spec whose ``$ref`` reach other
    files, or that needs no bound, is handed over as it is."""
    from ..spec.yamlfile import load_yaml

    try:
        doc = load_yaml(spec_path)
    except Exception:  # schemathesis says what is wrong with it
        return spec_path
    if not isinstance(doc, dict) or _leaves_the_file(doc) or not bound_integers(doc):
        return spec_path
    out = os.path.join(out_dir, os.path.splitext(os.path.basename(spec_path))[0] + ".json")
    with open(out, "w") as f:
        json.dump(doc, f, default=str)
    return out


def _schemathesis() -> list[str]:
    exe = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    if exe:
        return [exe]
    try:
        import schemathesis  # noqa: F401
    except ImportError:
        raise SystemExit(
            "pym fuzz needs schemathesis 4: pip install 'schemathesis>=4,<5'"
        ) from None
    return [sys.executable, "-m", "schemathesis.cli"]


def run_schemathesis(
    spec: str,
    base_url: str,
    token: str | None = None,
    max_examples: int = 50,
    seed: int | None = None,
    phases: str = ",".join(DEFAULT_PHASES),
    checks: str = ",".join(DEFAULT_CHECKS),
    workers: str = "1",
    request_timeout: float = 10.0,
    junit: str | None = None,
    quiet: bool = False,
    exclude_paths: list[str] | None = None,
    timeout: float | None = None,
) -> FuzzRun:
    """Run ``schemathesis run`` on one spec; the output is echoed (unless quiet) and kept."""
    with tempfile.TemporaryDirectory(prefix="pym-fuzz-") as tmp:
        config = os.path.join(tmp, "schemathesis.toml")
        with open(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("color = false\n")
            if token:
                f.write(f'[headers]\nAuthorization = "Bearer ${{{TOKEN_ENV}}}"\n')
            # a valid request may still be refused by a business rule: 422 (as 409) is fine
            statuses = ", ".join(f'"{s}"' for s in ACCEPTABLE_FOR_VALID)
            f.write(f"[checks.positive_data_acceptance]\nexpected-statuses = [{statuses}]\n")
        report = os.path.join(tmp, "report.json")
        cmd = [
            *_schemathesis(),
            "--config-file",
            config,
            "run",
            fuzz_view(spec, tmp),
            "--url",
            base_url,
            "--max-examples",
            str(max_examples),
            "--phases",
            phases,
            "--checks",
            checks,
            "--workers",
            str(workers),
            "--request-timeout",
            str(request_timeout),
            "--suppress-health-check",
            "all",
            "--warnings",
            "off",
            "--report",
            "json" + (",junit" if junit else ""),
            "--report-json-path",
            report,
        ]
        if junit:
            cmd += ["--report-junit-path", junit]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        for pattern in exclude_paths or []:
            cmd += ["--exclude-path-regex", pattern]
        # HTTP's own trimming of header values, told to the fuzzer (fuzzhooks.py)
        env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": "pymacaron.testing.fuzzhooks"}
        if token:
            env[TOKEN_ENV] = token
        lines: list[str] = []
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if not quiet:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            returncode = 124
        run = FuzzRun(spec=spec, base_url=base_url, returncode=returncode, output="".join(lines))
        run.junit = junit
        _read_report(run, report)
    return run


def _read_report(run: FuzzRun, path: str) -> None:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = None
    text = run.output
    if isinstance(data, dict):
        summary = data.get("summary") or data
        cases = summary.get("test_cases") if isinstance(summary, dict) else None
        if isinstance(cases, dict):
            run.generated = int(cases.get("generated") or 0)
    if not run.generated:
        m = re.search(r"(\d+) generated", text)
        run.generated = int(m.group(1)) if m else 0
    m = re.search(r"found (\d+) unique failure", text)
    run.failures = int(m.group(1)) if m else (0 if run.ok else 1)


def merge_junit(paths: list[str], dest: str) -> None:
    """One JUnit file with the test suites of every spec."""
    root = ET.Element("testsuites")
    for path in paths:
        try:
            tree = ET.parse(path)
        except (OSError, ET.ParseError):
            continue
        top = tree.getroot()
        suites = [top] if top.tag == "testsuite" else list(top)
        for suite in suites:
            root.append(suite)
    ET.ElementTree(root).write(dest, encoding="utf-8", xml_declaration=True)


def reachable(url: str, timeout: float = 5.0) -> str | None:
    """None when something answers HTTP at ``url``, else why not."""
    import requests

    try:
        requests.get(url + "/ping", timeout=timeout)
    except requests.RequestException as e:
        return f"{type(e).__name__}: {e}"
    return None


def cmd_fuzz(args) -> int:
    """``pym fuzz`` (options: pymacaron/commands/testing.py); a usage error raises
    StartupError (one line, exit 2)."""
    from ..exceptions import StartupError

    url = _service_url(args)
    problem = reachable(url)
    if problem:
        raise StartupError(f"{url} does not answer ({problem[:200]})")
    service_dir = os.path.abspath(args.dir)
    specs = [os.path.abspath(s) for s in args.spec] or served_specs(url, service_dir)
    if not args.spec and not args.no_builtin:
        specs.append(builtin_spec())
    if not specs:
        raise StartupError(f"no spec to fuzz (none given, none in {service_dir}/apis)")
    for spec in specs:
        if not os.path.isfile(spec):
            raise StartupError(f"{spec}: no such file")
    token = None
    if not args.no_auth:
        token = (
            args.token or os.environ.get(TOKEN_ENV) or make_token(service_dir, args.user, args.env)
        )
        if not token:
            print(
                "pym fuzz: no token (give --token or set JWT_SECRET): authenticated operations "
                "will answer 401",
                file=sys.stderr,
            )
    excludes = list(args.exclude_path_regex) + configured_excludes(service_dir)
    if excludes:
        print(f"pym fuzz: not fuzzing paths matching {', '.join(excludes)}", flush=True)
    runs: list[FuzzRun] = []
    with tempfile.TemporaryDirectory(prefix="pym-fuzz-junit-") as tmp:
        for i, spec in enumerate(specs):
            junit = os.path.join(tmp, f"{i}.xml") if args.junit else None
            base_url = base_url_for(spec, url, service_dir)
            print(f"pym fuzz: {os.path.relpath(spec)} against {base_url}", flush=True)
            runs.append(
                run_schemathesis(
                    spec,
                    base_url,
                    token=token,
                    max_examples=args.max_examples,
                    seed=args.seed,
                    phases=args.phases,
                    checks=args.checks,
                    workers=args.workers,
                    request_timeout=args.request_timeout,
                    junit=junit,
                    quiet=args.quiet,
                    exclude_paths=excludes,
                )
            )
        if args.junit:
            merge_junit([r.junit for r in runs if r.junit], args.junit)
    failed = [r for r in runs if not r.ok]
    for r in runs:
        status = "ok" if r.ok else f"FAILED (exit {r.returncode})"
        print(
            f"pym fuzz: {os.path.relpath(r.spec)}: {r.generated} cases, "
            f"{r.failures} failure(s): {status}"
        )
    return 1 if failed else 0
