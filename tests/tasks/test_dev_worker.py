"""The dev server's task worker is replaced when its watchdog finds it stalled, as the
image's supervisor does (tasks/dev.py, tasks/watchdog.py), and only then."""

from __future__ import annotations

import sys
import time

from pymacaron.tasks.dev import DevWorker
from pymacaron.tasks.watchdog import STALL_EXIT, ReplaceBudget

# A stand-in worker: exits STALL_EXIT while the count file holds fewer than N lines, then
# exits with the code given (or keeps running when none).
WORKER = (
    """
import os, sys, time
path, stalls, final = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "a") as f:
    f.write("start\\n")
with open(path) as f:
    starts = len(f.read().splitlines())
if starts <= stalls:
    sys.exit(%d)
if final != "run":
    sys.exit(int(final))
time.sleep(60)
"""
    % STALL_EXIT
)


def _worker(tmp_path, stalls: int, final: str, budget=None) -> tuple[DevWorker, object]:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    starts = tmp_path / "starts"
    cmd = [sys.executable, str(script), str(starts), str(stalls), final]
    return DevWorker(cmd, budget=budget), starts


def _wait(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_a_stalled_worker_is_replaced_and_the_replacement_stopped(tmp_path):
    worker, starts = _worker(tmp_path, stalls=2, final="run")
    try:
        assert _wait(lambda: starts.exists() and len(starts.read_text().splitlines()) == 3)
        assert _wait(lambda: worker.proc.poll() is None)
        running = worker.proc
    finally:
        worker.stop()
    assert running.poll() is not None  # stop() reached the replacement, not the first one
    assert len(starts.read_text().splitlines()) == 3


def test_other_exits_are_not_replaced(tmp_path):
    worker, starts = _worker(tmp_path, stalls=0, final="1")
    assert _wait(lambda: not worker._watch.is_alive())
    assert worker.proc.returncode == 1
    assert len(starts.read_text().splitlines()) == 1


def test_the_budget_bounds_replacements(tmp_path):
    worker, starts = _worker(tmp_path, stalls=10, final="run", budget=ReplaceBudget(limit=2))
    assert _wait(lambda: not worker._watch.is_alive())
    assert worker.proc.returncode == STALL_EXIT
    assert len(starts.read_text().splitlines()) == 3  # the first and two replacements


def test_replace_budget_counts_within_its_window():
    budget = ReplaceBudget(limit=2, window=10.0)
    assert not budget.replace(1, now=0.0)  # only a stall is replaced
    assert budget.replace(STALL_EXIT, now=0.0) and budget.replace(STALL_EXIT, now=1.0)
    assert not budget.replace(STALL_EXIT, now=2.0)
    assert budget.replace(STALL_EXIT, now=10.5)  # the first one left the window
