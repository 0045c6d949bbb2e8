"""Hash-locked dependencies (``pym lock``).

In a service repository: requirements.txt -> requirements.lock, the service's own
dependencies (everything but pymacaron, whose runtime the kit's lock already pins) with
sha256 hashes; the image installs it with --require-hashes.

In pymacaron's own repository (``pym lock --kit``): the image's runtime locks from
pyproject.toml, shipped in the kit:

    pym lock --kit            # writes docker/requirements.lock and docker/build-requirements.lock
    pym lock --kit --check    # exit 1 when the locks are out of date with pyproject.toml

docker/requirements.lock pins the runtime dependencies only ([project].dependencies and the
`gunicorn` extra, never the [dev] or [kit] extras) with sha256 hashes, resolved by uv (``uv pip compile --universal
--generate-hashes``, CPython 3.11) for every platform at once, so the image builds on Intel
and Graviton hosts (a dependency of one platform only carries its marker). A re-lock keeps
every pin that still satisfies the requirements; delete a lock to move its pins to the newest.
docker/build-requirements.lock pins what the builder stage needs to build the pymacaron
wheel (the pyproject build backend). The image installs with --require-hashes and
--only-binary=:all:, so nothing is compiled and nothing unpinned slips in.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from packaging.markers import Marker

from .. import package_data as resources
from .common import EXIT_USAGE, ReleaseError

DOCKER = resources.docker_dir()
ROOT = os.path.dirname(DOCKER)
RUNTIME_LOCK = os.path.join(DOCKER, "requirements.lock")
BUILD_LOCK = os.path.join(DOCKER, "build-requirements.lock")
ASYNC_LOCK = os.path.join(DOCKER, "requirements-async.lock")
PERSIST_LOCK = os.path.join(DOCKER, "requirements-persist.lock")
PYTHON_VERSION = "3.11"
# The oldest Python 3.11 an image may run: Debian bookworm's python3 (markers on the patch
# release, e.g. redis's async-timeout, are kept by the universal resolution).
OLDEST_PYTHON = "3.11.2"
# Comments and blank lines of uv's output, and its entries: `name==version [; marker] \`
# followed by `    --hash=sha256:...` lines.
UV_FLAGS = (
    "--universal",  # one lock for every platform: x86_64 and aarch64 hosts alike
    "--python-version",
    PYTHON_VERSION,
    "--generate-hashes",
    "--only-binary",
    ":all:",  # the image installs with --only-binary=:all:: nothing is compiled
    "--no-header",
    "--no-annotate",
    "--quiet",
)


def project() -> dict[str, Any]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


@functools.cache
def uv_bin() -> str:
    """The uv executable: the `uv` wheel's (a kit dependency), else one on PATH.

    Found once, in the calling thread (sysconfig, which the wheel's finder reads, is not
    safe to initialise from several threads at once)."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found:
            return found
    raise ReleaseError("uv is missing: pip install 'pymacaron[kit]' (it brings uv)")


Entry = tuple[str, str, list[str]]  # version, marker ("" when none), sha256 hashes


def parse(text: str) -> dict[str, Entry]:
    """name -> (version, marker, hashes) of a hash-locked requirements file."""
    out: dict[str, Entry] = {}
    name = None
    for raw in text.splitlines():
        line = raw.strip().rstrip("\\").strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("--hash=sha256:"):
            if name is not None:
                out[name][2].append(line.split(":", 1)[1])
            continue
        spec, _, marker = line.partition(";")
        pkg, _, version = spec.partition("==")
        name = pkg.strip().lower().replace("_", "-")
        out[name] = (version.strip(), marker.strip(), [])
    return out


def resolve(requirements: list[str], prefer: str = "") -> dict[str, Entry]:
    """Resolve with ``uv pip compile --universal --generate-hashes``.

    ``prefer``: a previous lock's text; its pins are kept where they still satisfy the
    requirements (uv reads them from its output file), so a re-lock changes nothing
    that did not need to change. Delete the lock to move every pin to the newest.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "requirements.in")
        target = os.path.join(tmp, "requirements.lock")
        with open(source, "w") as f:
            f.write("\n".join(requirements) + "\n")
        if prefer:
            with open(target, "w") as f:
                f.write(prefer)
        cmd = [uv_bin(), "pip", "compile", *UV_FLAGS, source, "-o", target]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ReleaseError(f"uv could not resolve {requirements}: {proc.stderr.strip()[-500:]}")
        with open(target) as f:
            entries = parse(f.read())
    missing = [n for n, (_, _, hashes) in entries.items() if not hashes]
    if missing:
        raise ReleaseError(f"no sha256 for {', '.join(missing)}")
    return entries


def render(
    entries: dict[str, Entry], header: str, exclude: frozenset[str] | dict[str, str] = frozenset()
) -> str:
    """A lock file's text: the header, then each pin with its hashes (and marker)."""
    lines = [header]
    for name, (version, marker, hashes) in sorted(entries.items()):
        # exclude: names (or, as a dict, name -> version: only that version) already locked
        if name in exclude and (not isinstance(exclude, dict) or exclude[name] == version):
            continue
        entry = f"{name}=={version}" + (f" ; {Marker(marker)}" if marker else "")
        for h in sorted(hashes):
            entry += f" \\\n    --hash=sha256:{h}"
        lines.append(entry)
    return "\n".join(lines) + "\n"


