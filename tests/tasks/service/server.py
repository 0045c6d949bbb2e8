"""A small service with tasks, for tests/tasks (run by gunicorn and by the worker)."""

import json
import os

from flask import Flask

from pymacaron import API, letsgo

app = Flask(__name__)


def report_error(title, data):
    """The error reporter: one JSON line per report in $JOBS_OUT/reports.jsonl."""
    with open(os.path.join(os.environ["JOBS_OUT"], "reports.jsonl"), "a") as f:
        f.write(json.dumps({"title": title, "data": data, "pid": os.getpid()}) + "\n")


def start(port, debug):
    here = os.path.dirname(os.path.realpath(__file__))
    api = API(app, port=port, debug=debug, error_reporter=report_error)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="jobs")


letsgo(__name__, callback=start)
