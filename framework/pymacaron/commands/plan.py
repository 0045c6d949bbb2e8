"""The deploy kit's ``pym plan`` (an offline diff of the templates an edit changes:
``pymacaron_kit.template_diff``) and ``pym platform refresh`` (the Beanstalk platform record:
``pymacaron_kit.platform``)."""

from __future__ import annotations

import shutil

from pymacaron.exceptions import StartupError

__all__ = ["add_commands", "cmd_plan", "cmd_platform_refresh"]


def cmd_plan(args) -> int:
    from pymacaron_kit.template_diff import plan_against, render

    if shutil.which("git") is None:
        raise StartupError("pym plan needs git on PATH")
    context = {"config": args.config} if args.config else {}
    plans, short, why = plan_against(args.against, ".", context)
    title = f"pym plan: working tree against {args.against} ({short})"
    if why:
        print(f"{title}: no plan, the ref does not synthesize: {why}")
        return 0
    print(render(plans, title))
    return 1 if any(p.fails for p in plans) else 0


def cmd_platform_refresh(args) -> int:
    from pymacaron_kit import platform
    from pymacaron_kit.config import load_service_config

    config = load_service_config(args.config)
    path = args.context or platform.context_path(config)
    old = platform.read_record(path)
    record = platform.refresh(config, region=args.region, path=path)
    before = f" (was {old['version']})" if old and old.get("version") != record["version"] else ""
    print(f"platform: {record['branch']} {record['version']}{before} -> {path}")
    print(f"  {record['arn']}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser(
        "plan",
        help="what an edit adds, changes and replaces, per stack, before anything is deployed",
        description="Synthesize the working tree and a git ref (offline) and list per stack "
        "the resources added, removed, modified and REPLACED (a create-only property "
        "changed), flagging replacements CloudFormation would refuse. Exit codes: 0 planned, "
        "1 a planned change would fail, 2 usage.",
    )
    p.add_argument("--against", default="HEAD", metavar="REF", help="git ref (default: HEAD)")
    p.add_argument("--config", help="pym-config file (default: the app's, pym-config.yaml)")
    p.set_defaults(func=cmd_plan, needs_kit=True)

    p = sub.add_parser("platform", help="the Beanstalk platform version environments run")
    psub = p.add_subparsers(dest="subcommand", metavar="COMMAND", required=True)
    r = psub.add_parser(
        "refresh",
        help="record the Docker AL2023 branch's current version in cdk.context.json",
        description="Ask Elastic Beanstalk (ListPlatformVersions, AWS credentials from the "
        "standard chain) for the current version of the Docker on Amazon Linux 2023 branch "
        "and record its ARN in cdk.context.json; synthesis replays it offline. Exit codes: "
        "0 recorded, 2 no credentials / refused / bad config.",
    )
    r.add_argument("--config", default="pym-config.yaml", help="pym-config file")
    r.add_argument("--region", help="AWS region (default: aws_region, then the AWS profile's)")
    r.add_argument("--context", help="file to record into (default: cdk.context.json beside it)")
    r.set_defaults(func=cmd_platform_refresh, needs_kit=True)
