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
