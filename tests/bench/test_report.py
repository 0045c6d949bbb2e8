"""bench/run.py's arithmetic (the bench itself is not part of the suite): per-round ratios,
their median and range, and the goals it prints."""

import importlib.util
import os

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("bench_run", os.path.join(REPO, "bench", "run.py"))
run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run)


def sample(rps, cpu_us, p99):
    return {"rps": rps, "cpu_us": cpu_us, "p50": 1.0, "p99": p99, "non2xx": 0,
            "socket_errors": "", "errors": 0}  # fmt: skip


def results(shipped_cpu, fastapi_cpu, shipped_p99=1.0):
    servers = {}
    for name, cpus, p99 in (
        ("pym-shipped", shipped_cpu, shipped_p99),
        ("fastapi-async", fastapi_cpu, 2.0),
    ):
        rounds = {e: [sample(1e6 / c, c, p99) for c in cpus] for e in run.ENDPOINTS}
        servers[name] = {
            "label": name,
            "cold_start_s": 0.3,
            "rss_mib": 40.0,
            "rounds": rounds,
            "endpoints": {
                e: {"rps": 1.0, "p50": 1.0, "p99": p99, "cpu_us": cpus[0], "errors": 0}
                for e in run.ENDPOINTS
            },
        }
    return {"servers": servers, "load": {}, "settings": {}}


def test_ratios_are_per_round_then_the_median_and_range():
    r = run.ratios(results([50, 100, 80], [100, 100, 100]), "pym-shipped", "fastapi-async",
                   "GET /pets/1")  # fmt: skip
    assert r["core"] == (1.25, 1.0, 2.0)
    assert r["p99"][0] == 0.5


def test_the_goals_are_met_or_not_by_the_median():
    met = run.report(results([80, 80, 80], [100, 100, 100]))
    assert "- MET: pym-shipped / fastapi-async per core >= 1.1" in met
    missed = run.report(results([95, 95, 95], [100, 100, 100]))
    assert "- NOT MET: pym-shipped / fastapi-async per core >= 1.1" in missed
    slow_p99 = run.report(results([80, 80, 80], [100, 100, 100], shipped_p99=3.0))
    assert "- NOT MET: pym-shipped / fastapi-async" in slow_p99


def with_rows(base: dict, rows: dict) -> dict:
    """``base`` plus servers name -> CPU µs per round (same p99 2.0)."""
    for name, cpus in rows.items():
        rounds = {e: [sample(1e6 / c, c, 2.0) for c in cpus] for e in run.ENDPOINTS}
        base["servers"][name] = {**base["servers"]["fastapi-async"], "rounds": rounds}
    return base


def test_issue_30_goals_per_core_p99_rss_and_cold_start():
    # shipped 40 µs: 2.5x FastAPI (100), 1.25x Falcon (50), 0.75x Litestar (30), 0.5x raw (20)
    res = with_rows(
        results([40, 40, 40], [100, 100, 100], shipped_p99=1.0),
        {"falcon-granian": [50] * 3, "litestar-uvicorn": [30] * 3, "raw-shipped": [20] * 3},
    )
    goals = run.goals_30(res)
    assert goals[0].startswith("MET: pym-shipped / fastapi-async >= 2.0: GET /pets/1 2.50")
    assert goals[1].startswith("MET: pym-shipped / falcon-granian >= 1.0")
    assert goals[2].startswith("NOT MET: pym-shipped / litestar-uvicorn >= 1.0")
    assert goals[2].endswith("(the lowest -25% of the goal)")
    assert goals[3].startswith("MET: pym-shipped / raw-shipped >= 0.5")
    assert goals[4].startswith("MET: pym-shipped p99 at 16 connections / fastapi-async's <= 0.7")
    assert goals[5] == "MET: pym-shipped worker RSS 40.0 MiB (<= 40 MiB)"
    assert goals[6] == "MET: pym-shipped cold start 0.30 s (0.30-0.30; <= 0.3 s)"
    assert "Goals of issue 30" in run.report(res)


def test_issue_30_p99_goal_is_missed_above_0_7_of_fastapi():
    res = results([40, 40, 40], [100, 100, 100], shipped_p99=1.6)  # FastAPI's p99 is 2.0
    assert any(g.startswith("NOT MET: pym-shipped p99") for g in run.goals_30(res))


def test_the_correctness_check_expects_the_same_bodies_everywhere():
    assert run.EXPECTED["POST /pets"]["id"] == 1000
    assert len(run.EXPECTED["GET /pets?limit=20"]) == 20
    assert "dragon" in run.INVALID["POST /pets (species dragon)"][2]
    assert "raw-shipped" in run.NO_VALIDATION and "pym-shipped" not in run.NO_VALIDATION
