"""``pym status [STAGE] [--json]``: each stage's health, version, size, URL and last deploy,
and the pipeline's last execution with the stage it stopped at.

Sources: the stage stack (status, outputs ``Image``/``EnvironmentUrl``/``ServiceUrl``, last
update = last deploy), the Beanstalk environment (status, health, version label, CNAME),
its auto scaling group (tagged ``elasticbeanstalk:environment-name`` by Beanstalk: sizes
and instances), ECR (the running tag's digest and tags) and CodePipeline (last execution,
stage state).
"""

from __future__ import annotations

import datetime as dt

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from pymacaron.exceptions import StartupError

from ..names import Target, outputs
from .aws import Aws, image_tag
from .errors import call, error_code

UNHEALTHY = {"Red", "Yellow"}  # Beanstalk's Health colours for Degraded/Severe, Warning


def iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return str(value)


def stage_url(out: dict, environment: dict | None) -> str | None:
    """Where users reach the stage: ServiceUrl (live_host), else the load balancer."""
    if out.get("ServiceUrl"):
        return out["ServiceUrl"]
    if out.get("EnvironmentUrl"):
        return out["EnvironmentUrl"]
    cname = (environment or {}).get("CNAME")
    return f"http://{cname}" if cname else None


def docs_url(url: str | None) -> str | None:
    return f"{url.rstrip('/')}/docs" if url else None


def environment(aws: Aws, target: Target) -> dict | None:
    envs = aws.call(
        "elasticbeanstalk",
        "describe_environments",
        ApplicationName=aws.names.application,
        EnvironmentNames=[target.environment_name],
        IncludeDeleted=False,
    )["Environments"]
    envs = [e for e in envs if e.get("EnvironmentName") == target.environment_name]
    live = [e for e in envs if e.get("Status") not in ("Terminated",)]
    return (live or envs or [None])[0]


def instances(aws: Aws, target: Target) -> dict | None:
    groups = aws.call(
        "autoscaling",
        "describe_auto_scaling_groups",
        Filters=[
            {"Name": "tag:elasticbeanstalk:environment-name", "Values": [target.environment_name]}
        ],
    )["AutoScalingGroups"]
    if not groups:
        return None
    members = [i for g in groups for i in g.get("Instances") or []]
    return {
        "min": sum(g["MinSize"] for g in groups),
        "max": sum(g["MaxSize"] for g in groups),
        "desired": sum(g["DesiredCapacity"] for g in groups),
        "running": len(members),
        "in_service": sum(1 for i in members if i.get("LifecycleState") == "InService"),
        "healthy": sum(1 for i in members if i.get("HealthStatus") == "Healthy"),
    }


def image(aws: Aws, tag: str) -> dict | None:
    """The image a tag names in the service's repository, or None when it is gone."""
    client = aws.client("ecr")
    try:
        details = client.describe_images(
            repositoryName=aws.names.repository, imageIds=[{"imageTag": tag}]
        )["imageDetails"]
    except ClientError as e:
        if error_code(e) in ("ImageNotFoundException", "RepositoryNotFoundException"):
            return None
        raise _fail(client, "describe_images", e) from None
    except (BotoCoreError, ResponseParserError) as e:
        raise _fail(client, "describe_images", e) from None
    if not details:
        return None
    d = details[0]
    return {
        "digest": d.get("imageDigest"),
        "tags": sorted(d.get("imageTags") or []),
        "pushed_at": iso(d.get("imagePushedAt")),
    }


def target_status(aws: Aws, target: Target) -> dict:
    names = aws.names
    stage_config = names.config.stages[target.stage]
    row: dict = {
        "stage": target.key,
        "managed_by": target.managed_by,
        "stack": target.stack_name,
        "environment": target.environment_name,
        "cdk_id": target.cdk_id,
        "config_hosts": {"min": stage_config.hosts_min, "max": stage_config.hosts_max},
    }
    stack = aws.stack(target.stack_name)
    if stack is None:
        row.update(exists=False, create=names.create_command(target))
        return row
    out = outputs(stack)
    env = environment(aws, target)
    version = image_tag(out.get("Image"))
    row.update(
        exists=True,
        stack_status=stack.get("StackStatus"),
        last_deploy=iso(stack.get("LastUpdatedTime") or stack.get("CreationTime")),
        version=version,
        image=out.get("Image"),
        version_label=(env or {}).get("VersionLabel"),
        url=stage_url(out, env),
    )
    row["docs_url"] = docs_url(row["url"])
    if env is None:
        row.update(status="missing", health=None, health_status=None)
    else:
        row.update(
            status=env.get("Status"),
            health=env.get("Health"),
            health_status=env.get("HealthStatus"),
            environment_updated=iso(env.get("DateUpdated")),
        )
    row["instances"] = instances(aws, target)
    img = image(aws, version) if version else None
    row["digest"] = img["digest"] if img else None
    row["image_tags"] = img["tags"] if img else []
    if version and img is None:
        row["image_missing"] = True
    row["healthy"] = healthy(row)
    return row


def healthy(row: dict) -> bool:
    if not row.get("exists"):
        return False
    if row.get("status") in ("missing", "Terminated", "Terminating"):
        return False
    if row.get("health") in UNHEALTHY:
        return False
    return not str(row.get("stack_status", "")).endswith(("FAILED", "ROLLBACK_COMPLETE"))


