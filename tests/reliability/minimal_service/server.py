# The smallest pymacaron service: tests/reliability/test_bad_inputs.py breaks a copy of it.
import os

from flask import Flask

from pymacaron import API, letsgo

app = Flask(__name__)


def start(port, debug):
    here = os.path.dirname(os.path.realpath(__file__))
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="mini")


letsgo(__name__, callback=start)
