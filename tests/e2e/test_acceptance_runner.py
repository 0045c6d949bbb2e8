"""The acceptance runner and the standalone client recipe, end to end with real processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO, TEST_SECRET, LiveServer, free_port, table_prefix

PYM = os.path.join(os.path.dirname(sys.executable), "pym")
ACCEPTANCE = [PYM, "acceptance", "--dir", REPO]  # what the one-line scripts/acceptance ran


def clean_env(tmp_path, **extra) -> dict:
    """The environment of a CI job: the venv first on PATH, no PYM_* leaking from the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYM_", "PYTEST_"))}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYM_DYNAMODB_TABLE_PREFIX"] = table_prefix("accept")
    env["JWT_SECRET"] = TEST_SECRET
    env.update(extra)
    return env


def run(cmd, env, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def junit_results(path) -> dict[str, str]:
    """{test name: 'passed' | 'failed' | 'error' | 'skipped'} from a JUnit XML report."""
    results = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome = "passed"
        for kind in ("failure", "error", "skipped"):
            if case.find(kind) is not None:
                outcome = "failed" if kind == "failure" else kind
        results[case.get("name")] = outcome
    return results


def test_local_run_starts_both_services_and_passes(tmp_path):
    report = tmp_path / "acceptance.xml"
    r = run([*ACCEPTANCE, "--local", "--junit", str(report)], clean_env(tmp_path))
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "started delivery on http://127.0.0.1:" in out
    assert "downstream provided: delivery" in out
    results = junit_results(report)
    assert len(results) >= 20
    assert set(results.values()) == {"passed"}, results
    for name in ("test_quote", "test_downstream_refusal_keeps_its_error", "test_create_pet"):
        assert results[name] == "passed"


def test_stopped_host_fails_with_a_clear_message(tmp_path):
    port = free_port()
    r = run([*ACCEPTANCE, "--host", "127.0.0.1", "--port", str(port)], clean_env(tmp_path))
    assert r.returncode == 2
    assert f"cannot reach http://127.0.0.1:{port}/ping: connection refused" in r.stderr
    assert "Traceback" not in r.stderr
    r = run([PYM, "acceptance", "--url", f"http://127.0.0.1:{port}"], clean_env(tmp_path))
    assert r.returncode == 2 and "cannot reach" in r.stderr


@pytest.fixture(scope="module")
def petshop_without_delivery(tmp_path_factory):
    """The example served by a real process whose delivery service is down."""
    tmp = tmp_path_factory.mktemp("petshop")
    port = free_port()
    env = clean_env(tmp, PYM_CLIENT_DELIVERY_URL=f"http://127.0.0.1:{free_port()}")
    server = LiveServer([sys.executable, "server.py", "--port", str(port)], REPO, port, env=env)
    try:
        yield server.wait(), tmp
    finally:
        server.stop()


def test_host_run_asserts_the_clean_downstream_error(petshop_without_delivery, tmp_path):
    server, _ = petshop_without_delivery
    report = tmp_path / "host.xml"
    cmd = [PYM, "acceptance", "--host", "127.0.0.1", "--port", str(server.port)]
    r = run([*cmd, "--junit", str(report)], clean_env(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "downstream provided: none" in r.stderr
    results = junit_results(report)
    assert results["test_quote"] == results["test_create_pet"] == "passed"
    # the delivery tests really check: claiming the delivery service is there fails them
    r = run([*cmd, "--provided", "delivery", "--junit", str(report)], clean_env(tmp_path))
    assert r.returncode == 1
    results = junit_results(report)
    assert results["test_quote"] == "failed"
    assert results["test_downstream_refusal_keeps_its_error"] == "failed"
    assert results["test_ping"] == "passed"


RECIPE = """
from flask import Flask

from pymacaron import API
from pymacaron.exceptions import is_error
from pymacaron_core.swagger.apipool import ApiPool

app = Flask(__name__)

with app.test_request_context(''):
    api = API(app)
    api.load_clients(apis=['petshop'])

    pet = ApiPool.petshop.client.get_pet(pet_id=1)
    print("pet:", is_error(pet), type(pet).__name__, pet.name, pet.price.amount)

    missing = ApiPool.petshop.client.get_pet(pet_id=99999)
    print("missing:", is_error(missing), missing.status, missing.error)

    new_pet = ApiPool.petshop.model.NewPet(
        name="Scripty", species="cat", price=ApiPool.petshop.model.Price(amount=9, currency="EUR")
    )
    result = ApiPool.petshop.client.create_pet(new_pet)
    print("created:", is_error(result), result.name, result.status)

    dogs = ApiPool.petshop.client.list_pets(tags=["dog"], limit=5)
    print("dogs:", [p.name for p in dogs])
"""

SCRIPT_CONFIG = """
name: petshop-backoffice
env_secrets: [JWT_SECRET]
jwt_audience: petshop-users
jwt_issuer: petshop.example.com
"""


def test_standalone_client_recipe(petshop_without_delivery, tmp_path):
    server, _ = petshop_without_delivery
    (tmp_path / "apis").mkdir()
    with open(os.path.join(REPO, "apis", "petshop.yaml")) as f:
        spec = f.read().replace("host: localhost:8080", f"host: 127.0.0.1:{server.port}")
    (tmp_path / "apis" / "petshop.yaml").write_text(spec)
    (tmp_path / "pym-config.yaml").write_text(SCRIPT_CONFIG)
    (tmp_path / "script.py").write_text(textwrap.dedent(RECIPE))
    env = clean_env(tmp_path)
    r = subprocess.run(
        [sys.executable, "script.py"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    assert lines["pet"] == "False Pet Rex 450.0"
    assert lines["missing"] == "True 404 PET_NOT_FOUND"
    assert lines["created"] == "False Scripty available"  # backend_token() was sent
    assert lines["dogs"] == "['Rex']"
    shutil.rmtree(tmp_path / "apis")
