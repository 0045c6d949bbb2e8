"""pymacaron serving bench/apps/pymacaron_oas31/apis/petstore.yaml: bench/petstore.yaml as
OpenAPI 3.1, with the 2.0 bench service's handlers (bench/apps/pymacaron/bench_pets)."""

import os
import sys

from flask import Flask

from pymacaron import API, letsgo

here = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.dirname(here))  # bench/apps: data.py
sys.path.insert(0, os.path.join(os.path.dirname(here), "pymacaron"))  # bench_pets

app = Flask(__name__)


def start(port, debug):
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="petstore")


letsgo(__name__, callback=start)
