import os

from flask import Flask

from pymacaron import API, letsgo

app = Flask(__name__)
here = os.path.dirname(os.path.abspath(__file__))


def start(port, debug):
    api = API(app, port=port, debug=debug)
    api.load_apis(os.path.join(here, "apis"))
    api.start(serve="records")


letsgo(__name__, callback=start)
