"""The deploy kit's ``pym image build|run|push|promote|scan-gate``: the service image
(``pymacaron_kit.release.image``; the scan gate ``pymacaron_kit.scan_gate``)."""

from __future__ import annotations

import os

from .errors import EXIT_FAILED, EXIT_NO_ENGINE, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, exit_codes

__all__ = ["add_commands", "EXIT_CODES"]

EXIT_CODES = exit_codes(
    (EXIT_OK, "done"),
    (EXIT_FAILED, "failed"),
    (EXIT_USAGE, "usage"),
    (EXIT_NO_ENGINE, "no container engine"),
    (EXIT_REFUSED, "registry refused"),
)


def _dir(p) -> None:
    p.add_argument("--dir", default=".", help="the service's repository (default: .)")


def cmd_image_build(args) -> int:
    from pymacaron_kit.release.common import git_version, service_root
    from pymacaron_kit.release.image import build, exists

    root = service_root(args.dir)
    if args.unless_in:
        tag = args.tag or git_version(root)
        digest = exists(root, tag, args.unless_in)
        if digest:
            print(f"image build: {args.unless_in}:{tag} exists ({digest}): not rebuilt")
            return 0

    build(root, tag=args.tag, name=args.name, base=args.base,
          ca_bundle=args.ca_bundle, network=args.network, pull=args.pull,
          no_cache=args.no_cache, quiet=args.quiet)  # fmt: skip
    return 0


def cmd_image_run(args) -> int:
    from pymacaron_kit.release.common import service_root
    from pymacaron_kit.release.image import run

    run(service_root(args.dir), args.tag, port=args.port, name=args.name,
        pym_env=args.pym_env, env=args.env, timeout=args.timeout, follow=args.follow)  # fmt: skip
    return 0


def _where(args) -> dict:
    return {"repository": args.repository, "stack": args.stack, "region": args.region}


def cmd_image_push(args) -> int:
    from pymacaron_kit.release.common import service_root
    from pymacaron_kit.release.image import push

    push(service_root(args.dir), args.tag, args.registry, dry_run=args.dry_run, **_where(args))
    return 0


def cmd_image_promote(args) -> int:
    from pymacaron_kit.release.common import service_root
    from pymacaron_kit.release.image import promote

    promote(service_root(args.dir), args.tag, args.registry, **_where(args))
    return 0


def cmd_image_scan_gate(args) -> int:
    from pymacaron_kit.scan_gate import gate_command

    return gate_command(args)


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
    image = sub.add_parser("image", help="build, run, push or promote the service image")
    isub = image.add_subparsers(dest="subcommand", required=True)
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
    p.set_defaults(func=cmd_image_build, needs_kit=True)
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
    p.set_defaults(func=cmd_image_run, needs_kit=True)
    p = isub.add_parser("push", help="push the image (skipped when the registry has the tag)",
                        epilog=EXIT_CODES)  # fmt: skip
    _registry_args(p, "push")
    p.add_argument("--dry-run", action="store_true", help="resolve the target, push nothing")
    p.set_defaults(func=cmd_image_push, needs_kit=True)
    p = isub.add_parser("promote", help="tag the tested image live-TAG (same digest)",
                        epilog=EXIT_CODES)  # fmt: skip
    _registry_args(p, "promote")
    p.set_defaults(func=cmd_image_promote, needs_kit=True)

    p = isub.add_parser(
        "scan-gate",
        help="wait for the ECR scan of an image and refuse it over the findings threshold",
        description="Wait for ECR's scan of TAG (DescribeImageScanFindings) and compare its "
        "severity counts with pym-config's image_scan.max_findings (default: no CRITICAL). "
        "Exit codes: 0 passed or allowed, 1 too many findings / scan failed or timed out, "
        "2 usage, 4 ECR refused or unreachable.",
    )
    p.add_argument("--tag", required=True, help="the image tag (the pipeline: the commit id)")
    p.add_argument("--repository-uri", help="ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY")
    p.add_argument("--region", help="AWS region (default: from the URI, else aws_region)")
    p.add_argument("--config", default="pym-config.yaml", help="pym-config file")
    p.add_argument("--timeout", type=float, help="seconds to wait for the scan")
    p.add_argument(
        "--allow-findings",
        action="store_true",
        help="promote despite findings over the threshold (logged)",
    )
    p.set_defaults(func=cmd_image_scan_gate, needs_kit=True)
