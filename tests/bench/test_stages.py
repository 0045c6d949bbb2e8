"""bench/stages.py's report and sanity check (arithmetic only; the profile itself is
timing, run by `bench/micro.py --stages`, not by the suite)."""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import stages  # noqa: E402


def _profiled(total: float, parts: dict) -> dict:
    return {
        "stages": parts,
        "sum": sum(parts.values()),
        "total": total,
        "total_range": (total - 1, total + 1),
        "raw": 10.0,
        "server": {"pym": 70.0, "raw": 25.0},
    }


def test_the_check_flags_stages_that_do_not_sum_to_the_whole():
    ok = {"GET /pets/1": _profiled(40.0, {"bridge": 5.0, "handler": 1.0, "routing": 32.0})}
    assert stages.check(ok) == []
    off = {"POST /pets": _profiled(60.0, {"bridge": 5.0, "handler": 1.0, "routing": 32.0})}
    assert stages.check(off) == ["POST /pets: the stages sum to 38.0 µs, the whole path is 60.0 µs"]


def test_the_report_has_a_row_per_measured_stage_and_the_outside_of_the_app():
    text = stages.report({"GET /pets/1": _profiled(40.0, {"bridge": 5.0, "handler": 1.5})})
    assert f"| {stages.STAGES['handler']} | 1.5 |" in text
    assert stages.STAGES["access-log"] not in text  # not measured: no row
    assert "| pymacaron / raw, in-process | 4.0x |" in text
    assert "| outside the app, pym-shipped: server CPU/req - in-process | 70 - 40 = 30 |" in text
