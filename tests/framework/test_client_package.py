"""The client package is Flask-free: settings, transport and operation build on spec/ only."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO

# Import pymacaron.client without running pymacaron/__init__ (which loads the server for
# the v1 API): the modules the client itself needs are what sys.modules then holds.
_PROBE = """
import importlib.util, json, sys, types
spec = importlib.util.find_spec("pymacaron")
pkg = types.ModuleType("pymacaron")
pkg.__path__ = list(spec.submodule_search_locations)
sys.modules["pymacaron"] = pkg
import pymacaron.client
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after_import() -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def test_importing_the_client_imports_no_flask_and_no_server_pipeline():
    modules = _modules_after_import()
    assert "pymacaron.client.operation" in modules  # the probe did import the client
    assert "pymacaron.server.operation" not in modules
    assert not {m for m in modules if m == "flask" or m.startswith("flask.")}
    assert "requests" not in modules  # sent lazily, on the first call


def test_server_and_client_share_the_spec_binding_helpers():
    from pymacaron.client import operation as client_operation
    from pymacaron.server import operation as server_operation
    from pymacaron.spec import binding

    assert server_operation.decorate is binding.decorate is client_operation.decorate
    assert server_operation._model_of is binding.model_of is client_operation.model_of


def test_model_of_reads_a_ref_and_an_array_of_refs():
    from pymacaron.spec.binding import model_of

    models = {"Pet": object}
    assert model_of({"$ref": "#/definitions/Pet"}, models) == (object, False)
    assert model_of({"type": "array", "items": {"$ref": "#/definitions/Pet"}}, models) == (
        object,
        True,
    )
    assert model_of({"type": "string"}, models) == (None, False)


def test_the_client_and_the_acceptance_runner_name_a_failure_alike():
    """One table of one-line causes (client.transport) serves both."""
    import requests

    from pymacaron.client.transport import failure_reason
    from pymacaron.testing.runner import AcceptanceError, check_reachable, free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    try:
        requests.get(url + "/ping", timeout=2)
    except requests.RequestException as e:
        reason = failure_reason(e)
    assert reason == "connection refused"
    try:
        check_reachable(url, verify=True)
    except AcceptanceError as e:
        assert f"cannot reach {url}/ping: {reason} " in str(e)
    else:
        raise AssertionError("check_reachable accepted a closed port")
