"""The deploy kit's ``pym status``, ``pym logs``, ``pym rollback``, ``pym url``, ``pym open``:
a deployed service (``pymacaron_kit.operate``).

Exit codes (every command): 0 done; 1 a "no" answer -- a stage unhealthy or not deployed,
no such stack or log group (``NotFound``), a rollback refused (``Refused``), a deploy that
failed; 2 a user or configuration error -- bad option or pym-config, no credentials or
region, access denied (the message names the IAM permission). Errors are one line, never
a traceback (errors.py). Tests set ``session``, ``clients``, ``deploy``, ``opener``,
``browser_available`` on the arguments (``pymacaron.commands.run(argv, clients=...)``).
"""

from __future__ import annotations

import json
import os
import sys

from pymacaron.exceptions import StartupError

from . import table
from .errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from .table import Command, arg

__all__ = ["add_commands", "cmd_status", "cmd_logs", "cmd_rollback", "cmd_url", "cmd_open"]


def exit_codes(one: str) -> str:
    return (
        "exit codes:\n"
        f"  {EXIT_OK}  ok\n"
        f"  {EXIT_FAILED}  {one}\n"
        f"  {EXIT_USAGE}  usage or pym-config error, or AWS access error (no credentials or region,\n"
        "     access denied: the message names the missing IAM permission)"
    )


def _aws(args):
    from pymacaron_kit.config import load_service_config
    from pymacaron_kit.names import Names
    from pymacaron_kit.operate.aws import Aws

    config = load_service_config(args.config)
    return Aws(
        Names(config),
        session=getattr(args, "session", None),
        clients=getattr(args, "clients", None),
    )


def cmd_status(args) -> int:
    from pymacaron_kit.operate import status as status_mod
    from pymacaron_kit.operate.aws import resolve

    aws = _aws(args)
    if args.stage:
        targets = [resolve(aws, args.stage)]
        with_pipeline = targets[0].managed_by == "pipeline"
    else:
        targets = aws.names.targets()
        with_pipeline = aws.names.pipeline_name is not None
    report = status_mod.collect(aws, targets, with_pipeline)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(status_mod.format_text(report))
    return status_mod.exit_code(report, asked_one=bool(args.stage))


def cmd_logs(args) -> int:
    from pymacaron_kit.operate import logs as logs_mod
    from pymacaron_kit.operate.aws import resolve

    since = logs_mod.parse_since(args.since)
    request_id = logs_mod.check_request_id(args.request_id)
    if args.interval <= 0:
        raise StartupError(
            f"expected a positive number of seconds, got {args.interval}",
            location="option --interval",
        )
    aws = _aws(args)
    target = resolve(aws, args.stage)
    count = logs_mod.show(
        aws,
        target,
        since,
        follow=args.follow,
        request_id=request_id,
        every=args.all,
        interval=args.interval,
        max_polls=getattr(args, "max_polls", None),
    )
    if count == 0 and not args.follow:
        what = f" for request {request_id}" if request_id else ""
        print(f"(no log lines{what} since {args.since})", file=sys.stderr)
    return EXIT_OK


def cmd_rollback(args) -> int:
    """``args.deploy(stage, version)`` when set (tests), else ``cdk deploy`` of the stage."""
    from pymacaron_kit.operate import rollback as rollback_mod
    from pymacaron_kit.operate.aws import resolve

    rollback_mod.check_version(args.to)
    aws = _aws(args)
    target = resolve(aws, args.stage)
    p = rollback_mod.plan(aws, target, args.to)
    print(p.describe())
    if args.dry_run:
        return EXIT_OK
    deploy = getattr(args, "deploy", None)
    if deploy is None:
        service_dir = os.path.dirname(aws.names.config.path)

        def deploy(stage, version):
            return rollback_mod.cdk_deploy(aws.names.target(stage), version, service_dir)

    code = deploy(target.key, p.version)
    if code:
        print(
            f"pym rollback: the deploy of {p.version} failed (exit {code}); "
            f"{target.environment_name} keeps what it ran",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"{target.environment_name} now runs {p.version}")
    return EXIT_OK


def cmd_url(args) -> int:
    from pymacaron_kit.operate import url as url_mod
    from pymacaron_kit.operate.aws import resolve

    aws = _aws(args)
    url, docs = url_mod.urls(aws, resolve(aws, args.stage))
    print(docs if args.docs else url)
    return EXIT_OK