def lock(
    requirements: list[str],
    header: str,
    exclude: frozenset[str] | dict[str, str] = frozenset(),
    prefer: str = "",
) -> str:
    """Resolve ``requirements`` and render their lock (see :func:`resolve`, :func:`render`)."""
    return render(resolve(requirements, prefer), header, exclude)


def conditional_missing(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(requirement, marker) that resolved packages (pip report ``install`` items) need on
    Python 3.11.2 (Debian bookworm's) but not on this host's Python: what a per-host resolver
    must add by hand. uv's universal resolution already keeps them, with their marker
    (``async-timeout ; python_full_version < "3.11.3"`` for redis 8)."""
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


def _read(path: str) -> str:
    if not os.path.isfile(path):
        return ""
    with open(path) as f:
        return f.read()


# The extra the image installs with the runtime: gunicorn, so `PYM_SERVER=gunicorn` (an
# environment property, no rebuild) keeps working in the image (docs/decisions.md).
IMAGE_EXTRA = "gunicorn"


def image_runtime(proj: dict[str, Any]) -> list[str]:
    """What docker/requirements.lock pins: [project].dependencies plus the image's extra."""
    extras = proj["project"].get("optional-dependencies", {})
    return [*proj["project"]["dependencies"], *extras.get(IMAGE_EXTRA, [])]


def kit_locks(check_only: bool = False) -> int:
    """The kit's runtime locks from pyproject.toml (pymacaron's own repository only)."""
    if not os.path.isfile(os.path.join(ROOT, "pyproject.toml")):
        raise ReleaseError("--kit works in a pymacaron source tree only", EXIT_USAGE)
    proj = project()
    runtime = image_runtime(proj)
    build = proj["build-system"]["requires"]
    if check_only:
        return check(runtime, build)
    source = "pyproject.toml"
    extras = proj["project"].get("optional-dependencies", {})
    extra, persist = extras.get("async", []), extras.get("persist", [])
    previous = _read(RUNTIME_LOCK)
    # The four resolutions are independent network-bound uv runs: at once (~4 s, not ~16 s).
    # The extras are resolved together with the runtime requirements (preferring its pins);
    # the image's `pip check` catches a disagreement.
    jobs = {
        RUNTIME_LOCK: (runtime, previous),
        BUILD_LOCK: (build, _read(BUILD_LOCK)),
        ASYNC_LOCK: (runtime + extra, previous + _read(ASYNC_LOCK)),
        PERSIST_LOCK: (runtime + persist, previous + _read(PERSIST_LOCK)),
    }
    uv_bin()  # before the threads (see uv_bin)
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {path: pool.submit(resolve, *args) for path, args in jobs.items()}
        resolved = {path: f.result() for path, f in futures.items()}
    runtime_txt = render(
        resolved[RUNTIME_LOCK],
        _header(
            f"Runtime dependencies of the image, generated by pym lock --kit from {source} "
            f"[project].dependencies and the `{IMAGE_EXTRA}` extra",
            runtime,
        ),
    )
    build_txt = render(
        resolved[BUILD_LOCK],
        _header(
            "Builder-stage tools (pyproject build backend), generated by pym lock --kit from "
            f"{source} [build-system].requires",
            build,
        ),
    )
    # The `async` extra on top of the runtime lock: only what it adds
    pins = locked_names_from_text(runtime_txt)
    async_txt = render(
        resolved[ASYNC_LOCK],
        _header(
            "The `async` extra on top of requirements.lock (images of services with "
            f"with_async),\n# generated by pym lock --kit from {source}",
            extra,
        ),
        exclude=frozenset(pins),
    )
    # The `persist` extra (boto3, for x-persist models in DynamoDB), the same way
    persist_txt = render(
        resolved[PERSIST_LOCK],
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
        # the kit's runtime pins are preferred: the service's dependencies agree with them
        text = lock(
            extra,
            SERVICE_HEADER,
            exclude=frozenset(runtime),
            prefer=_read(RUNTIME_LOCK) + _read(target),
        )
    with open(target, "w") as f:
        f.write(text)
    count = sum(1 for line in text.splitlines() if "==" in line)
    print(
        f"wrote requirements.lock ({count} packages; {len(runtime)} runtime packages from the kit)"
    )
    return 0
