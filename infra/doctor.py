"""``pym doctor``: before the first deploy, what is missing, one line each with its fix.

Checks, in the order a first deploy needs them: AWS credentials (STS), the region, the CDK
bootstrap this service deploys through (its qualifier's ``/cdk-bootstrap/Q/version``
parameter and toolkit stack), the recorded Beanstalk platform, the CDK CLI, and with a
``pipeline:`` section the source connection and where CodeBuild gets the kit. Exit code 0
when nothing is missing, 1 otherwise, 2 on a config error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import bootstrap, cdk_cli, names
from .config import ServiceConfig, load_service_config
from .config_rules import deploy_region
from .release.common import EXIT_FAILED


@dataclass
class Finding:
    what: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        if self.ok:
            return f"ok       {self.what}: {self.detail}"
        return f"MISSING  {self.what}: {self.detail} -> {self.fix}"


def _client(service: str, region: str | None):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2})
    return boto3.client(service, region_name=region, config=config)


def _error(e) -> str:
    response = getattr(e, "response", None) or {}
    err = response.get("Error") or {}
    return f"{err.get('Code')}: {err.get('Message')}" if err else str(e).splitlines()[0]


def check_credentials(region: str | None) -> tuple[Finding, str | None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        me = _client("sts", region or "us-east-1").get_caller_identity()
    except (BotoCoreError, ClientError) as e:
        return Finding("credentials", False, f"none usable ({_error(e)})",
                       "aws configure, aws sso login, or export AWS_PROFILE=..."), None  # fmt: skip
    return Finding("credentials", True, f"account {me['Account']} as {me['Arn']}"), me["Account"]


def check_region(config: ServiceConfig) -> Finding:
    region = deploy_region(config.region)
    if region:
        source = "aws_region" if config.region else "the environment"
        return Finding("region", True, f"{region} (from {source})")
    return Finding("region", False, "no aws_region in pym-config.yaml and no AWS_REGION",
                   "set aws_region: eu-west-1 (yours) in pym-config.yaml")  # fmt: skip


def check_bootstrap(config: ServiceConfig, account: str | None, region: str | None) -> Finding:
    from botocore.exceptions import BotoCoreError, ClientError

    qualifier = config.bootstrap_qualifier or bootstrap.DEFAULT_QUALIFIER
    toolkit = bootstrap.toolkit_stack(config.bootstrap_qualifier)
    fix = "pym bootstrap --execution-policy ARN (" + bootstrap.command(
        account, region, config.bootstrap_qualifier, "ARN") + ")"  # fmt: skip
    parameter = f"/cdk-bootstrap/{qualifier}/version"
    try:
        version = _client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ParameterNotFound":
            return Finding("bootstrap", False, f"no {parameter} (qualifier {qualifier})", fix)
        return Finding("bootstrap", False, f"cannot read {parameter}: {_error(e)}", fix)
    except BotoCoreError as e:
        return Finding("bootstrap", False, f"cannot read {parameter}: {_error(e)}", fix)
    try:
        names.find_stack(_client("cloudformation", region), toolkit, missing_ok=False)
    except (BotoCoreError, ClientError) as e:
        return Finding("bootstrap", False, f"{parameter} is {version} but no stack {toolkit} "
                       f"({_error(e)})", fix)  # fmt: skip
    return Finding("bootstrap", True, f"qualifier {qualifier}, stack {toolkit}, version {version}")


def check_platform(config: ServiceConfig) -> Finding:
    from . import platform

    if config.platform.platform_arn or config.platform.solution_stack:
        return Finding("platform", True, "pinned in pym-config.yaml")
    record = platform.read_record(platform.context_path(config))
    if record:
        return Finding("platform", True, f"recorded {record['arn'].rsplit('/', 1)[-1]} "
                       f"in {platform.CONTEXT_FILE}")  # fmt: skip
    return Finding("platform", False, f"no Beanstalk platform version in {platform.CONTEXT_FILE}",
                   "pym platform refresh, then commit cdk.context.json")  # fmt: skip


def check_cdk_cli(root: str) -> Finding:
    from .deploy import tool_env

    found = cdk_cli.find(root, tool_env(root))
    if found:
        return Finding("CDK CLI", True, found)
    return Finding("CDK CLI", True, f"aws-cdk@{cdk_cli.CDK_CLI_VERSION} is installed into "
                   f"{cdk_cli.cache_dir()} on the first pym deploy (npm)")  # fmt: skip


def check_pipeline(config: ServiceConfig) -> list[Finding]:
    p = config.pipeline
    if p is None:
        return []
    out = []
    if p.codecommit_repository:
        out.append(Finding("pipeline source", True, p.source_label))
    elif p.placeholder_connection:
        out.append(Finding("pipeline source", False,
                           f"pipeline.connection_arn is pym new's placeholder ({p.connection_arn})",
                           "aws codeconnections create-connection --provider-type GitHub "
                           "--connection-name NAME, approve it in the console, set its ARN"))  # fmt: skip
    else:
        out.append(Finding("pipeline source", True, f"{p.source_label} via {p.connection_arn}"))
    if p.kit_source:
        out.append(Finding("kit for CodeBuild", True, p.kit_source))
    else:
        out.append(Finding("kit for CodeBuild", False,
                           "requirements.txt pins pymacaron[kit], which is on no public index",
                           "set pipeline.wheelhouse (pip download 'pymacaron[kit]==VERSION' -d "
                           "wheelhouse, commit it), pipeline.python_index or pipeline.codeartifact"))  # fmt: skip
    return out


def diagnose(root: str) -> list[Finding]:
    config = load_service_config(os.path.join(root, "pym-config.yaml"))
    region_finding = check_region(config)
    region = deploy_region(config.region)
    credentials, account = check_credentials(region)
    findings = [credentials, region_finding]
    if account and region:
        findings.append(check_bootstrap(config, config.account or account, region))
    else:
        findings.append(Finding("bootstrap", False, "not checked (needs credentials and a region)",
                                "fix the lines above, then run pym doctor again"))  # fmt: skip
    findings += [check_platform(config), check_cdk_cli(root), *check_pipeline(config)]
    return findings


def doctor(root: str) -> int:
    findings = diagnose(root)
    for f in findings:
        print(f"doctor: {f.line()}", flush=True)
    missing = sum(not f.ok for f in findings)
    print(f"doctor: {missing} missing" if missing else "doctor: ready for pym deploy")
    return EXIT_FAILED if missing else 0
