"""pymacaron serving bench/petstore.yaml (request and response validation on)."""

import os
import sys

from flask import Flask

from pymacaron import API, letsgo

here = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.dirname(here))  # bench/apps: data.py

app = Flask(__name__)


def start(port, debug):
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="petstore")


letsgo(__name__, callback=start)
