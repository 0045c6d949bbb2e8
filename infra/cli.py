"""The deploy kit's ``pym`` subcommands (loaded by ``pymacaron.cli`` when the kit is installed).

    pym new NAME            pym synth              pym deploy STAGE
    pym bootstrap           pym doctor
    pym image build|run|push|promote               pym pipeline local
    pym lock                pym smoke

Each prints one line naming what is wrong on a user error (never a traceback) and exits
with the codes in its ``--help``.
"""

from __future__ import annotations

import argparse
import importlib
import os

from .release import common as rel

EXIT_CODES = "exit codes: 0 done, 1 failed, 2 usage, 3 no container engine, 4 registry refused"
# Other kit modules contributing subcommands (present or not in a given version).
OTHER_MODULES = ("template_diff", "platform", "operate.cli")


def _dir(p) -> None:
    p.add_argument("--dir", default=".", help="the service's repository (default: .)")


def _run(name: str, body):
    def handler(args) -> int:
        return rel.run_command(name, lambda: body(args))

    return handler


def cmd_new(args) -> int:
    from .new import new_service

    new_service(args.name, args.dir)
    return 0


def cmd_synth(args) -> int:
    from .deploy import synth

    synth(rel.service_root(args.dir), args.version, args.out, lint=not args.no_lint)
    return 0


def cmd_deploy(args) -> int:
    from .deploy import deploy

    extra = ("--require-approval", "never") if args.yes else ()
    return deploy(rel.service_root(args.dir), args.stage, args.version, args.dry_run, extra)


def cmd_bootstrap(args) -> int:
    from .deploy import bootstrap_account

    return bootstrap_account(rel.service_root(args.dir), args.execution_policy,
                             print_policy=args.print_policy, dry_run=args.dry_run)  # fmt: skip


def cmd_doctor(args) -> int:
    from .doctor import doctor

    return doctor(rel.service_root(args.dir))


def cmd_image_build(args) -> int:
    from .release.image import build, exists

    root = rel.service_root(args.dir)
    if args.unless_in:
        tag = args.tag or rel.git_version(root)
        digest = exists(root, tag, args.unless_in)
        if digest:
            print(f"image build: {args.unless_in}:{tag} exists ({digest}): not rebuilt")
            return 0

    build(root, tag=args.tag, name=args.name, base=args.base,
          ca_bundle=args.ca_bundle, network=args.network, pull=args.pull,
          no_cache=args.no_cache, quiet=args.quiet)  # fmt: skip
    return 0


def cmd_image_run(args) -> int:
    from .release.image import run

    run(rel.service_root(args.dir), args.tag, port=args.port, name=args.name,
        pym_env=args.pym_env, env=args.env, timeout=args.timeout, follow=args.follow)  # fmt: skip
    return 0


def _where(args) -> dict:
    return {"repository": args.repository, "stack": args.stack, "region": args.region}


def cmd_image_push(args) -> int:
    from .release.image import push

    push(rel.service_root(args.dir), args.tag, args.registry, dry_run=args.dry_run, **_where(args))
    return 0


def cmd_image_promote(args) -> int:
    from .release.image import promote

    promote(rel.service_root(args.dir), args.tag, args.registry, **_where(args))
    return 0


def cmd_pipeline_local(args) -> int:
    from .release.pipeline_local import PipelineLocal

    run = PipelineLocal(
        rel.service_root(args.dir), registry=args.registry, tag=args.tag, base=args.base,
        skip_unit_tests=args.skip_unit_tests, accept_dir=args.accept_dir, fuzz=not args.no_fuzz,
        fuzz_examples=args.fuzz_examples, reports=args.reports,
        keep_running=args.keep_running, summary=args.summary,
    )  # fmt: skip
    return run.execute()


def cmd_lock(args) -> int:
    from .release import lock

    if args.kit:
        return lock.kit_locks(args.check)
    return lock.service_lock(rel.service_root(args.dir), args.check)


def cmd_smoke(args) -> int:
    from .release.smoke import smoke

    return smoke(args.url, args.version, args.timeout, verify=not args.no_ssl_check,
                 credentials=args.instance_credentials)  # fmt: skip


