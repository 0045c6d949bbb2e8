"""``add_commands(sub)``: ``pym status``, ``pym logs``, ``pym rollback``, ``pym open``, ``pym url``.

Exit codes (every command): 0 done; 1 a "no" answer -- a stage unhealthy or not deployed,
no such stack or log group, a rollback refused, a deploy that failed; 2 a user or
configuration error -- bad option or pym-config, no credentials or region, access denied
(the message names the IAM permission). Errors are one line, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from pymacaron.cli import EXIT_FAILED, EXIT_USAGE
from pymacaron.exceptions import StartupError

from ..config import load_service_config
from ..names import Names, Target
from . import logs as logs_mod
from . import rollback as rollback_mod
from . import status as status_mod
from . import url as url_mod
from .aws import Aws
from .errors import NotFound, Refused


def _wrap(text: str) -> str:
    return textwrap.fill(text, 79)


def exit_codes(one: str) -> str:
    return (
        "exit codes:\n"
        "  0  ok\n"
        f"  1  {one}\n"
        "  2  usage or pym-config error, or AWS access error (no credentials or region,\n"
        "     access denied: the message names the missing IAM permission)"
    )


def _aws(args) -> Aws:
    config = load_service_config(args.config)
    return Aws(
        Names(config),
        session=getattr(args, "session", None),
        clients=getattr(args, "clients", None),
    )


def resolve(aws: Aws, key: str, err=None) -> Target:
    """The target STAGE names; a plain stage falls back to its pipeline-managed twin when
    only that one is deployed (said on stderr)."""
    names = aws.names
    target = names.target(key)
    if target.managed_by == "direct" and key == target.key:
        other = names.alternative(target)
        if other and aws.stack(target.stack_name) is None and aws.stack(other.stack_name):
            print(
                f"({key}: using the pipeline-managed {other.environment_name})",
                file=err or sys.stderr,
            )
            return other
    return target


def _guard(name: str, func):
    """Run a command; NotFound/Refused print one line and exit 1."""

    def run(args) -> int:
        try:
            return func(args)
        except (NotFound, Refused) as e:
            print(f"pym {name}: {e}", file=sys.stderr)
            return EXIT_FAILED

    return run


def cmd_status(args) -> int:
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
    return 0


def cmd_rollback(args) -> int:
    rollback_mod.check_version(args.to)
    aws = _aws(args)
    target = resolve(aws, args.stage)
    p = rollback_mod.plan(aws, target, args.to)
    print(p.describe())
    if args.dry_run:
        return 0
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
        return 1
    print(f"{target.environment_name} now runs {p.version}")
    return 0


def cmd_url(args) -> int:
    aws = _aws(args)
    url, docs = url_mod.urls(aws, resolve(aws, args.stage))
    print(docs if args.docs else url)
    return 0


def cmd_open(args) -> int:
    aws = _aws(args)
    url, docs = url_mod.urls(aws, resolve(aws, args.stage))
    print(url)
    print(docs)
    if args.no_browser:
        return 0
    available = getattr(args, "browser_available", url_mod.browser_available)
    opener = getattr(args, "opener", None) or url_mod.webbrowser.open
    if not url_mod.open_in_browser(docs, available, opener):
        print("(no browser found: open the URL above yourself)", file=sys.stderr)
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default="pym-config.yaml", help="pym-config file (default: ./pym-config.yaml)"
    )


STAGE_HELP = (
    "staging or live (direct deploys, <name>-<stage>), or pipeline-staging / pipeline-live "
    "(<name>-pipeline-<stage>); a plain stage uses the pipeline-managed one when only that exists"
)


def add_commands(sub) -> None:
    p = sub.add_parser(
        "status",
        help="health, version, size, URL and last deploy of each stage, and the pipeline",
        description=_wrap(
            "Show each stage's environment health and status, running version "
            "(label, image tag and digest), instances against aws_hosts_min/max, URL, last deploy "
            "time, and the pipeline's last execution and the stage it stopped at."
        ),
        epilog=exit_codes("a stage is unhealthy, or STAGE is not deployed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stage", nargs="?", help=STAGE_HELP + " (default: every stage)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    _common(p)
    p.set_defaults(func=_guard("status", cmd_status))

    p = sub.add_parser(
        "logs",
        help="the stage's CloudWatch logs, every instance merged in time order",
        description=_wrap(
            "Print the stage's instance logs from CloudWatch (the container's "
            "output; --all for every log group of the environment), merged in time order."
        ),
        epilog=exit_codes("no log group for the stage"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stage", help=STAGE_HELP)
    p.add_argument(
        "--since",
        default="10m",
        help="how far back: 30s, 10m, 2h, 1d, or an ISO time (default: 10m)",
    )
    p.add_argument(
        "--follow", "-f", action="store_true", help="keep polling for new lines until Ctrl-C"
    )
    p.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="seconds between polls with --follow (default: 5)",
    )
    p.add_argument("--request-id", help="only the lines of this request (its X-Request-ID)")
    p.add_argument(
        "--all",
        action="store_true",
        help="every log group of the environment (nginx, eb-engine, health...)",
    )
    _common(p)
    p.set_defaults(func=_guard("logs", cmd_logs))

    p = sub.add_parser(
        "rollback",
        help="redeploy the version that ran before (or --to VERSION) on a stage",
        description=_wrap(
            "Redeploy the previous version that ran on STAGE, or --to VERSION, the way a "
            "deploy does: `pym deploy STAGE --version V` (a pipeline-managed stage: `cdk deploy` "
            "of its stage stack). Refused when the image is no longer in ECR, and "
            "on live when the image carries no live-* tag."
        ),
        epilog=exit_codes("nothing to roll back to, refused, or the deploy failed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stage", help=STAGE_HELP)
    p.add_argument("--to", metavar="VERSION", help="the version (image tag) to deploy")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would be deployed, deploy nothing"
    )
    _common(p)
    p.set_defaults(func=_guard("rollback", cmd_rollback))

    p = sub.add_parser(
        "url",
        help="print the stage's URL",
        description=_wrap(
            "Print the stage's URL (ServiceUrl when it has a host name, else the load balancer)."
        ),
        epilog=exit_codes("the stage is not deployed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stage", help=STAGE_HELP)
    p.add_argument("--docs", action="store_true", help="print the docs page URL (/docs) instead")
    _common(p)
    p.set_defaults(func=_guard("url", cmd_url))

    p = sub.add_parser(
        "open",
        help="print the stage's URL and docs page, and open the docs in a browser if there is one",
        description=_wrap(
            "Print the stage's URL and docs page URL; open the docs page in a "
            "browser when one is available."
        ),
        epilog=exit_codes("the stage is not deployed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("stage", help=STAGE_HELP)
    p.add_argument("--no-browser", action="store_true", help="only print the URLs")
    _common(p)
    p.set_defaults(func=_guard("open", cmd_open))


def parser() -> argparse.ArgumentParser:
    """A parser with only these commands (tests, ``python -m``); ``pym`` wires add_commands."""
    p = argparse.ArgumentParser(prog="pym")
    sub = p.add_subparsers(dest="command", required=True)
    add_commands(sub)
    return p


def main(argv: list[str] | None = None, **inject) -> int:
    """Run one command as ``pym`` does (StartupError -> one line, exit 2).

    ``inject`` sets attributes on the parsed arguments (tests: ``deploy=``, ``clients=``,
    ``opener=``...)."""
    args = parser().parse_args(argv)
    for key, value in inject.items():
        setattr(args, key, value)
    try:
        return args.func(args) or 0
    except StartupError as e:
        print(f"pym {args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
