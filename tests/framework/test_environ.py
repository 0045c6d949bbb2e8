"""pymacaron.environ: the one reader of numbers from the environment (the server's launcher
and the worker's watchdog), and the one home of the per-user cache directory."""

import os
import pathlib

import pytest

from pymacaron.environ import env_number
from pymacaron.run.serve import env_int
from pymacaron.tasks.watchdog import _env_float

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_unset_or_blank_is_the_default(monkeypatch):
    monkeypatch.delenv("PYM_TEST_N", raising=False)
    assert env_number("p", "PYM_TEST_N", 7, int) == 7
    monkeypatch.setenv("PYM_TEST_N", "  ")
    assert env_number("p", "PYM_TEST_N", 2.5, float) == 2.5


def test_a_value_is_parsed(monkeypatch):
    monkeypatch.setenv("PYM_TEST_N", " 12 ")
    assert env_int("PYM_TEST_N", 1) == 12
    monkeypatch.setenv("PYM_TEST_N", "0.5")
    assert _env_float("PYM_TEST_N", 1.0) == 0.5


def test_a_bad_value_is_one_line_naming_the_program_and_variable(monkeypatch):
    monkeypatch.setenv("PYM_TEST_N", "1.5")
    with pytest.raises(SystemExit) as e:
        env_int("PYM_TEST_N", 1)
    assert str(e.value) == "pymacaron.serve: PYM_TEST_N='1.5' is not an integer"
    monkeypatch.setenv("PYM_TEST_N", "soon")
    with pytest.raises(SystemExit) as e:
        _env_float("PYM_TEST_N", 1.0)
    assert str(e.value) == "pymacaron worker: PYM_TEST_N='soon' is not a number"


def test_one_home_for_the_per_user_cache(monkeypatch, tmp_path):
    """environ.cache_root is where the spec check records, the kit's CDK CLI and dynalite
    live; a PYM_CACHE_DIR that turns the records off leaves the tools in the default place."""
    from pymacaron.environ import cache_root
    from pymacaron.persist import nodetools
    from pymacaron.spec import cache
    from pymacaron_kit import cdk_cli

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYM_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_root() == cache.cache_dir() == str(tmp_path / "mine")
    assert os.path.dirname(nodetools.cache_dir()) == os.path.dirname(cdk_cli.cache_dir())
    assert os.path.dirname(cdk_cli.cache_dir()) == str(tmp_path / "mine")
    for off in ("off", " 0 ", ""):
        monkeypatch.setenv("PYM_CACHE_DIR", off)
        assert cache.cache_dir() is None
        assert cache_root() == str(tmp_path / "xdg" / "pymacaron")
        assert os.path.dirname(cdk_cli.cache_dir()) == cache_root()
    monkeypatch.delenv("PYM_CACHE_DIR")
    assert cache.cache_dir() == cache_root() == str(tmp_path / "xdg" / "pymacaron")
    # nothing else reads XDG_CACHE_HOME
    readers = [
        str(p.relative_to(ROOT))
        for top in ("framework/pymacaron", "infra")
        for p in (ROOT / top).rglob("*.py")
        if "XDG_CACHE_HOME" in p.read_text() and p.name != "environ.py"
    ]
    assert readers == [], readers
