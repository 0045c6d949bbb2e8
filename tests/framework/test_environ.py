"""pymacaron.environ.env_number: the one reader of numbers from the environment (the
server's launcher and the worker's watchdog)."""

import pytest

from pymacaron.environ import env_number
from pymacaron.run.serve import env_int
from pymacaron.tasks.watchdog import _env_float


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
