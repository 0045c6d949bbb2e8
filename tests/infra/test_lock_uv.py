"""`pym lock` on uv: hash-locked pins from a local wheel directory (no index, no network).

The wheels are made here (tiny, pure Python), so the expected hashes are known; uv reads
them through ``UV_FIND_LINKS`` with ``UV_NO_INDEX``, as a user's private mirror would serve.
"""

from __future__ import annotations

import hashlib
import time
import zipfile

import pytest

from pymacaron_kit.release import lock

WHEEL_META = "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{requires}"


def _wheel(where, name: str, version: str, requires: tuple[str, ...] = ()) -> str:
    """A minimal valid wheel; returns its sha256."""
    dist = f"{name}-{version}.dist-info"
    path = where / f"{name}-{version}-py3-none-any.whl"
    files = {
        f"{name}/__init__.py": "",
        f"{dist}/METADATA": WHEEL_META.format(
            name=name, version=version, requires="".join(f"Requires-Dist: {r}\n" for r in requires)
        ),
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{n},,\n" for n in files) + f"{dist}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, text in {**files, f"{dist}/RECORD": record}.items():
            z.writestr(n, text)
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def wheels(tmp_path, monkeypatch):
    where = tmp_path / "wheels"
    where.mkdir()
    digests = {
        ("tinyapp", "1.0"): _wheel(where, "tinyapp", "1.0", ("tinydep>=1", "blinker>=1.0")),
        ("tinydep", "1.0"): _wheel(where, "tinydep", "1.0"),
        ("tinydep", "2.0"): _wheel(where, "tinydep", "2.0"),
        ("blinker", "1.9.0"): _wheel(where, "blinker", "1.9.0"),
        ("blinker", "1.9.1"): _wheel(where, "blinker", "1.9.1"),
    }
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(where))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    return digests


def test_service_lock_resolves_with_uv_hashes_and_leaves_out_the_kit_runtime(tmp_path, wheels):
    repo = tmp_path / "svc"
    repo.mkdir()
    (repo / "requirements.txt").write_text("pymacaron==3.1.0\ntinyapp>=1\n")
    started = time.monotonic()
    assert lock.service_lock(str(repo)) == 0
    elapsed = time.monotonic() - started
    text = (repo / "requirements.lock").read_text()
    entries = lock.parse(text)
    # the newest tinydep, its exact wheel hash; blinker is the kit's (requirements.lock)
    assert entries["tinyapp"] == ("1.0", "", [wheels[("tinyapp", "1.0")]])
    assert entries["tinydep"] == ("2.0", "", [wheels[("tinydep", "2.0")]])
    assert "blinker" not in entries and "pymacaron" not in entries
    assert text.startswith(lock.SERVICE_HEADER)
    assert lock.service_lock(str(repo), check_only=True) == 0
    assert elapsed < 30, elapsed  # uv: about a second here, offline


def test_relock_keeps_pins_that_still_satisfy(tmp_path, wheels):
    """A previous lock's pins are preferences: nothing moves that did not need to."""
    pinned = lock.render({"tinydep": ("1.0", "", [wheels[("tinydep", "1.0")]])}, "# previous lock")
    entries = lock.resolve(["tinydep>=1"], prefer=pinned)
    assert entries["tinydep"][0] == "1.0"
    assert lock.resolve(["tinydep>=1"])["tinydep"][0] == "2.0"  # no lock: the newest
    assert lock.resolve(["tinydep>=2"], prefer=pinned)["tinydep"][0] == "2.0"  # must move


def test_unresolvable_requirement_is_one_clear_error(wheels):
    from pymacaron_kit.release.common import ReleaseError

    with pytest.raises(ReleaseError, match=r"uv could not resolve \['tinydep>=3'\]"):
        lock.resolve(["tinydep>=3"])


def test_markers_and_hashes_round_trip():
    text = lock.render(
        {
            "tzdata": ("2026.6", "sys_platform == 'win32'", ["b" * 64, "a" * 64]),
            "six": ("1.17.0", "", ["c" * 64]),
        },
        "# header",
    )
    # markers as packaging writes them (double quotes), whatever uv printed
    assert 'tzdata==2026.6 ; sys_platform == "win32" \\\n    --hash=sha256:' + "a" * 64 in text
    assert lock.parse(text)["tzdata"] == ("2026.6", 'sys_platform == "win32"', ["a" * 64, "b" * 64])
    assert lock.locked_names_from_text(text) == {"six": "1.17.0", "tzdata": "2026.6"}


def test_uv_is_found_once_in_the_calling_thread_before_the_parallel_resolutions(
    tmp_path, monkeypatch
):
    """sysconfig (read by uv's finder) is not thread-safe to initialise: a real failure."""
    import threading

    import uv

    found, resolved = [], []
    lock.uv_bin.cache_clear()
    monkeypatch.setattr(uv, "find_uv_bin", lambda: found.append(threading.current_thread()) or "uv")
    monkeypatch.setattr(
        lock, "resolve", lambda reqs, prefer="": resolved.append(lock.uv_bin()) or {}
    )
    for name in ("RUNTIME_LOCK", "BUILD_LOCK", "ASYNC_LOCK", "PERSIST_LOCK"):
        monkeypatch.setattr(lock, name, str(tmp_path / f"{name.lower()}.lock"))
    try:
        assert lock.kit_locks() == 0
    finally:
        lock.uv_bin.cache_clear()
    assert found == [threading.main_thread()] and resolved == ["uv"] * 4
