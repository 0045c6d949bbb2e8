"""Hash-locked dependencies (``pym lock``).

In a service repository: requirements.txt -> requirements.lock, the service's own
dependencies (everything but pymacaron, whose runtime the kit's lock already pins) with
sha256 hashes; the image installs it with --require-hashes.

In pymacaron's own repository (``pym lock --kit``): the image's runtime locks from
pyproject.toml, shipped in the kit:

    pym lock --kit            # writes docker/requirements.lock and docker/build-requirements.lock
    pym lock --kit --check    # exit 1 when the locks are out of date with pyproject.toml

docker/requirements.lock pins the runtime dependencies only ([project].dependencies, never the
[dev] or [infra] extras) with sha256 hashes, resolved by pip for CPython 3.11 on Linux
(x86_64 and aarch64 wheels, so the image builds on Intel and Graviton hosts).
docker/build-requirements.lock pins what the builder stage needs to build the pymacaron
wheel (the pyproject build backend). The image installs with --require-hashes and
--only-binary=:all:, so nothing is compiled and nothing unpinned slips in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib

from .. import resources
from .common import EXIT_USAGE, ReleaseError

DOCKER = resources.docker_dir()
ROOT = os.path.dirname(DOCKER)
RUNTIME_LOCK = os.path.join(DOCKER, "requirements.lock")
BUILD_LOCK = os.path.join(DOCKER, "build-requirements.lock")
ASYNC_LOCK = os.path.join(DOCKER, "requirements-async.lock")
PERSIST_LOCK = os.path.join(DOCKER, "requirements-persist.lock")
PYTHON_VERSION = "3.11"
# The oldest Python 3.11 an image may run: Debian bookworm's python3. pip evaluates markers
# with the host's Python only, so a dependency conditional on an older patch release
# (redis: ``async-timeout; python_full_version < "3.11.3"``) is added with its marker.
OLDEST_PYTHON = "3.11.2"
# Extra platforms whose wheel hashes are added to the lock (the host's own always is).
PLATFORMS = {
    "x86_64": [
        "manylinux_2_28_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "manylinux_2_5_x86_64",
        "manylinux1_x86_64",
        "linux_x86_64",
    ],
    "aarch64": [
        "manylinux_2_28_aarch64",
        "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
        "linux_aarch64",
    ],
}


def project() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def resolve(requirements: list[str], platform: list[str] | None) -> dict[str, tuple[str, set]]:
    """name -> (version, {sha256, ...}) as pip would install them for one platform."""
    return _hashes(_report(requirements, platform))


def _report(requirements: list[str], platform: list[str] | None) -> list[dict]:
    """The ``install`` items of pip's dry-run report for one platform."""
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "report.json")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--only-binary=:all:",
            "--report",
            report,
        ]
        if platform:
            cmd += [
                "--target",
                os.path.join(tmp, "t"),
                "--python-version",
                PYTHON_VERSION,
                "--implementation",
                "cp",
            ]
            for p in platform:
                cmd += ["--platform", p]
        cmd += requirements
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ReleaseError(
                f"pip could not resolve {requirements}: {proc.stderr.strip()[-500:]}"
            )
        with open(report) as f:
            return json.load(f)["install"]


def _hashes(items: list[dict]) -> dict[str, tuple[str, set]]:
    out = {}
    for item in items:
        name = item["metadata"]["name"].lower().replace("_", "-")
        info = item["download_info"]
        digest = info.get("archive_info", {}).get("hashes", {}).get("sha256")
        if not digest:
            raise ReleaseError(f"no sha256 for {name} ({info.get('url')})")
        out[name] = (item["metadata"]["version"], {digest})
    return out


def conditional_missing(items: list[dict]) -> list[tuple[str, str]]:
    """(requirement, marker) that the resolved packages need on OLDEST_PYTHON but pip, on
    this host's Python, left out: e.g. ``("async-timeout>=4.0.3", 'python_full_version <
    "3.11.3"')`` for redis 8."""
    from packaging.requirements import InvalidRequirement, Requirement

    have = {_norm(i["metadata"]["name"]) for i in items}
    oldest = {"python_full_version": OLDEST_PYTHON, "python_version": PYTHON_VERSION}
    out = []
    for item in items:
        for spec in item["metadata"].get("requires_dist") or []:
            try:
                req = Requirement(spec)
            except InvalidRequirement:
                continue
            marker = req.marker
            if marker is None or "extra" in str(marker) or _norm(req.name) in have:
                continue
            if marker.evaluate(oldest) and not marker.evaluate():
                out.append((f"{req.name}{req.specifier}", str(marker)))
                have.add(_norm(req.name))
    return out


