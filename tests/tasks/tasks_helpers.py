"""Helpers of tests/tasks: where the test service lives, and the shared live-server tools."""

from __future__ import annotations

import os

from tests.conftest import LiveServer, free_port, gunicorn_cmd

__all__ = ["REPO", "SERVICE", "LiveServer", "free_port", "gunicorn_cmd"]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICE = os.path.join(REPO, "tests", "tasks", "service")
