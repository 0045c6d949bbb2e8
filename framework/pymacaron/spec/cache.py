"""Remember which spec files have already been checked, so a normal start skips the check.

Checking a spec file (load.py: the official JSON Schema of its version and the
specification's rules, checks.py for Swagger 2.0, oas3check.py for OpenAPI 3.x) costs
little on a valid 2.0 spec but imports its engines; a refused one, and every OpenAPI 3.x
check, imports jsonschema. The verdict only depends on the bytes of the spec (and of the
files its ``$ref`` reach), on the versions of the checking libraries and on pymacaron's
checking code and schema files, so a successful check is recorded under a hash of exactly
those, and a start that finds the record skips the check entirely. A spec that fails the check is never recorded:
a broken spec fails every start with the same error.

The records live in pymacaron's per-user cache (``environ.cache_root``: ``$PYM_CACHE_DIR``,
else the XDG cache); ``PYM_CACHE_DIR=off`` disables them. ``pym check`` run while the
image is built writes them (see docs/performance.md). An unwritable directory only costs
the check on every start.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
import os
import tempfile

from ..environ import CACHE_OFF, cache_root

__all__ = ["cache_dir", "cache_key", "lookup", "store"]

log = logging.getLogger("pymacaron")

FORMAT = "pym-spec-check-1"
_ENGINE_PACKAGES = ("jsonschema", "jsonschema_rs", "fastjsonschema")
_MISSING = object()


def cache_dir() -> str | None:
    """Where records are kept (``environ.cache_root``), or None when PYM_CACHE_DIR is set to
    one of ``environ.CACHE_OFF``."""
    value = os.environ.get("PYM_CACHE_DIR")
    if value is not None and value.strip().lower() in CACHE_OFF:
        return None
    return cache_root()


@functools.cache
def _engine() -> str:
    """The installed versions of the checking libraries (dist-info names, no imports)."""
    from .. import __version__

    parts = [FORMAT, f"pymacaron-{__version__}"]
    # the checking code itself (load.py may gain checks without a version bump)
    here = os.path.dirname(os.path.abspath(__file__))
    for name in (
        "load.py",
        "cache.py",
        "checks.py",
        "schema.py",
        "openapi3.py",
        "oas3check.py",
        "validation/enforce.py",  # _refuse_unenforceable: what the engine cannot enforce
        "validation/formats.py",
        "validation/translate.py",
        "schemas/swagger2.0.json",
        "schemas/oas3.0.json",
        "schemas/oas3.1.json",
    ):
        try:
            with open(os.path.join(here, name), "rb") as f:
                parts.append(f"{name}:{hashlib.sha256(f.read()).hexdigest()}")
        except OSError:
            parts.append(f"{name}:unreadable")
    listings: dict[str, list[str]] = {}
    for module in _ENGINE_PACKAGES:
        spec = importlib.util.find_spec(module)
        origin = getattr(spec, "origin", None) if spec else None
        if not origin:
            parts.append(f"{module}:missing")
            continue
        site = os.path.dirname(os.path.dirname(origin))
        if site not in listings:
            try:
                listings[site] = os.listdir(site)
            except OSError:
                listings[site] = []
        found = sorted(
            n
            for n in listings[site]
            if n.endswith((".dist-info", ".egg-info"))
            and n.lower().replace("-", "_").startswith(module + "_")
        ) or sorted(
            n
            for n in listings[site]
            if n.endswith((".dist-info", ".egg-info"))
            and n.lower().replace("-", "_").split("_")[0] == module.split("_")[0]
            and n.lower().replace("-", "_").startswith(module)
        )
        if found:
            parts += found
        else:  # no metadata next to it: fall back to the module file's identity
            st = os.stat(origin)
            parts.append(f"{module}:{origin}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(parts)


def _external_files(node, base_dir: str, out: set[str]) -> bool:
    """Add the files that ``$ref`` reach (recursively) to ``out``; False if one is not local."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            target = ref.split("#", 1)[0]
            if "://" in target and not target.startswith("file://"):
                return False
            target = target.removeprefix("file://")
            full = os.path.normpath(os.path.join(base_dir, target))
            if full not in out:
                out.add(full)
                try:
                    from .yamlfile import load_yaml

                    doc = load_yaml(full)
                except Exception:
                    return False
                if not _external_files(doc, os.path.dirname(full), out):
                    return False
        return all(
            _external_files(v, base_dir, out)
            for k, v in node.items()
            if not (isinstance(k, str) and k.startswith("x-"))  # extensions are opaque
        )
    if isinstance(node, list):
        return all(_external_files(v, base_dir, out) for v in node)
    return True


def cache_key(path: str, spec: dict) -> str | None:
    """The hash a check of ``path`` is recorded under (None: this spec is not cacheable, or
    records are off: no walk of the spec, no hash of its files)."""
    if cache_dir() is None:
        return None
    path = os.path.abspath(path)
    files = {path}
    if not _external_files(spec, os.path.dirname(path), files):
        return None
    digest = hashlib.sha256(_engine().encode())
    for name in sorted(files):
        try:
            with open(name, "rb") as f:
                data = f.read()
        except OSError:
            return None
        digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def _record_path(key: str) -> str | None:
    base = cache_dir()
    return os.path.join(base, "specs", f"{key}.json") if base else None


def lookup(key: str | None):
    """The recorded result: ``None`` (checked, use the spec as parsed), a dict (the checked
    spec with external references inlined), or ``_MISSING`` when there is no record."""
    record = _record_path(key) if key else None
    if record is None:
        return _MISSING
    try:
        with open(record, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return _MISSING
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return _MISSING
    return data.get("flattened")


def store(key: str | None, flattened: dict | None) -> None:
    """Record a successful check (best effort: a read-only disk only costs time)."""
    record = _record_path(key) if key else None
    if record is None:
        return
    try:
        payload = json.dumps({"format": FORMAT, "flattened": flattened}).encode()
    except (TypeError, ValueError):
        return  # a spec with non-JSON values (YAML dates...): check it every time
    try:
        os.makedirs(os.path.dirname(record), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(record), suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600: other users (the image's app user) read it
        os.replace(tmp, record)
    except OSError as e:
        log.debug("spec check not recorded in %s: %s", record, e)


def is_missing(value) -> bool:
    return value is _MISSING