def _norm(name: str) -> str:
    return name.lower().replace("_", "-")


def lock(
    requirements: list[str],
    header: str,
    exclude: frozenset | dict = frozenset(),
    platforms: list | None = None,
) -> str:
    merged: dict[str, tuple[str, set]] = {}
    markers: dict[str, str] = {}
    for platform in platforms if platforms is not None else [None, *PLATFORMS.values()]:
        items = _report(requirements, platform)
        resolved = _hashes(items)
        if platform is None:  # what an older 3.11 needs on top (installed there only)
            for spec, marker in conditional_missing(items):
                for name, pinned in _hashes(_report([spec], None)).items():
                    if name not in resolved and name not in exclude:
                        resolved[name] = pinned
                        markers[name] = marker
        for name, (version, hashes) in resolved.items():
            # exclude: names (or, as a dict, name -> version: only that version) already locked
            if name in exclude and (not isinstance(exclude, dict) or exclude[name] == version):
                continue
            if name in merged and merged[name][0] != version:
                # Same resolver, different platform: keep the host's version, say so.
                print(
                    f"lock: {name} resolves to {version} on another platform "
                    f"(host: {merged[name][0]}); keeping the host's",
                    file=sys.stderr,
                )
                continue
            merged.setdefault(name, (version, set()))[1].update(hashes)
    lines = [header]
    for name in sorted(merged):
        version, hashes = merged[name]
        entry = f"{name}=={version}" + (f" ; {markers[name]}" if name in markers else "")
        for h in sorted(hashes):
            entry += f" \\\n    --hash=sha256:{h}"
        lines.append(entry)
    return "\n".join(lines) + "\n"


def kit_locks(check_only: bool = False) -> int:
    """The kit's runtime locks from pyproject.toml (pymacaron's own repository only)."""
    if not os.path.isfile(os.path.join(ROOT, "pyproject.toml")):
        raise ReleaseError("--kit works in a pymacaron source tree only", EXIT_USAGE)
    proj = project()
    runtime = proj["project"]["dependencies"]
    build = proj["build-system"]["requires"]
    if check_only:
        return check(runtime, build)
    source = "pyproject.toml"
    runtime_txt = lock(
        runtime,
        _header(
            f"Runtime dependencies of the image, generated by pym lock --kit from {source} "
            "[project].dependencies",
            runtime,
        ),
    )
    build_txt = lock(
        build,
        _header(
            "Builder-stage tools (pyproject build backend), generated by pym lock --kit from "
            f"{source} [build-system].requires",
            build,
        ),
    )
    # The `async` extra on top of the runtime lock: only what it adds (resolved together with
    # the runtime requirements; the image's `pip check` catches a disagreement)
    pins = locked_names_from_text(runtime_txt)
    extra = proj["project"].get("optional-dependencies", {}).get("async", [])
    async_txt = lock(
        runtime + extra,
        _header(
            "The `async` extra on top of requirements.lock (images of services with "
            f"with_async),\n# generated by pym lock --kit from {source}",
            extra,
        ),
        exclude=frozenset(pins),
        # pycurl (kombu's SQS transport) has no aarch64 wheel for every release: pip then
        # backtracks for ever, so this lock is for the host's platform (x86_64 here)
        platforms=[None],
    )
    # The `persist` extra (boto3, for x-persist models in DynamoDB), the same way
    persist = proj["project"].get("optional-dependencies", {}).get("persist", [])
    persist_txt = lock(
        runtime + persist,
        _header(
            "The `persist` extra on top of requirements.lock (images of services with x-persist"
            f"\n# models in DynamoDB), generated by pym lock --kit from {source}",
            persist,
        ),
        # botocore needs python-dateutil<3: a different version than the runtime lock's is kept
        exclude=pins,
    )
    for path, text in (
        (RUNTIME_LOCK, runtime_txt),
        (BUILD_LOCK, build_txt),
        (ASYNC_LOCK, async_txt),
        (PERSIST_LOCK, persist_txt),
    ):
        with open(path, "w") as f:
            f.write(text)
        count = sum(1 for line in text.splitlines() if "==" in line)
        print(f"wrote {os.path.relpath(path, ROOT)} ({count} packages)")
    return 0


