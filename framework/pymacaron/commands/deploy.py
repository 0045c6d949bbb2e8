"""The deploy kit's ``pym new``, ``pym synth``, ``pym deploy STAGE``, ``pym bootstrap``,
``pym doctor``: write a service, synthesize and deploy its stacks.

``pym deploy STAGE`` runs :func:`cmd_deploy`, which calls ``pymacaron_kit.deploy.deploy``:
``plan_deploy`` there decides what runs (the stage's stack id from ``pymacaron_kit.names``,
the version given or the one the stage runs, the CDK CLI of ``cdk_cli.py``). Every kit
command imports ``pymacaron_kit`` only when it runs (``needs_kit=True``: without the kit it says
what to install).
"""

from __future__ import annotations

import argparse

__all__ = ["add_commands", "cmd_new", "cmd_synth", "cmd_deploy", "cmd_bootstrap", "cmd_doctor"]


def _dir(p) -> None:
    p.add_argument("--dir", default=".", help="the service's repository (default: .)")


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


def add_commands(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("new", help="write a new service repository NAME (spec, handlers, "
                       "tests, config, CDK app)", epilog="exit codes: 0 written, 2 usage "
                       "(bad NAME, non-empty directory)", formatter_class=fmt)  # fmt: skip
    p.add_argument("name", metavar="NAME", help="the service name (lowercase letters, digits)")
    p.add_argument("--dir", help="where to write it (default: ./NAME; must be empty or new)")
    p.set_defaults(func=cmd_new, needs_kit=True)

    p = sub.add_parser("synth", help="write every CloudFormation template to cdk.out/ "
                       "(cdk-nag inside, then cfn-lint)",
                       epilog="exit codes: 0 synthesized and lint-clean, 1 failed, 2 usage")  # fmt: skip
    p.add_argument("--version", help="the image tag the stage stacks deploy (-c version=)")
    p.add_argument("--out", default="cdk.out", help="output directory (default: cdk.out)")
    p.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    _dir(p)
    p.set_defaults(func=cmd_synth, needs_kit=True)

    p = sub.add_parser("deploy", help="cdk deploy one stack: shared, staging, live or pipeline",
                       epilog="Without --version a stage keeps the version it runs. "
                       "`live` tags the image live-<version> in ECR first. "
                       "exit codes: 0 deployed, 1 failed, 2 usage, 4 AWS refused")  # fmt: skip
    p.add_argument("stage", metavar="STAGE", help="shared, staging, live or pipeline")
    p.add_argument("--version", help="the image tag to deploy (default: the one in service)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, deploy nothing")
    p.add_argument("--yes", action="store_true", help="no confirmation of IAM changes")
    _dir(p)
    p.set_defaults(func=cmd_deploy, needs_kit=True)

    p = sub.add_parser("bootstrap", help="cdk bootstrap this account and region for the "
                       "service (its qualifier's own toolkit stack)",
                       epilog="exit codes: 0 bootstrapped, 1 failed, 2 usage")  # fmt: skip
    p.add_argument("--execution-policy", metavar="ARN",
                   help="the managed policy CloudFormation deploys with (not AdministratorAccess;"
                   " start from --print-policy)")  # fmt: skip
    p.add_argument("--print-policy", action="store_true",
                   help="print a starting execution policy document and exit")  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help="print the cdk command, run nothing")
    _dir(p)
    p.set_defaults(func=cmd_bootstrap, needs_kit=True)

    p = sub.add_parser("doctor", help="what a first deploy still needs: credentials, "
                       "bootstrap, platform record, pipeline source, the kit for CodeBuild",
                       epilog="exit codes: 0 nothing missing, 1 something missing, 2 usage")  # fmt: skip
    _dir(p)
    p.set_defaults(func=cmd_doctor, needs_kit=True)
