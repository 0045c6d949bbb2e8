"""The gates every synthesized template passes: cfn-lint and cdk-nag AwsSolutions."""

from __future__ import annotations

import json

import pytest

import pymacaron_kit.iam
from tests.infra.infra_helpers import CONFIGS, cfn_lint, nag_violations, synthesize

pytestmark = pytest.mark.xdist_group("cdk")


def test_cfn_lint_has_no_errors_on_any_template(synthesized):
    templates = sorted(synthesized.outdir.glob("*.template.json"))
    assert len(templates) == 4  # shared, network, staging, live
    proc = cfn_lint(templates)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized):
    # The session app was synthesized with AwsSolutionsChecks: an unacknowledged error
    # would have failed synthesis; the report must show no violation at all.
    violations = nag_violations(synthesized.outdir)
    assert violations == []


def _acknowledgements(synthesized) -> dict[str, str]:
    """Every cdk-nag acknowledgement in the app's construct tree: path + rule -> reason."""
    found = {}
    root = synthesized.stacks.shared.node.root
    for construct in root.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != "aws:cdk:acknowledged-rules":
                continue
            for rule, reason in entry.data.items():
                if "AwsSolutions-" in rule:
                    found[f"{construct.node.path} {rule}"] = reason
    return found


def test_every_acknowledgement_states_its_reason_in_one_sentence(synthesized):
    acks = _acknowledgements(synthesized)
    rules = " ".join(acks)
    assert "AwsSolutions-IAM4" in rules and "AwsSolutions-IAM5[Resource::*]" in rules
    # acknowledged only where needed: the instance and service roles
    assert all("/Roles/" in key for key in acks), sorted(acks)
    for key, reason in acks.items():
        body = reason.strip()
        assert len(body) > 30 and body.endswith("."), key
        assert body.count(". ") == 0 and body[0].isalpha(), key


def test_the_nag_gate_fails_synthesis_on_an_unacknowledged_finding(tmp_path, monkeypatch):
    # Drop the acknowledgements: the same app must no longer synthesize.
    monkeypatch.setattr(pymacaron_kit.iam, "acknowledge", lambda *a, **k: None)
    with pytest.raises(Exception) as err:
        synthesize(CONFIGS / "service.yaml", tmp_path / "cdk.out")
    assert "Validation failed" in str(err.value) or "ValidationFailed" in str(err.value)
    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert "AwsSolutions-IAM5[Resource::*]" in rules
