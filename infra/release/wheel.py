"""The pymacaron wheel the image installs (never the framework's source).

In order: the wheel file this environment was installed from (pip records it in
``direct_url.json``), a wheel built from the source tree of an editable install (this
repository), or ``pip download pymacaron==<installed version>``, which honours pip's own
``PIP_FIND_LINKS`` / ``PIP_INDEX_URL`` (a user's wheel store) like every other pip call.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from urllib.parse import unquote, urlparse

from .common import EXIT_FAILED, ReleaseError

DIST = "pymacaron"


def installed_version() -> str:
    return metadata.version(DIST)


def _direct_url() -> dict:
    try:
        text = metadata.distribution(DIST).read_text("direct_url.json")
    except metadata.PackageNotFoundError:  # pragma: no cover - pym itself is pymacaron
        raise ReleaseError("pymacaron is not installed in this environment") from None
    return json.loads(text) if text else {}


def _local_path(url: str) -> str | None:
    parsed = urlparse(url)
    return unquote(parsed.path) if parsed.scheme == "file" else None


BUILD_LOCK = os.path.join("build", ".pym-wheel.lock")


@contextlib.contextmanager
def source_tree_build_lock(source: str) -> Iterator[None]:
    """Held while a wheel is built from ``source``: setuptools writes ``build/`` and the
    egg-info inside the tree, so two builds of one checkout at once (two `pym image build`,
    or one beside `make dists`, which takes the same lock with flock(1)) would mix files."""
    lock_path = os.path.join(source, BUILD_LOCK)
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def _reproducible(source: str) -> dict:
    """The build's environment with SOURCE_DATE_EPOCH (kept when set; else the source's last
    commit time): every entry of the wheel dated alike, so the same tree gives the same bytes
    and an image rebuilt from an unchanged checkout reuses its installed-packages layer."""
    env = dict(os.environ)
    if not env.get("SOURCE_DATE_EPOCH"):
        try:
            out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=source,
                                 capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            out = ""
        env["SOURCE_DATE_EPOCH"] = out if out.isdigit() else "315532800"  # 1980: zip's first
    return env


def pymacaron_wheel(dest: str, quiet: bool = True) -> str:
    """Put the installed pymacaron's wheel in ``dest``; returns its path."""
    os.makedirs(dest, exist_ok=True)
    version = installed_version()
    direct = _direct_url()
    path = _local_path(direct.get("url", ""))
    if path and path.endswith(".whl") and os.path.isfile(path):
        return shutil.copy2(path, dest)
    if path and (direct.get("dir_info") or {}).get("editable"):
        cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
        cmd += ["-w", dest, path]
        what = f"building the pymacaron {version} wheel from {path}"
        with source_tree_build_lock(path):
            # setuptools builds in <source>/build/lib and never empties it: a module moved or
            # deleted since the last build would still ship in the wheel
            shutil.rmtree(os.path.join(path, "build", "lib"), ignore_errors=True)
            proc = subprocess.run(cmd, capture_output=True, text=True, env=_reproducible(path))
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
        cmd += ["--only-binary=:all:", "-d", dest, f"{DIST}=={version}"]
        what = f"pip download {DIST}=={version} (PIP_FIND_LINKS={os.environ.get('PIP_FIND_LINKS', '')})"
        proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(glob.glob(os.path.join(dest, f"{DIST}-{version}-*.whl")))
    if proc.returncode != 0 or not found:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise ReleaseError(f"{what} failed: {tail[0]}", EXIT_FAILED)
    return found[-1]
