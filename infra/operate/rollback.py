"""``pym rollback STAGE [--to VERSION] [--dry-run]``: redeploy the version that ran before.

Plan, then execute. The plan reads what ran on the stage, newest first, from two records:
CloudFormation's stack events (each deploy creates an ``AWS::ElasticBeanstalk::ApplicationVersion``
whose description is ``image URI (version V)``; only updates that completed count) and
Beanstalk's environment events (their version labels, for the application versions that
still exist). The target is ``--to VERSION`` or the newest version other than the running
one. It is refused when it is the running version, when its image is no longer in ECR,
and on live when its image carries no ``live-*`` tag (never promoted). Executing calls
``deploy(stage, version)``: by default ``cdk deploy <cdk id> -c version=V --require-approval
never`` in the service directory, the same path a deploy takes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field

from pymacaron.exceptions import StartupError

from ..names import IMAGE_TAG, LIVE_TAG_PREFIX, Target, outputs
from .aws import Aws, image_tag
from .errors import NotFound, Refused, call, checked_option
from .status import image, iso

TAG = IMAGE_TAG  # an image tag (infra/names.py)
_DESCRIPTION = re.compile(r"\(version ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})\)")  # infra/version.py
VERSION_RESOURCE = "AWS::ElasticBeanstalk::ApplicationVersion"
_STACK_DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")
_STACK_UNDONE = ("ROLLBACK", "FAILED")


@dataclass(frozen=True)
class Deployment:
    time: str  # ISO 8601, UTC
    version: str
    source: str  # "cloudformation" or "beanstalk"


@dataclass
class Plan:
    target: Target
    current: str | None
    version: str
    reason: str
    image: dict = field(default_factory=dict)
    history: list[Deployment] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"roll back {self.target.environment_name} from {self.current or 'unknown'} to "
            f"{self.version} ({self.reason}; image {self.image.get('digest')}) with "
            f"`cdk deploy {self.target.cdk_id} -c version={self.version}`"
        )


def version_of(description: str | None) -> str | None:
    m = _DESCRIPTION.search(description or "")
    return m.group(1) if m else None


def cloudformation_history(aws: Aws, target: Target) -> list[Deployment]:
    """Versions of completed stack deploys, from the stack events (oldest first)."""
    client = aws.client("cloudformation")
    events, token = [], None
    while True:
        kwargs = {"StackName": target.stack_name}
        if token:
            kwargs["NextToken"] = token
        page = call(client, "describe_stack_events", **kwargs)
        events += page.get("StackEvents") or []
        token = page.get("NextToken")
        if not token:
            break
    events.sort(key=lambda e: e["Timestamp"])  # the API returns newest first
    done, pending = [], []
    for e in events:
        if e.get("ResourceType") == VERSION_RESOURCE and e.get("ResourceProperties"):
            try:
                props = json.loads(e["ResourceProperties"])
            except ValueError:
                continue
            v = version_of(props.get("Description"))
            if v and v not in pending:
                pending.append(v)
        elif e.get("ResourceType") == "AWS::CloudFormation::Stack":
            status = e.get("ResourceStatus", "")
            if status in _STACK_DONE:
                done += [Deployment(iso(e["Timestamp"]), v, "cloudformation") for v in pending]
                pending = []
            elif any(word in status for word in _STACK_UNDONE):
                pending = []
    return done


MAX_LABELS = 100  # the newest labels looked up in one DescribeApplicationVersions call
_FAILED = re.compile(r"fail|roll(ed)? ?back|abort", re.IGNORECASE)


def beanstalk_history(aws: Aws, target: Target) -> list[Deployment]:
    """Versions Beanstalk reports deploying, for labels whose version still exists."""
    client = aws.client("elasticbeanstalk")
    events, token = [], None
    while True:
        kwargs = {
            "ApplicationName": aws.names.application,
            "EnvironmentName": target.environment_name,
        }
        if token:
            kwargs["NextToken"] = token
        page = call(client, "describe_events", **kwargs)
        events += page.get("Events") or []
        token = page.get("NextToken")
        if not token or len(events) >= 1000:
            break
    events = [
        e
        for e in events
        if e.get("VersionLabel")
        and e.get("Severity") not in ("ERROR", "FATAL")
        and not _FAILED.search(e.get("Message", ""))
    ]
    labels: list[str] = []
    for e in sorted(events, key=lambda e: e["EventDate"], reverse=True):
        if e["VersionLabel"] not in labels and len(labels) < MAX_LABELS:
            labels.append(e["VersionLabel"])
    if not labels:
        return []
    versions = call(
        client,
        "describe_application_versions",
        ApplicationName=aws.names.application,
        VersionLabels=sorted(labels),
    )["ApplicationVersions"]
    by_label = {v["VersionLabel"]: version_of(v.get("Description")) for v in versions}
    out = [
        Deployment(iso(e["EventDate"]), by_label[e["VersionLabel"]], "beanstalk")
        for e in sorted(events, key=lambda e: e["EventDate"])
        if by_label.get(e.get("VersionLabel"))
    ]
    return out


def history(aws: Aws, target: Target) -> list[Deployment]:
    """What ran on the target, newest first, consecutive repeats merged."""
    merged = sorted(
        cloudformation_history(aws, target) + beanstalk_history(aws, target),
        key=lambda d: d.time,
        reverse=True,
    )
    out: list[Deployment] = []
    for d in merged:
        if not out or out[-1].version != d.version:
            out.append(d)
    return out


def check_version(to: str | None) -> str | None:
    what = "an image tag (letters, digits, '_', '.', '-'; at most 128)"
    return checked_option(to, TAG, "--to", what)


def plan(aws: Aws, target: Target, to: str | None = None) -> Plan:
    check_version(to)
    stack = aws.stack(target.stack_name)
    if stack is None:
        raise NotFound(
            f"stack {target.stack_name} does not exist: nothing to roll back; create it with "
            f"{aws.names.create_command(target)}"
        )
    current = image_tag(outputs(stack).get("Image"))
    past: list[Deployment] = []
    if to is not None:
        version, reason = to, "asked for with --to"
    else:
        past = history(aws, target)
        previous = next((d for d in past if d.version != current), None)
        if previous is None:
            raise NotFound(
                f"no earlier version recorded for {target.environment_name} (stack and Beanstalk "
                "events): name one with --to VERSION"
            )
        version, reason = previous.version, f"the version that ran before, deployed {previous.time}"
    if version == current:
        raise Refused(f"{target.environment_name} already runs {version}: nothing to roll back")
    found = image(aws, version)
    if found is None:
        raise Refused(
            f"cannot roll back {target.environment_name} to {version}: its image "
            f"{aws.names.repository}:{version} no longer exists in ECR (expired by the "
            "repository's lifecycle rule or deleted); pick another with --to"
        )
    if target.stage == "live" and not any(t.startswith(LIVE_TAG_PREFIX) for t in found["tags"]):
        raise Refused(
            f"cannot roll back {target.environment_name} to {version}: on live only versions "
            f"promoted to live are allowed, and its image carries no {LIVE_TAG_PREFIX}* tag "
            f"(tags: {', '.join(found['tags']) or 'none'})"
        )
    return Plan(target, current, version, reason, found, past)


def cdk_deploy(target: Target, version: str, service_dir: str) -> int:
    """The default deploy, the path every deploy takes: ``pym deploy STAGE --version V`` for
    a direct stage (on live it keeps the image's ``live-*`` tag), the CDK CLI on the
    pipeline's stage stack otherwise; in the service directory (where cdk.json is)."""
    if target.managed_by != "pipeline":
        from ..deploy import deploy
        from ..release.common import ReleaseError

        try:
            return deploy(service_dir, target.stage, version, extra=("--require-approval", "never"))
        except ReleaseError as e:
            print(f"pym deploy: error: {e}", file=sys.stderr)
            return e.code
    cdk = shutil.which("cdk") or shutil.which(
        "cdk", path=os.path.join(service_dir, "node_modules", ".bin")
    )
    if cdk is None:
        raise StartupError(
            "the CDK CLI 'cdk' is not on PATH: `npm install aws-cdk@2` and put "
            "node_modules/.bin on PATH (pym docs deploy)"
        )
    argv = deploy_command(cdk, target, version)
    return subprocess.run(argv, cwd=service_dir).returncode


def deploy_command(cdk: str, target: Target, version: str) -> list[str]:
    return [cdk, "deploy", target.cdk_id, "-c", f"version={version}", "--require-approval", "never"]
