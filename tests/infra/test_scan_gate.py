"""The scan gate before promotion (infra/scan_gate.py), against ECR's real API shapes.

moto's DescribeImageScanFindings returns made-up findings and never a pending scan, so
these tests use botocore's Stubber: the real request/response validation of ECR's model,
with the responses and error codes ECR documents.
"""

from __future__ import annotations

import argparse

import boto3
import pytest
from botocore.stub import Stubber

from pymacaron.commands import image
from pymacaron_kit import scan_gate
from pymacaron_kit.scan_gate import GateError, gate

REPO, TAG = "testsvc", "0123456789abcdef"
REQUEST = {"repositoryName": REPO, "imageId": {"imageTag": TAG}}


def ecr():
    return boto3.session.Session().client(
        "ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


def findings(status: str, counts: dict | None = None) -> dict:
    out = {
        "registryId": "111122223333",
        "repositoryName": REPO,
        "imageId": {"imageTag": TAG},
        "imageScanStatus": {"status": status, "description": status.lower()},
    }
    if counts is not None:
        out["imageScanFindings"] = {"findingSeverityCounts": counts, "findings": []}
    return out


def run(stub_calls, limits=None, **kw):
    client = ecr()
    sleeps = []
    with Stubber(client) as stub:
        for call in stub_calls:
            call(stub)
        result = gate(
            client, REPO, TAG, limits or {"CRITICAL": 0}, sleep=sleeps.append, interval=5, **kw
        )
        stub.assert_no_pending_responses()
    return result, sleeps


def respond(body):
    return lambda stub: stub.add_response("describe_image_scan_findings", body, REQUEST)


def error(code):
    return lambda stub: stub.add_client_error(
        "describe_image_scan_findings", service_error_code=code, expected_params=REQUEST
    )


def test_stubber_gate_waits_for_the_scan_then_passes_without_critical_findings():
    result, sleeps = run(
        [
            error("ScanNotFoundException"),
            respond(findings("IN_PROGRESS")),
            respond(findings("COMPLETE", {"HIGH": 3, "LOW": 7})),
        ]
    )
    assert result.passed and result.counts == {"HIGH": 3, "LOW": 7}
    assert sleeps == [5, 5]  # waited twice: no scan yet, then in progress


def test_stubber_gate_refuses_a_critical_finding_by_default():
    result, _ = run([respond(findings("COMPLETE", {"CRITICAL": 1, "HIGH": 2}))])
    assert not result.passed and result.over == {"CRITICAL": (1, 0)}


def test_stubber_gate_threshold_from_pym_config_counts_high_too():
    result, _ = run(
        [respond(findings("ACTIVE", {"HIGH": 2}))],  # enhanced scanning reports ACTIVE
        limits={"CRITICAL": 0, "HIGH": 1},
    )
    assert result.over == {"HIGH": (2, 1)}


@pytest.mark.parametrize("status", ["FAILED", "UNSUPPORTED_IMAGE", "FINDINGS_UNAVAILABLE"])
def test_stubber_gate_refuses_an_image_whose_scan_did_not_complete(status):
    with pytest.raises(GateError) as err:
        run([respond(findings(status))])
    assert status in str(err.value) and err.value.code == 1


def test_stubber_gate_times_out_on_a_scan_that_never_finishes():
    now = [0.0]

    def clock():
        now[0] += 10
        return now[0]

    with pytest.raises(GateError, match="did not finish in 20 s"):
        run([respond(findings("IN_PROGRESS"))] * 2, timeout=20, clock=clock)


def test_stubber_gate_access_denied_is_a_registry_error():
    with pytest.raises(GateError) as err:
        run([error("AccessDeniedException")])
    assert err.value.code == scan_gate.EXIT_REGISTRY


def _cli(tmp_path, monkeypatch, body, *extra, config_extra=""):
    """Run the subcommand with a stubbed client in place of boto3's."""
    config = tmp_path / "pym-config.yaml"
    config.write_text("name: testsvc\naws_region: eu-west-1\n" + config_extra)
    client = ecr()
    stub = Stubber(client)
    stub.add_response("describe_image_scan_findings", body, {**REQUEST, "registryId": "1" * 12})
    stub.activate()
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    parser = argparse.ArgumentParser()
    image.add_commands(parser.add_subparsers())
    args = parser.parse_args(
        [
            "image",
            "scan-gate",
            "--tag",
            TAG,
            "--repository-uri",
            f"{'1' * 12}.dkr.ecr.eu-west-1.amazonaws.com/{REPO}",
            "--config",
            str(config),
            *extra,
        ]
    )
    return args.func(args)


def test_stubber_cli_exit_codes_and_the_explicit_override(tmp_path, monkeypatch, capsys):
    critical = findings("COMPLETE", {"CRITICAL": 2})
    assert _cli(tmp_path, monkeypatch, critical) == 1
    out = capsys.readouterr().out
    assert "not promoted: CRITICAL: 2 > 0" in out
    assert _cli(tmp_path, monkeypatch, critical, "--allow-findings") == 0
    assert "ALLOWED by override" in capsys.readouterr().out
    # the override can also live in pym-config, and a raised threshold passes it too
    allow = "image_scan:\n  allow: true\n"
    assert _cli(tmp_path, monkeypatch, critical, config_extra=allow) == 0
    raised = "image_scan:\n  max_findings: {CRITICAL: 2}\n"
    assert _cli(tmp_path, monkeypatch, critical, config_extra=raised) == 0
    assert _cli(tmp_path, monkeypatch, findings("COMPLETE", {})) == 0
    assert "no findings" in capsys.readouterr().out


def test_scan_threshold_config_is_validated(tmp_path):
    from pymacaron.exceptions import StartupError
    from pymacaron_kit.config import load_service_config

    path = tmp_path / "pym-config.yaml"
    path.write_text("name: testsvc\nimage_scan:\n  max_findings: {SEVERE: 1}\n")
    with pytest.raises(StartupError) as err:
        load_service_config(str(path))
    assert "image_scan" in str(err.value)
    path.write_text("name: testsvc\n")
    assert load_service_config(str(path)).scan_gate.max_findings == {"CRITICAL": 0}
