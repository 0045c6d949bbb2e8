"""The Beanstalk platform version: resolved from the Docker AL2023 branch, recorded, replayed.

Elastic Beanstalk accepts only current platform versions and retires old ones; a solution
stack name is create-only, so changing it would replace a fixed-name environment (which
CloudFormation refuses). Environments are therefore named by ``PlatformArn`` (updatable in
place). ``pym platform refresh`` asks AWS (``ListPlatformVersions``) for the branch's
current version and records it in ``cdk.context.json`` under ``pym:platform``; synthesis
reads that record and never calls AWS. Commit the file: the pipeline deploys what is
recorded, and a platform upgrade is a reviewed commit like any other (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

from pymacaron.exceptions import StartupError

from .config import PLATFORM_BRANCH, Platform, ServiceConfig

CONTEXT_KEY = "pym:platform"
CONTEXT_FILE = "cdk.context.json"
# Used, with a synth warning, only while nothing is recorded: AWS retires versions, so the
# first deploy of a new environment needs `pym platform refresh` once AWS ships a newer one.
FALLBACK_VERSION = "4.7.3"


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def context_path(config: ServiceConfig) -> str:
    """cdk.context.json next to pym-config.yaml (where cdk.json and app.py live)."""
    return os.path.join(os.path.dirname(config.path), CONTEXT_FILE)


def read_record(path: str) -> dict | None:
    """The recorded platform (``{"arn", "version", "branch", "region"}``) or None."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise StartupError(f"cannot read it as JSON: {e}", file=path) from None
    record = data.get(CONTEXT_KEY) if isinstance(data, dict) else None
    if record is None:
        return None
    if not (isinstance(record, dict) and str(record.get("arn", "")).startswith("arn:")):
        raise StartupError(
            "expected {arn, version, branch, region} as `pym platform refresh` writes it",
            file=path,
            location=f"key '{CONTEXT_KEY}'",
        )
    return record


def resolve(scope, config: ServiceConfig) -> Platform:
    """The platform the stage environments run in the construct ``scope``: pym-config's,
    else the recorded version.

    ``platform.platform_arn`` or ``platform.solution_stack`` in pym-config win (the latter is
    create-only: `pym plan` reports changing it as a failing replacement). Otherwise the
    ARN recorded by ``pym platform refresh`` (cdk context, or cdk.context.json beside the
    config), rebuilt for the stack's region; with no record, the kit's fallback version and
    a synth warning.
    """
    if config.platform.platform_arn or config.platform.solution_stack:
        return config.platform
    from aws_cdk import Annotations, Stack  # here, not at import: `pym` starts without jsii

    stack = Stack.of(scope)
    record = scope.node.try_get_context(CONTEXT_KEY)
    where = "context"
    if record is None:
        where = context_path(config)
        record = read_record(where)
    if record is None:
        Annotations.of(stack).add_warning_v2(
            "pym:platform-not-recorded",
            f"no platform version recorded: using {PLATFORM_BRANCH}/{FALLBACK_VERSION}, which "
            "AWS may have retired. Run `pym platform refresh` and commit cdk.context.json.",
        )
        version = FALLBACK_VERSION
    else:
        region = str(record.get("region") or "")
        if config.region and region and region != config.region:
            raise StartupError(
                f"the recorded platform is for {region} but aws_region is {config.region}: "
                "run `pym platform refresh`",
                file=where,
                location=f"key '{CONTEXT_KEY}'",
            )
        version = str(record.get("version") or record["arn"].rsplit("/", 1)[-1])
    arn = stack.format_arn(
        service="elasticbeanstalk",
        account="",
        resource="platform",
        resource_name=f"{PLATFORM_BRANCH}/{version}",
    )
    return Platform(platform_arn=arn)


def current_version(client, branch: str = PLATFORM_BRANCH) -> dict:
    """The branch's current platform (ListPlatformVersions): recommended, else the newest."""
    summaries, token = [], None
    while True:
        kwargs = {
            "Filters": [
                {"Type": "PlatformBranchName", "Operator": "=", "Values": [branch]},
                {"Type": "PlatformStatus", "Operator": "=", "Values": ["Ready"]},
            ],
            "MaxRecords": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.list_platform_versions(**kwargs)
        summaries += page.get("PlatformSummaryList") or []
        token = page.get("NextToken")
        if not token:
            break
    if not summaries:
        raise StartupError(f"AWS lists no Ready platform version of the branch {branch!r}")
    recommended = [
        s for s in summaries if str(s.get("PlatformLifecycleState", "")).lower() == "recommended"
    ]
    best = max(recommended or summaries, key=lambda s: _version_key(s.get("PlatformVersion", "")))
    return best


def refresh(config: ServiceConfig, region: str | None = None, client=None, path=None) -> dict:
    """Resolve the branch's current version on AWS and record it; returns the record."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = region or config.region
    try:
        if client is None:
            import boto3

            session = boto3.session.Session(region_name=region)
            region = region or session.region_name
            if not region:
                raise StartupError(
                    "no region: set aws_region in pym-config.yaml or pass --region",
                    file=config.path,
                )
            client = session.client("elasticbeanstalk", region_name=region)
        best = current_version(client)
    except NoCredentialsError:
        raise StartupError(
            "no AWS credentials: `pym platform refresh` asks Elastic Beanstalk for the current "
            "platform version (set AWS_PROFILE or run `aws configure`)"
        ) from None
    except ClientError as e:
        err = e.response.get("Error", {})
        raise StartupError(
            f"Elastic Beanstalk refused ListPlatformVersions: {err.get('Code')}: "
            f"{err.get('Message')}"
        ) from None
    except BotoCoreError as e:
        raise StartupError(f"Elastic Beanstalk unreachable: {e}") from None
    arn = best["PlatformArn"]
    record = {
        "arn": arn,
        "branch": best.get("PlatformBranchName", PLATFORM_BRANCH),
        "version": best.get("PlatformVersion") or arn.rsplit("/", 1)[-1],
        "region": region or arn.split(":")[3],
        "resolved": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    path = path or context_path(config)
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    data[CONTEXT_KEY] = record
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    return record