def _header(what: str, requirements: list[str]) -> str:
    """A lock file's comment: what it locks, from which requirements, and how to remake it."""
    listed = "\n#   ".join(requirements)
    return f"# {what}:\n#   {listed}\n# Do not edit: run pym lock --kit."


def locked_names_from_text(text: str) -> dict[str, str]:
    names = {}
    for line in text.splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            names[name.strip().lower()] = version.split()[0]
    return names


def locked_names(path: str) -> dict[str, str]:
    names = {}
    with open(path) as f:
        for line in f:
            if "==" in line and not line.startswith("#"):
                name, version = line.split("==", 1)
                names[name.strip().lower()] = version.split()[0]
    return names


def check(runtime: list[str], build: list[str]) -> int:
    from packaging.requirements import Requirement

    ok = True
    for path, reqs in ((RUNTIME_LOCK, runtime), (BUILD_LOCK, build)):
        if not os.path.isfile(path):
            print(
                f"lock: {os.path.relpath(path, ROOT)} is missing: run pym lock --kit",
                file=sys.stderr,
            )
            ok = False
            continue
        pinned = locked_names(path)
        for spec in reqs:
            req = Requirement(spec)
            name = req.name.lower().replace("_", "-")
            if name not in pinned:
                print(
                    f"lock: {name} ({spec}) is not in {os.path.relpath(path, ROOT)}: "
                    "run pym lock --kit",
                    file=sys.stderr,
                )
                ok = False
            elif not req.specifier.contains(pinned[name], prereleases=True):
                print(
                    f"lock: {name}=={pinned[name]} in {os.path.relpath(path, ROOT)} "
                    f"does not satisfy {spec}: run pym lock --kit",
                    file=sys.stderr,
                )
                ok = False
    if ok:
        print("lock: locks match pyproject.toml")
    return 0 if ok else 1


# ---- a service's own requirements ---------------------------------------------------------

SERVICE_HEADER = (
    "# The service's own dependencies with their hashes, generated by `pym lock` from\n"
    "# requirements.txt (pymacaron itself and its runtime come from the kit's lock).\n"
    "# Do not edit: run `pym lock`."
)


def service_requirements(path: str) -> list[str]:
    """requirements.txt's entries other than pymacaron (and pip options)."""
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith(("#", "-")):
                continue
            try:
                req = Requirement(line)
            except InvalidRequirement as e:
                raise ReleaseError(f"{path}:{number}: not a requirement: {e}", EXIT_USAGE) from None
            if req.name.lower().replace("_", "-") != "pymacaron":
                out.append(line)
    return out


def service_lock(root: str, check_only: bool = False) -> int:
    """requirements.txt -> requirements.lock (hashes, runtime pins excluded)."""
    req = os.path.join(root, "requirements.txt")
    target = os.path.join(root, "requirements.lock")
    if not os.path.isfile(req):
        raise ReleaseError(f"no requirements.txt in {root}", EXIT_USAGE)
    extra = service_requirements(req)
    runtime = locked_names(RUNTIME_LOCK)
    if check_only:
        have = locked_names(target) if os.path.isfile(target) else {}
        from packaging.requirements import Requirement

        missing = [r for r in extra if Requirement(r).name.lower().replace("_", "-") not in have]
        missing = [r for r in missing if Requirement(r).name.lower() not in runtime]
        if missing:
            print(
                f"lock: {', '.join(missing)} not in requirements.lock: run pym lock",
                file=sys.stderr,
            )
            return 1
        print("lock: requirements.lock matches requirements.txt")
        return 0
    text = SERVICE_HEADER + "\n"
    if extra:
        text = lock(extra, SERVICE_HEADER, exclude=frozenset(runtime), platforms=[None])
    with open(target, "w") as f:
        f.write(text)
    count = sum(1 for line in text.splitlines() if "==" in line)
    print(
        f"wrote requirements.lock ({count} packages; {len(runtime)} runtime packages from the kit)"
    )
    return 0
