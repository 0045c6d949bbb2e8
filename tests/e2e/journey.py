"""Helpers of the journey tests (a user's repository, from the wheel): commands, timed steps,
background servers started and stopped by handle."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import requests

from tests.e2e.conftest import run  # noqa: F401  (one helper for every e2e module)
from tests.image.image_helpers import REPO  # noqa: F401  (re-exported)


class Steps:
    """Each journey step's wall time, printed as it ends and listed at the end."""

    def __init__(self, title: str):
        self.title = title
        self.times: list[tuple[str, float]] = []

    def __call__(self, name: str):
        steps = self

        class _Step:
            def __enter__(self):
                self.started = time.monotonic()

            def __exit__(self, *exc):
                took = time.monotonic() - self.started
                steps.times.append((name + ("" if exc[0] is None else " (FAILED)"), took))
                print(f"\n[{steps.title}] {name}: {took:.1f} s", flush=True)

        return _Step()

    def summary(self) -> str:
        lines = [f"{self.title}: {len(self.times)} steps, {sum(t for _, t in self.times):.0f} s"]
        lines += [f"  {took:6.1f} s  {name}" for name, took in self.times]
        return "\n".join(lines)


class Served:
    """`make run` (or any command serving on 127.0.0.1:PORT) in the background."""

    def __init__(self, cmd, cwd, env, port: int, log_path: str):
        self.port, self.log_path = port, log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait(self, timeout: float = 90.0) -> Served:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"exited {self.proc.returncode}:\n{self.output()[-4000:]}")
            try:
                if requests.get(self.url + "/ping", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"no /ping within {timeout} s:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # make, the dev server, its worker
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
