"""The example service's server, in the original pymacaron's v1 style.

python server.py --port 8080 [--debug] [--env staging]   # development server
gunicorn server:app                                       # what the image runs
"""

import logging
import os

from flask import Flask

from pymacaron import API, letsgo

log = logging.getLogger(__name__)

app = Flask(__name__)


def report_error(title, data):
    """Called off the request path for every 5xx (wire Slack, Sentry... here)."""
    log.error("error report: %s (error_id=%s)", title, data.get("error_id"))


def start(port, debug):
    here = os.path.dirname(os.path.realpath(__file__))
    api = API(app, debug=debug, error_reporter=report_error)  # port: the server's --port
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve=["petshop", "adoption"])


letsgo(__name__, callback=start)