def pipeline_status(aws: Aws) -> dict | None:
    """The last execution and the stage it stopped at (None without ``pipeline:``)."""
    name = aws.names.pipeline_name
    if name is None:
        return None
    client = aws.client("codepipeline")
    row: dict = {"name": name}
    try:
        executions = client.list_pipeline_executions(pipelineName=name, maxResults=1)[
            "pipelineExecutionSummaries"
        ]
    except ClientError as e:
        if error_code(e) == "PipelineNotFoundException":
            row.update(exists=False, create=aws.names.pipeline_create_command())
            return row
        raise _fail(client, "list_pipeline_executions", e) from None
    except (BotoCoreError, ResponseParserError) as e:
        raise _fail(client, "list_pipeline_executions", e) from None
    row["exists"] = True
    last = executions[0] if executions else None
    row["last_execution"] = (
        {
            "id": last.get("pipelineExecutionId"),
            "status": last.get("status"),
            "started": iso(last.get("startTime")),
            "updated": iso(last.get("lastUpdateTime")),
            "revision": next(
                (r.get("revisionId") for r in last.get("sourceRevisions") or []), None
            ),
        }
        if last
        else None
    )
    try:
        state = call(client, "get_pipeline_state", name=name)
    except StartupError as e:  # the execution is shown; the stage detail is extra
        row.update(stages=[], stopped_at=f"unknown ({e})")
        return row
    row["stages"] = [
        {
            "name": s["stageName"],
            "status": (s.get("latestExecution") or {}).get("status"),
            "execution": (s.get("latestExecution") or {}).get("pipelineExecutionId"),
        }
        for s in state.get("stageStates") or []
    ]
    row["stopped_at"] = stopped_at(row["stages"])
    return row


def stopped_at(stages: list[dict]) -> str | None:
    """The first stage of the last run that did not succeed (None: every stage succeeded)."""
    for s in stages:
        if s["status"] != "Succeeded":
            return f"{s['name']} ({s['status'] or 'not run'})"
    return None


def _fail(client, operation: str, e: Exception) -> StartupError:
    from .errors import translate

    return translate(client, operation, e)


def collect(aws: Aws, targets: list[Target], with_pipeline: bool) -> dict:
    try:
        return {
            "service": aws.names.service,
            "region": aws.client("cloudformation").meta.region_name,
            "stages": [target_status(aws, t) for t in targets],
            "pipeline": pipeline_status(aws) if with_pipeline else None,
        }
    except (BotoCoreError, ResponseParserError) as e:  # a call made outside errors.call
        raise StartupError(f"AWS request failed: {e}") from None


def format_text(report: dict) -> str:
    lines = [f"{report['service']} in {report['region']}"]
    for row in report["stages"]:
        head = f"{row['stage']}: {row['environment']} ({row['managed_by']}, cdk id {row['cdk_id']})"
        if not row["exists"]:
            lines += [
                head,
                f"  not deployed yet: stack {row['stack']} does not exist; create it "
                f"with: {row['create']}",
            ]
            continue
        lines.append(head)
        health = f"{row['health'] or '-'} ({row['health_status'] or 'no data'})"
        lines.append(
            f"  health     {health}, environment {row['status']}, stack {row['stack_status']}"
        )
        version = row["version"] or "none (Beanstalk sample application)"
        lines.append(f"  version    {version}  label {row['version_label'] or '-'}")
        if row["image"]:
            digest = row["digest"] or "IMAGE NOT IN ECR"
            lines.append(f"  image      {row['image']}  {digest}")
        cfg = row["config_hosts"]
        inst = row["instances"]
        if inst:
            lines.append(
                f"  instances  {inst['in_service']} in service, {inst['healthy']} healthy, "
                f"{inst['desired']} desired (group {inst['min']}..{inst['max']}; "
                f"pym-config {cfg['min']}..{cfg['max']})"
            )
        else:
            lines.append(
                f"  instances  no auto scaling group found (pym-config {cfg['min']}..{cfg['max']})"
            )
        lines.append(f"  url        {row['url'] or '-'}  docs {row['docs_url'] or '-'}")
        lines.append(f"  deployed   {row['last_deploy'] or '-'}")
    p = report.get("pipeline")
    if p:
        if not p["exists"]:
            lines.append(f"pipeline {p['name']}: not deployed yet; create it with: {p['create']}")
        else:
            last = p["last_execution"]
            if last:
                lines.append(
                    f"pipeline {p['name']}: last execution {last['status']} "
                    f"(started {last['started']}, commit {last['revision'] or '-'}, id {last['id']})"
                )
            else:
                lines.append(f"pipeline {p['name']}: never run")
            lines.append(f"  stopped at {p['stopped_at'] or '- (every stage succeeded)'}")
    return "\n".join(lines)


def exit_code(report: dict, asked_one: bool) -> int:
    """0: every deployed stage healthy; 1: one is unhealthy (or the STAGE asked for is absent)."""
    rows = report["stages"]
    if asked_one and not all(r["exists"] for r in rows):
        return 1
    return 0 if all(r["healthy"] for r in rows if r["exists"]) else 1