def _registry_args(p, what: str) -> None:
    p.add_argument("tag", metavar="TAG", help=f"the image tag to {what}")
    p.add_argument("--registry", "-r", required=True,
                   help="host[:port], host[:port]/repository, an ECR repository URI, or `ecr` "
                   "(the shared stack's repository)")  # fmt: skip
    p.add_argument("--repository", help="repository under a bare host (default: pym-config name)")
    p.add_argument("--stack", help="shared stack for --registry ecr (default: <name>-shared)")
    p.add_argument("--region", help="AWS region for --registry ecr (default: aws_region)")
    _dir(p)


def add_commands(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("new", help="write a new service repository NAME (spec, handlers, "
                       "tests, config, CDK app)", epilog="exit codes: 0 written, 2 usage "
                       "(bad NAME, non-empty directory)", formatter_class=fmt)  # fmt: skip
    p.add_argument("name", metavar="NAME", help="the service name (lowercase letters, digits)")
    p.add_argument("--dir", help="where to write it (default: ./NAME; must be empty or new)")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("synth", help="write every CloudFormation template to cdk.out/ "
                       "(cdk-nag inside, then cfn-lint)",
                       epilog="exit codes: 0 synthesized and lint-clean, 1 failed, 2 usage")  # fmt: skip
    p.add_argument("--version", help="the image tag the stage stacks deploy (-c version=)")
    p.add_argument("--out", default="cdk.out", help="output directory (default: cdk.out)")
    p.add_argument("--no-lint", action="store_true", help="skip cfn-lint")
    _dir(p)
    p.set_defaults(func=_run("synth", cmd_synth))

    p = sub.add_parser("deploy", help="cdk deploy one stack: shared, staging, live or pipeline",
                       epilog="Without --version a stage keeps the version it runs. "
                       "`live` tags the image live-<version> in ECR first. "
                       "exit codes: 0 deployed, 1 failed, 2 usage, 4 AWS refused")  # fmt: skip
    p.add_argument("stage", metavar="STAGE", help="shared, staging, live or pipeline")
    p.add_argument("--version", help="the image tag to deploy (default: the one in service)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, deploy nothing")
    p.add_argument("--yes", action="store_true", help="no confirmation of IAM changes")
    _dir(p)
    p.set_defaults(func=_run("deploy", cmd_deploy))

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
    p.set_defaults(func=_run("bootstrap", cmd_bootstrap))

    p = sub.add_parser("doctor", help="what a first deploy still needs: credentials, "
                       "bootstrap, platform record, pipeline source, the kit for CodeBuild",
                       epilog="exit codes: 0 nothing missing, 1 something missing, 2 usage")  # fmt: skip
    _dir(p)
    p.set_defaults(func=_run("doctor", cmd_doctor))

    image = sub.add_parser("image", help="build, run, push or promote the service image")
    isub = image.add_subparsers(dest="image_command", required=True)
    p = isub.add_parser("build", help="build the image from this repository (Docker API)",
                        epilog=EXIT_CODES)  # fmt: skip
    p.add_argument("--tag", help="image tag (default: from git, e.g. 20261123-1042-ab12cd3)")
    p.add_argument("--name", help="image repository name (default: pym-config.yaml `name`)")
    p.add_argument(
        "--base",
        help="base image (default: docker_base, else public.ecr.aws/docker/library/python:3.11-slim)",
    )
    p.add_argument("--ca-bundle", default=os.environ.get("PIP_CERT") or None,
                   help="PEM file pip trusts inside the build (default: $PIP_CERT)")  # fmt: skip
    p.add_argument("--network", help="network mode of RUN steps (e.g. host)")
    p.add_argument("--pull", action="store_true", help="pull a newer base image first")
    p.add_argument("--no-cache", action="store_true", help="do not use the build cache")
    p.add_argument("--quiet", "-q", action="store_true", help="only print the result")
    p.add_argument("--unless-in", metavar="REGISTRY",
                   help="build nothing when REGISTRY already has this tag (a re-run commit)")  # fmt: skip
    _dir(p)
    p.set_defaults(func=_run("image build", cmd_image_build))
    p = isub.add_parser("run", help="run the image locally and wait for /ping",
                        epilog=EXIT_CODES)  # fmt: skip
    p.add_argument("tag", metavar="TAG", help="image tag (or full image reference)")
    p.add_argument("--port", "-p", type=int, default=8080, help="host port (default 8080)")
    p.add_argument("--name", help="container name (default: <service>-<port>)")
    p.add_argument("--pym-env", default=os.environ.get("PYM_ENV"), help="PYM_ENV inside")
    p.add_argument("-e", "--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment variable (repeatable)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=60, help="seconds to wait for /ping")
    p.add_argument("--follow", "-f", action="store_true", help="stream logs; Ctrl-C stops")
    _dir(p)
    p.set_defaults(func=_run("image run", cmd_image_run))
    p = isub.add_parser("push", help="push the image (skipped when the registry has the tag)",
                        epilog=EXIT_CODES)  # fmt: skip
    _registry_args(p, "push")
    p.add_argument("--dry-run", action="store_true", help="resolve the target, push nothing")
    p.set_defaults(func=_run("image push", cmd_image_push))
    p = isub.add_parser("promote", help="tag the tested image live-TAG (same digest)",
                        epilog=EXIT_CODES)  # fmt: skip
    _registry_args(p, "promote")
    p.set_defaults(func=_run("image promote", cmd_image_promote))
    from . import scan_gate

    scan_gate.add_commands(isub)

    pipeline = sub.add_parser("pipeline", help="run the pipeline's steps")
    psub = pipeline.add_subparsers(dest="pipeline_command", required=True)
    p = psub.add_parser("local", help="unit tests, image, staging, acceptance + fuzz, promote, "
                        "live, smoke test: on this machine",
                        epilog="exit codes: 0 promoted and smoke-tested, 1 a step failed, 2 usage")  # fmt: skip
    p.add_argument("--registry", default="127.0.0.1:5000", help="registry host:port")
    p.add_argument("--tag", help="image tag (default: from git)")
    p.add_argument("--base", help="base image for the build")
    p.add_argument("--skip-unit-tests", action="store_true", help="skip step 1")
    p.add_argument("--accept-dir", help="acceptance tests directory (default: testaccept/)")
    p.add_argument("--no-fuzz", action="store_true", help="acceptance without pym fuzz")
    p.add_argument("--fuzz-examples", type=int, help="pym fuzz --max-examples")
    p.add_argument("--reports", default="reports", help="JUnit reports directory")
    p.add_argument("--keep-running", action="store_true", help="leave staging and live running")
    p.add_argument("--summary", help="also write the run's summary as JSON to this file")
    _dir(p)
    p.set_defaults(func=_run("pipeline local", cmd_pipeline_local))

    p = sub.add_parser("lock", help="hash-lock requirements.txt into requirements.lock",
                       epilog="exit codes: 0 written (or up to date), 1 out of date, 2 usage")  # fmt: skip
    p.add_argument("--check", action="store_true", help="only check, write nothing")
    p.add_argument("--kit", action="store_true", help="the kit's own runtime locks (docker/)")
    _dir(p)
    p.set_defaults(func=_run("lock", cmd_lock))

    p = sub.add_parser("smoke", help="GET /ping and /version (container == --version)",
                       epilog="exit codes: 0 passed, 1 failed, 2 usage")  # fmt: skip
    p.add_argument("--url", required=True, help="the service's root URL")
    p.add_argument("--version", required=True, help="the image tag /version must report")
    p.add_argument("--timeout", type=float, default=120, help="seconds to keep trying")
    p.add_argument("--no-ssl-check", action="store_true", help="do not verify certificates")
    p.add_argument("--instance-credentials", action="store_true",
                   help="also require /version's instance_credentials: ok (on AWS)")  # fmt: skip
    p.set_defaults(func=_run("smoke", cmd_smoke))

    for module_name in OTHER_MODULES:
        try:
            module = importlib.import_module(f"{__package__}.{module_name}")
        except ImportError:
            continue
        if hasattr(module, "add_commands"):
            module.add_commands(sub)
