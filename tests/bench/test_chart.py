"""bench/chart.py: one SVG per endpoint from a results file (a small fixture, no bench run)."""

from __future__ import annotations

import json
import os
import sys
import xml.dom.minidom
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))

import chart  # noqa: E402

ENDPOINTS = ("GET /pets/1", "POST /pets")


def _server(rps: list[float], p99: list[float]) -> dict:
    rounds = {e: [{"rps": r, "p99": p} for r, p in zip(rps, p99, strict=True)] for e in ENDPOINTS}
    median = {"rps": sorted(rps)[1], "p99": sorted(p99)[1], "p50": 1.0}
    return {"endpoints": dict.fromkeys(ENDPOINTS, median), "rounds": rounds}


RESULTS = {
    "command": "bench/run.py --quick",
    "machine": {"cpu": "test", "date": "2026-12-07"},
    "settings": {"rounds": 3, "duration_s": 2},
    "servers": {
        "pym-shipped": _server([9000, 10000, 11000], [4.0, 5.0, 6.5]),
        "fastapi-async": _server([7000, 7500, 7600], [7.0, 8.0, 9.0]),
    },
}


def _bars(svg: str):
    doc = xml.dom.minidom.parseString(svg)
    return [
        (r.getElementsByTagName("title")[0].firstChild.data, float(r.getAttribute("width")))
        for r in doc.getElementsByTagName("rect")
        if r.getElementsByTagName("title")
    ], doc


def test_one_svg_per_endpoint_with_medians_and_the_spread(tmp_path):
    paths = chart.write_charts(RESULTS, str(tmp_path / "charts"))
    assert [os.path.basename(p) for p in paths] == ["get-pets-1.svg", "post-pets.svg"]
    svg = Path(paths[0]).read_text()
    bars, doc = _bars(svg)
    # two panels (req/s, p99) x two servers, in the results' order, median values
    assert [t for t, _ in bars] == [
        "pym-shipped: 10000",
        "fastapi-async: 7500",
        "pym-shipped: 5",
        "fastapi-async: 8",
    ]
    widths = dict(zip([t for t, _ in bars], [w for _, w in bars], strict=True))
    assert widths["pym-shipped: 10000"] > widths["fastapi-async: 7500"]
    assert widths["pym-shipped: 5"] < widths["fastapi-async: 8"]  # p99: lower is shorter
    assert len(doc.getElementsByTagName("path")) == 4  # one whisker (min-max) per bar
    assert "req/s per core" in svg and "p99 latency, ms" in svg and "whiskers: min-max" in svg


def test_without_rounds_it_says_so_and_the_cli_reads_a_results_file(tmp_path, capsys):
    results = json.loads(json.dumps(RESULTS))
    for server in results["servers"].values():
        del server["rounds"]
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(results))
    assert chart.main([str(path), "--out", str(tmp_path / "out")]) == 0
    svg = (tmp_path / "out" / "post-pets.svg").read_text()
    assert "median (rounds not recorded)" in svg and "<path" not in svg
    assert "chart: wrote" in capsys.readouterr().out


def test_the_recorded_charts_are_those_of_the_recorded_run(tmp_path):
    recorded = os.path.join(
        ROOT, "bench", "recorded", "2026-12-07-s10-run3.json"
    )  # the charted run
    with open(recorded) as f:
        results = json.load(f)
    for path in chart.write_charts(results, str(tmp_path)):
        committed = os.path.join(ROOT, "bench", "charts", os.path.basename(path))
        assert Path(path).read_text() == Path(committed).read_text(), path
