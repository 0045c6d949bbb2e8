"""The deploy kit's ``pym new``, ``pym synth``, ``pym deploy STAGE``, ``pym bootstrap``,
``pym doctor``: write a service, synthesize and deploy its stacks.

``pym deploy STAGE`` runs :func:`cmd_deploy`, which calls ``pymacaron_kit.deploy.deploy``:
``plan_deploy`` there decides what runs (the stage's stack id from ``pymacaron_kit.names``,
the version given or the one the stage runs, the CDK CLI of ``cdk_cli.py``). Every kit
command imports ``pymacaron_kit`` only when it runs (``needs_kit=True``: without the kit it says
what to install).
"""

from __future__ import annotations

from . import table
from .errors import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exit_codes
from .table import Command, arg

__all__ = ["add_commands", "cmd_new", "cmd_synth", "cmd_deploy", "cmd_bootstrap", "cmd_doctor"]


def cmd_new(args) -> int:
    from pymacaron_kit.new import new_service

    new_service(args.name, args.dir)
    return 0


def cmd_synth(args) -> int:
    from pymacaron_kit.deploy import synth
    from pymacaron_kit.release.common import service_root

    synth(service_root(args.dir), args.version, args.out, lint=not args.no_lint)
    return 0


def cmd_deploy(args) -> int:
    from pymacaron_kit.deploy import deploy
    from pymacaron_kit.release.common import service_root

    extra = ("--require-approval", "never") if args.yes else ()
    return deploy(service_root(args.dir), args.stage, args.version, args.dry_run, extra)


def cmd_bootstrap(args) -> int:
    from pymacaron_kit.deploy import bootstrap_account
    from pymacaron_kit.release.common import service_root

    return bootstrap_account(service_root(args.dir), args.execution_policy,
                             print_policy=args.print_policy, dry_run=args.dry_run)  # fmt: skip


def cmd_doctor(args) -> int:
    from pymacaron_kit.doctor import doctor
    from pymacaron_kit.release.common import service_root

    return doctor(service_root(args.dir))


DIR = arg("--dir", default=".", help="the service's repository (default: .)")

NEW = Command(
    "new",
    "write a new service repository NAME (spec, handlers, tests, config, CDK app)",
    cmd_new,
    (
        arg("name", metavar="NAME", help="the service name (lowercase letters, digits)"),
        arg("--dir", help="where to write it (default: ./NAME; must be empty or new)"),
    ),
    exit_codes((EXIT_OK, "written"), (EXIT_USAGE, "usage (bad NAME, non-empty directory)")),
)

# the commands on a service's repository: each takes --dir
COMMANDS = (
    Command(
        "synth",
        "write every CloudFormation template to cdk.out/ (cdk-nag inside, then cfn-lint)",
        cmd_synth,
        (
            arg("--version", help="the image tag the stage stacks deploy (-c version=)"),
            arg("--out", default="cdk.out", help="output directory (default: cdk.out)"),
            arg("--no-lint", action="store_true", help="skip cfn-lint"),
        ),
        exit_codes(
            (EXIT_OK, "synthesized and lint-clean"), (EXIT_FAILED, "failed"), (EXIT_USAGE, "usage")
        ),
    ),
    Command(
        "deploy",
        "cdk deploy one stack: shared, staging, live or pipeline",
        cmd_deploy,
        (
            arg("stage", metavar="STAGE", help="shared, staging, live or pipeline"),
            arg("--version", help="the image tag to deploy (default: the one in service)"),
            arg("--dry-run", action="store_true", help="print the plan, deploy nothing"),
            arg("--yes", action="store_true", help="no confirmation of IAM changes"),
        ),
        "Without --version a stage keeps the version it runs. `live` tags the image "
        "live-<version> in ECR first. "
        + exit_codes(
            (EXIT_OK, "deployed"),
            (EXIT_FAILED, "failed"),
            (EXIT_USAGE, "usage"),
            (EXIT_REFUSED, "AWS refused"),
        ),
    ),
    Command(
        "bootstrap",
        "cdk bootstrap this account and region for the service (its qualifier's own toolkit stack)",
        cmd_bootstrap,
        (
            arg(
                "--execution-policy",
                metavar="ARN",
                help="the managed policy CloudFormation deploys with (not AdministratorAccess;"
                " start from --print-policy)",
            ),
            arg(
                "--print-policy",
                action="store_true",
                help="print a starting execution policy document and exit",
            ),
            arg("--dry-run", action="store_true", help="print the cdk command, run nothing"),
        ),  # fmt: skip
        exit_codes((EXIT_OK, "bootstrapped"), (EXIT_FAILED, "failed"), (EXIT_USAGE, "usage")),
    ),
    Command(
        "doctor",
        "what a first deploy still needs: credentials, bootstrap, platform record, pipeline "
        "source, the kit for CodeBuild",
        cmd_doctor,
        (),
        exit_codes(
            (EXIT_OK, "nothing missing"), (EXIT_FAILED, "something missing"), (EXIT_USAGE, "usage")
        ),
    ),
)


def add_commands(sub) -> None:
    table.add(sub, (NEW,), needs_kit=True)
    table.add(sub, COMMANDS, common=(DIR,), needs_kit=True)
