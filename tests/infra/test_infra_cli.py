"""The CDK app through the real CLI (node_modules aws-cdk@2), offline, without credentials."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.infra.infra_helpers import CONFIGS, ROOT, cdk_cli, tool_env

pytestmark = pytest.mark.xdist_group("cdk-cli")


def test_cdk_synth_writes_every_stack_offline_without_credentials(tmp_path):
    out = tmp_path / "cdk.out"
    proc = subprocess.run(
        [
            cdk_cli(),
            "synth",
            "--no-notices",
            "-q",
            "-o",
            str(out),
            "-c",
            f"config={CONFIGS / 'service.yaml'}",
        ],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in out.glob("*.template.json"))
    assert names == [
        "PymService-live.template.json",
        "PymService-network.template.json",
        "PymService-shared.template.json",
        "PymService-staging.template.json",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    stack_names = {
        k: v["properties"].get("stackName")
        for k, v in manifest["artifacts"].items()
        if v["type"] == "aws:cloudformation:stack"
    }
    assert stack_names == {
        "PymService-network": "pym-network",  # one per account and region, not per service
        "PymService-shared": "testsvc-shared",
        "PymService-staging": "testsvc-staging",
        "PymService-live": "testsvc-live",
    }


def test_a_config_error_stops_synth_with_the_key_and_no_traceback(tmp_path):
    bad = tmp_path / "pym-config.yaml"
    bad.write_text("name: badsvc\nenv_secrets: [JWT_SECRET]\n")
    proc = subprocess.run(
        [
            cdk_cli(),
            "synth",
            "--no-notices",
            "-q",
            "-o",
            str(tmp_path / "out"),
            "-c",
            f"config={bad}",
        ],
        cwd=ROOT,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "pym-config error:" in output and "key 'secrets'" in output and "JWT_SECRET" in output
    assert "Traceback" not in output
