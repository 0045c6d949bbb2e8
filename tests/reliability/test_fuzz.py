"""Contract fuzzing (schemathesis, through `pym fuzz`) against real gunicorn servers.

Two targets: the example service (apis/petshop.yaml, with the delivery service it calls
running too) and tests/fixtures/fuzz_service, a spec written to stress request validation.
The checks: no 5xx; status codes, content types and bodies conform to the spec; valid
requests are accepted and invalid ones rejected; authenticated operations refuse requests
without a token. Bounded: a fixed seed, --max-examples, three phases (no stateful phase).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

import pytest

from .support import FUZZ_SERVICE, REPO, pym, start_example, start_gunicorn

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("reliability")]

MAX_EXAMPLES = "20"
SEED = "20261123"


def _fuzz(url: str, service_dir: str, junit, *extra: str):
    result = pym(
        "fuzz",
        "--url",
        url,
        "--dir",
        service_dir,
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--junit",
        str(junit),
        *extra,
        timeout=150,
    )
    summary = [line for line in result.stdout.splitlines() if line.startswith("pym fuzz:")]
    print("\n".join(summary))
    return result, summary


def _cases(summary: list[str]) -> int:
    return sum(int(m.group(1)) for line in summary if (m := re.search(r": (\d+) cases", line)))


def test_fuzz_example_service(tmp_path):
    petshop, delivery = start_example(tmp_path)
    try:
        result, summary = _fuzz(petshop.url, REPO, tmp_path / "petshop.xml")
    finally:
        petshop.stop()
        delivery.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert any("apis/petshop.yaml" in line for line in summary), summary
    assert any("apis/adoption.yaml" in line for line in summary), summary  # OpenAPI 3.1
    assert any("builtin/ping.yaml" in line for line in summary), summary
    assert _cases(summary) >= 300, summary
    suites = ET.parse(tmp_path / "petshop.xml").getroot()
    assert suites.tag == "testsuites" and len(suites) == 3
    assert sum(int(s.get("failures", 0)) for s in suites) == 0


def test_fuzz_service_spec(tmp_path):
    server = start_gunicorn(FUZZ_SERVICE)
    try:
        result, summary = _fuzz(server.url, FUZZ_SERVICE, tmp_path / "fuzz.xml", "--no-builtin")
        log = server.output()
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert _cases(summary) >= 500, summary
    assert "Traceback" not in log, log[-4000:]


def test_pym_fuzz_fails_when_replies_do_not_match_the_spec(tmp_path):
    """The command's own contract: a service that lies about its replies fails the run."""
    lying = tmp_path / "lying.yaml"
    lying.write_text(
        'swagger: "2.0"\ninfo: {title: lying, version: "1"}\nbasePath: /api/v1\n'
        "produces: [application/json]\npaths:\n  /whoami:\n    get:\n      responses:\n"
        '        "200":\n          description: the pid, said to be a string\n'
        "          schema:\n            type: object\n            required: [pid]\n"
        "            properties: {pid: {type: string}}\n"
    )
    server = start_gunicorn(FUZZ_SERVICE, workers=1)
    try:
        result = pym(
            "fuzz",
            "--port",
            str(server.port),
            "--spec",
            str(lying),
            "--max-examples",
            "3",
            "--junit",
            str(tmp_path / "lying.xml"),
            "--dir",
            FUZZ_SERVICE,
            timeout=60,
        )
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lying.yaml: " in result.stdout and "FAILED" in result.stdout
    suites = ET.parse(tmp_path / "lying.xml").getroot()
    assert sum(int(s.get("failures", 0)) for s in suites) >= 1


def test_pym_fuzz_exits_non_zero_when_the_service_is_unreachable(tmp_path):
    from tests.conftest import free_port

    result = pym(
        "fuzz",
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--spec",
        os.path.join(FUZZ_SERVICE, "apis", "fuzz.yaml"),
        "--max-examples",
        "1",
        "--no-auth",
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "does not answer" in result.stderr
