"""The deploy kit's ``pym pipeline local``, ``pym lock``, ``pym smoke``: the pipeline's
steps on this machine (``pymacaron_kit.release``)."""

from __future__ import annotations

__all__ = ["add_commands", "cmd_pipeline_local", "cmd_lock", "cmd_smoke"]


def _dir(p) -> None:
    p.add_argument("--dir", default=".", help="the service's repository (default: .)")


def cmd_pipeline_local(args) -> int:
    from pymacaron_kit.release.common import service_root
    from pymacaron_kit.release.pipeline_local import PipelineLocal

    run = PipelineLocal(
        service_root(args.dir), registry=args.registry, tag=args.tag, base=args.base,
        skip_unit_tests=args.skip_unit_tests, accept_dir=args.accept_dir, fuzz=not args.no_fuzz,
        fuzz_examples=args.fuzz_examples, reports=args.reports,
        keep_running=args.keep_running, summary=args.summary,
    )  # fmt: skip
    return run.execute()


def cmd_lock(args) -> int:
    from pymacaron_kit.release import lock
    from pymacaron_kit.release.common import service_root

    if args.kit:
        return lock.kit_locks(args.check)
    return lock.service_lock(service_root(args.dir), args.check)


def cmd_smoke(args) -> int:
    from pymacaron_kit.release.smoke import smoke

    return smoke(args.url, args.version, args.timeout, verify=not args.no_ssl_check,
                 credentials=args.instance_credentials)  # fmt: skip


def add_commands(sub) -> None:
    pipeline = sub.add_parser("pipeline", help="run the pipeline's steps")
    psub = pipeline.add_subparsers(dest="subcommand", required=True)
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
    p.set_defaults(func=cmd_pipeline_local, needs_kit=True)

    p = sub.add_parser("lock", help="hash-lock requirements.txt into requirements.lock",
                       epilog="exit codes: 0 written (or up to date), 1 out of date, 2 usage")  # fmt: skip
    p.add_argument("--check", action="store_true", help="only check, write nothing")
    p.add_argument("--kit", action="store_true", help="the kit's own runtime locks (docker/)")
    _dir(p)
    p.set_defaults(func=cmd_lock, needs_kit=True)

    p = sub.add_parser("smoke", help="GET /ping and /version (container == --version)",
                       epilog="exit codes: 0 passed, 1 failed, 2 usage")  # fmt: skip
    p.add_argument("--url", required=True, help="the service's root URL")
    p.add_argument("--version", required=True, help="the image tag /version must report")
    p.add_argument("--timeout", type=float, default=120, help="seconds to keep trying")
    p.add_argument("--no-ssl-check", action="store_true", help="do not verify certificates")
    p.add_argument("--instance-credentials", action="store_true",
                   help="also require /version's instance_credentials: ok (on AWS)")  # fmt: skip
    p.set_defaults(func=cmd_smoke, needs_kit=True)