def cmd_open(args) -> int:
    from pymacaron_kit.operate import url as url_mod
    from pymacaron_kit.operate.aws import resolve

    aws = _aws(args)
    url, docs = url_mod.urls(aws, resolve(aws, args.stage))
    print(url)
    print(docs)
    if args.no_browser:
        return EXIT_OK
    available = getattr(args, "browser_available", url_mod.browser_available)
    opener = getattr(args, "opener", None) or url_mod.webbrowser.open
    if not url_mod.open_in_browser(docs, available, opener):
        print("(no browser found: open the URL above yourself)", file=sys.stderr)
    return EXIT_OK


STAGE_HELP = (
    "staging or live (direct deploys, <name>-<stage>), or pipeline-staging / pipeline-live "
    "(<name>-pipeline-<stage>); a plain stage uses the pipeline-managed one when only that exists"
)
STAGE = arg("stage", help=STAGE_HELP)
CONFIG = arg(
    "--config", default="pym-config.yaml", help="pym-config file (default: ./pym-config.yaml)"
)

COMMANDS = (
    Command(
        "status",
        "health, version, size, URL and last deploy of each stage, and the pipeline",
        cmd_status,
        (
            arg("stage", nargs="?", help=STAGE_HELP + " (default: every stage)"),
            arg("--json", action="store_true", help="print JSON for scripts"),
        ),
        exit_codes("a stage is unhealthy, or STAGE is not deployed"),
        "Show each stage's environment health and status, running version "
        "(label, image tag and digest), instances against aws_hosts_min/max, URL, last deploy "
        "time, and the pipeline's last execution and the stage it stopped at.",
    ),
    Command(
        "logs",
        "the stage's CloudWatch logs, every instance merged in time order",
        cmd_logs,
        (
            STAGE,
            arg(
                "--since",
                default="10m",
                help="how far back: 30s, 10m, 2h, 1d, or an ISO time (default: 10m)",
            ),
            arg(
                "--follow",
                "-f",
                action="store_true",
                help="keep polling for new lines until Ctrl-C",
            ),
            arg(
                "--interval",
                type=float,
                default=5.0,
                help="seconds between polls with --follow (default: 5)",
            ),
            arg("--request-id", help="only the lines of this request (its X-Request-ID)"),
            arg(
                "--all",
                action="store_true",
                help="every log group of the environment (nginx, eb-engine, health...)",
            ),
        ),  # fmt: skip
        exit_codes("no log group for the stage"),
        "Print the stage's instance logs from CloudWatch (the container's "
        "output; --all for every log group of the environment), merged in time order.",
    ),
    Command(
        "rollback",
        "redeploy the version that ran before (or --to VERSION) on a stage",
        cmd_rollback,
        (
            STAGE,
            arg("--to", metavar="VERSION", help="the version (image tag) to deploy"),
            arg(
                "--dry-run",
                action="store_true",
                help="print what would be deployed, deploy nothing",
            ),
        ),  # fmt: skip
        exit_codes("nothing to roll back to, refused, or the deploy failed"),
        "Redeploy the previous version that ran on STAGE, or --to VERSION, the way a "
        "deploy does: `pym deploy STAGE --version V` (a pipeline-managed stage: `cdk deploy` "
        "of its stage stack). Refused when the image is no longer in ECR, and "
        "on live when the image carries no live-* tag.",
    ),
    Command(
        "url",
        "print the stage's URL",
        cmd_url,
        (STAGE, arg("--docs", action="store_true", help="print the docs page URL (/docs) instead")),
        exit_codes("the stage is not deployed"),
        "Print the stage's URL (ServiceUrl when it has a host name, else the load balancer).",
    ),
    Command(
        "open",
        "print the stage's URL and docs page, and open the docs in a browser if there is one",
        cmd_open,
        (STAGE, arg("--no-browser", action="store_true", help="only print the URLs")),
        exit_codes("the stage is not deployed"),
        "Print the stage's URL and docs page URL; open the docs page in a "
        "browser when one is available.",
    ),
)


def add_commands(sub) -> None:
    table.add(sub, COMMANDS, common=(CONFIG,), needs_kit=True)
