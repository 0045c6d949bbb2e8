"""Charts of a bench run: one SVG per endpoint, req/s per core and p99 per framework.

    .venv/bin/python bench/chart.py [RESULTS.json] [--out bench/charts]

Reads what ``bench/run.py`` writes (``bench/results/latest.json`` by default): for each
server and endpoint the median of the rounds as a bar, and the spread of the rounds (min to
max) as a whisker when the rounds are recorded. Plain SVG written by hand: no plotting
library in any environment, and the files diff as text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from html import escape

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RESULTS = os.path.join(HERE, "results", "latest.json")
DEFAULT_OUT = os.path.join(HERE, "charts")
PANELS = (
    # 1e6 / the server's CPU µs per request (bench/run.py's "per core", the steadiest figure
    # on a shared machine); wall req/s for a results file without CPU times
    ("core", "req/s per core of server CPU (higher is better)"),
    ("p99", "p99 latency, ms (lower is better)"),
)
BAR_H, GAP, LABEL_W, PANEL_W, TOP = 18, 8, 190, 300, 52
HEADLINE = "#2b6cb0"
OTHER = "#a0aec0"


def slug(endpoint: str) -> str:
    """``GET /pets?limit=20`` -> ``get-pets-limit-20``."""
    return re.sub(r"[^a-z0-9]+", "-", endpoint.lower()).strip("-")


def series(results: dict, endpoint: str, key: str) -> list[tuple[str, float, float, float]]:
    """(server, median, low, high) per server; low = high = median without rounds."""
    out = []
    if key == "core":
        cpu = all(
            s["endpoints"].get(endpoint, {}).get("cpu_us") for s in results["servers"].values()
        )
        if not cpu:
            return series(results, endpoint, "rps")
        results = {"servers": {n: _per_core(s) for n, s in results["servers"].items()}}
    for name, server in results["servers"].items():
        point = server["endpoints"].get(endpoint)
        if not point or point.get(key) is None:
            continue
        rounds = [r[key] for r in (server.get("rounds") or {}).get(endpoint, []) if r.get(key)]
        low, high = (min(rounds), max(rounds)) if rounds else (point[key], point[key])
        out.append((name, float(point[key]), float(low), float(high)))
    return out


def _per_core(server: dict) -> dict:
    """The server's points and rounds with ``core`` = 1e6 / CPU µs per request."""

    def core(point: dict) -> dict:
        return {**point, "core": 1e6 / point["cpu_us"] if point.get("cpu_us") else None}

    return {
        "endpoints": {e: core(p) for e, p in server["endpoints"].items()},
        "rounds": {e: [core(r) for r in rs] for e, rs in (server.get("rounds") or {}).items()},
    }


def _panel(x0: float, title: str, rows: list[tuple[str, float, float, float]]) -> list[str]:
    top = max((high for _, _, _, high in rows), default=1.0) or 1.0
    scale = (PANEL_W - 60) / top
    parts = [f'<text x="{x0}" y="{TOP - 14}" class="t">{escape(title)}</text>']
    for i, (name, median, low, high) in enumerate(rows):
        y = TOP + i * (BAR_H + GAP)
        colour = HEADLINE if name.startswith("pym-shipped") else OTHER
        parts.append(
            f'<rect x="{x0}" y="{y}" width="{median * scale:.1f}" height="{BAR_H}" '
            f'fill="{colour}"><title>{escape(name)}: {median:g}</title></rect>'
        )
        if high > low:  # the spread of the rounds
            mid = y + BAR_H / 2
            parts.append(
                f'<path d="M{x0 + low * scale:.1f} {mid}H{x0 + high * scale:.1f}'
                f'M{x0 + low * scale:.1f} {mid - 5}v10M{x0 + high * scale:.1f} {mid - 5}v10" '
                'stroke="#1a202c" stroke-width="1.5" fill="none"/>'
            )
        value = f"{median:,.0f}" if median >= 100 else f"{median:.2f}"
        parts.append(
            f'<text x="{x0 + high * scale + 6:.1f}" y="{y + BAR_H - 4}" class="v">{value}</text>'
        )
    return parts


def render(results: dict, endpoint: str) -> str:
    """The SVG of one endpoint: both panels, servers in the results' order."""
    panels = [(title, series(results, endpoint, key)) for key, title in PANELS]
    names = [name for name, *_ in panels[0][1]]
    height = TOP + max(len(names), 1) * (BAR_H + GAP) + 40
    width = LABEL_W + 2 * PANEL_W + 20
    spread = any(low != high for _, rows in panels for _, _, low, high in rows)
    note = (
        "bars: median of the rounds; whiskers: min-max"
        if spread
        else "median (rounds not recorded)"
    )
    settings = results.get("settings") or {}
    sub = f"{escape(endpoint)} - {note}; {settings.get('rounds', '?')} round(s) of {settings.get('duration_s', '?')} s"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<style>.t{font-weight:bold}.v{fill:#2d3748}.n{fill:#1a202c}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="18" class="t" font-size="14">{sub}</text>',
    ]
    for i, name in enumerate(names):
        y = TOP + i * (BAR_H + GAP) + BAR_H - 4
        parts.append(f'<text x="10" y="{y}" class="n">{escape(name)}</text>')
    for i, (title, rows) in enumerate(panels):
        parts += _panel(LABEL_W + i * PANEL_W, title, rows)
    machine = results.get("machine") or {}
    footer = f"{results.get('command', '')} | {machine.get('cpu', '')} | {machine.get('date', '')}"
    parts.append(
        f'<text x="10" y="{height - 12}" font-size="10">{escape(footer.strip(" |"))}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_charts(results: dict, out_dir: str) -> list[str]:
    """One SVG per endpoint of the results into ``out_dir``; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    endpoints: list[str] = []
    for server in results["servers"].values():
        endpoints += [e for e in server["endpoints"] if e not in endpoints]
    paths = []
    for endpoint in endpoints:
        path = os.path.join(out_dir, f"{slug(endpoint)}.svg")
        with open(path, "w") as f:
            f.write(render(results, endpoint))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", default=DEFAULT_RESULTS, help="bench/run.py's JSON")
    parser.add_argument("--out", default=DEFAULT_OUT, help="directory of the SVGs")
    args = parser.parse_args(argv)
    try:
        with open(args.results) as f:
            results = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"chart: cannot read {args.results}: {e}") from None
    for path in write_charts(results, args.out):
        print(f"chart: wrote {os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
