"""The scan gate: promotion waits for ECR's image scan and stops on too many findings.

The repository scans on push (infra/registry.py); nothing read the result, so an image with
critical findings reached live. :func:`gate` waits for ``DescribeImageScanFindings`` to
report a finished scan and compares its severity counts with pym-config's
``image_scan.max_findings`` (default ``{CRITICAL: 0}``). The pipeline runs
``pym image scan-gate --tag <commit>`` before the approval and the promotion
(infra/pipeline_steps.py). An explicit override (``image_scan.allow: true`` or
``--allow-findings``) lets a known finding through and says so in the build log.

Exit codes: 0 passed (or allowed), 1 too many findings / scan failed / timed out,
2 usage or config error, 4 ECR refused or unreachable.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from pymacaron.commands.errors import EXIT_FAILED
from pymacaron.commands.errors import EXIT_REFUSED as EXIT_REGISTRY
from pymacaron.exceptions import StartupError

from .config import SEVERITIES, load_service_config

# Scan states (basic and enhanced scanning) that mean "not done yet".
WAITING = ("IN_PROGRESS", "PENDING")
DONE = ("COMPLETE", "ACTIVE")
ECR_URI = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>.+)$"
)


class GateError(Exception):
    """The gate refused (exit code ``code``)."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


@dataclass
class ScanResult:
    status: str
    counts: dict[str, int]
    over: dict[str, tuple[int, int]] = field(default_factory=dict)  # severity -> (found, max)

    @property
    def passed(self) -> bool:
        return not self.over


def over_threshold(counts: dict[str, int], max_findings: dict[str, int]) -> dict:
    """Severities whose count exceeds its maximum: ``{"CRITICAL": (found, allowed)}``."""
    return {
        sev: (counts.get(sev, 0), limit)
        for sev, limit in max_findings.items()
        if counts.get(sev, 0) > limit
    }


def wait_for_scan(
    client,
    repository: str,
    tag: str,
    *,
    registry_id: str | None = None,
    timeout: float = 900,
    interval: float = 15,
    sleep=time.sleep,
    clock=time.monotonic,
) -> tuple[str, dict[str, int]]:
    """(status, severity counts) once the scan of ``repository:tag`` has finished."""
    from botocore.exceptions import ClientError

    kwargs = {"repositoryName": repository, "imageId": {"imageTag": tag}}
    if registry_id:
        kwargs["registryId"] = registry_id
    deadline = clock() + timeout
    while True:
        try:
            got = client.describe_image_scan_findings(**kwargs)
            status = got.get("imageScanStatus", {}).get("status", "")
            description = got.get("imageScanStatus", {}).get("description", "")
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code == "ScanNotFoundException":  # scan on push has not started yet
                status, description, got = "PENDING", "no scan yet", {}
            elif code == "ImageNotFoundException":
                raise GateError(f"no image {repository}:{tag} to gate") from None
            else:
                message = e.response.get("Error", {}).get("Message", "")
                raise GateError(f"ECR refused: {code}: {message}", EXIT_REGISTRY) from None
        if status in DONE:
            counts = (got.get("imageScanFindings") or {}).get("findingSeverityCounts") or {}
            return status, {k.upper(): int(v) for k, v in counts.items()}
        if status not in WAITING:
            raise GateError(
                f"the scan of {repository}:{tag} ended {status}: {description} "
                "(an unscanned image is not promoted; override: --allow-findings)"
            )
        if clock() + interval > deadline:
            raise GateError(f"the scan of {repository}:{tag} did not finish in {timeout:.0f} s")
        sleep(interval)


def gate(
    client,
    repository: str,
    tag: str,
    max_findings: dict[str, int],
    **wait_kwargs,
) -> ScanResult:
    """Wait for the scan and compare it with the thresholds (no exception on findings)."""
    status, counts = wait_for_scan(client, repository, tag, **wait_kwargs)
    return ScanResult(status=status, counts=counts, over=over_threshold(counts, max_findings))


def _summary(counts: dict[str, int]) -> str:
    shown = [f"{sev} {counts[sev]}" for sev in SEVERITIES if counts.get(sev)]
    return ", ".join(shown) or "no findings"


def _target(args, config) -> tuple[str, str | None, str | None]:
    """(repository, registry id, region) from --repository-uri or pym-config."""
    if args.repository_uri:
        m = ECR_URI.match(args.repository_uri.strip().rstrip("/"))
        if not m:
            raise StartupError(
                f"--repository-uri {args.repository_uri!r}: expected "
                "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY"
            )
        return m.group("repo"), m.group("account"), m.group("region")
    return config.repository_name, config.account, args.region or config.region


def gate_command(args) -> int:
    """``pym image scan-gate`` (its options: pymacaron/commands/image.py)."""
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    config = load_service_config(args.config)
    settings = config.scan_gate
    repository, registry_id, region = _target(args, config)
    allow = args.allow_findings or settings.allow
    try:
        import boto3

        client = boto3.client("ecr", region_name=region)
        print(f"image scan-gate: waiting for the scan of {repository}:{args.tag}", flush=True)
        result = gate(
            client,
            repository,
            args.tag,
            settings.max_findings,
            registry_id=registry_id,
            timeout=args.timeout or settings.timeout_seconds,
        )
    except NoCredentialsError:
        raise StartupError("no AWS credentials to read the image scan") from None
    except BotoCoreError as e:
        print(f"image scan-gate: ECR unreachable: {e}")
        return EXIT_REGISTRY
    except GateError as e:
        if allow and e.code == EXIT_FAILED:
            print(f"image scan-gate: ALLOWED by override despite: {e}")
            return 0
        print(f"image scan-gate: {e}")
        return e.code
    limits = ", ".join(f"{k} <= {v}" for k, v in settings.max_findings.items()) or "none"
    print(f"image scan-gate: {repository}:{args.tag}: {_summary(result.counts)} (max: {limits})")
    if result.passed:
        return 0
    over = "; ".join(f"{sev}: {n} > {limit}" for sev, (n, limit) in result.over.items())
    if allow:
        print(f"image scan-gate: ALLOWED by override ({over})")
        return 0
    print(
        f"image scan-gate: not promoted: {over} (see the findings in the ECR console; "
        "raise image_scan.max_findings or pass --allow-findings to override)"
    )
    return EXIT_FAILED
