"""Where an image goes and what a registry holds: the registry lookup of ``pym image``.

Owns resolving ``--registry`` (host[:port][/path], an ECR URI, or ``ecr``: the shared
stack's ``RepositoryUri`` output), the ECR client and its credentials, and reading the
digest a registry (ECR or a Docker Registry v2) holds under a tag. The commands that
write to a registry are image_push.py and image_promote.py.
"""

from __future__ import annotations

import re

from .. import names
from . import common as rel

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


def ecr_repository_from_stack(stack: str, region: str | None = None) -> str:
    """The `RepositoryUri` output of the shared stack (CloudFormation, boto3)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cfn = boto3.client("cloudformation", region_name=region)
        values = names.read_outputs(cfn, stack, missing_ok=False)
    except ClientError as e:
        raise rel.ReleaseError(
            f"cannot read stack {stack}: {e.response['Error'].get('Message', e)} "
            "(deploy it first: pym deploy shared, or pass --registry <repository URI>)",
            rel.EXIT_USAGE,
        ) from None
    except BotoCoreError as e:
        raise rel.ReleaseError(f"cannot read stack {stack}: {e}", rel.EXIT_REGISTRY) from None
    uri = names.output(values or {}, names.REPOSITORY_URI_OUTPUT)
    if uri is not None:
        return uri
    raise rel.ReleaseError(f"stack {stack} has no RepositoryUri output", rel.EXIT_USAGE)


def resolve_registry(root: str, registry: str, repository=None, stack=None, region=None):
    """(host, repository path) of the target: host[:port][/path], an ECR URI or `ecr`."""
    registry = registry.strip().rstrip("/")
    if registry.lower() == "ecr":
        stack = stack or names.stack_name(rel.service_name(root), names.SHARED)
        region = region or rel.read_pym_config(root).get("aws_region")
        registry = ecr_repository_from_stack(stack, region)
    registry = re.sub(r"^[a-z]+://", "", registry)
    host, _, path = registry.partition("/")
    if not host or " " in registry:
        raise rel.ReleaseError(
            f"--registry {registry!r}: expected host[:port][/repository]", rel.EXIT_USAGE
        )
    return host, path or (repository or rel.service_name(root))


def ecr_client(host: str):
    import boto3

    m = rel.ECR_HOST.match(host)
    return boto3.client("ecr", region_name=m.group("region")), m.group("account")


def ecr_error(e) -> rel.ReleaseError:
    err = e.response["Error"]
    code = rel.EXIT_REGISTRY if "AccessDenied" in err.get("Code", "") else rel.EXIT_FAILED
    return rel.ReleaseError(f"ECR refused: {err.get('Code')}: {err.get('Message')}", code)


def ecr_digest(ecr, account: str, repository: str, tag: str) -> str | None:
    """The digest ECR holds for repository:tag, or None."""
    from botocore.exceptions import ClientError

    try:
        found = ecr.describe_images(
            registryId=account, repositoryName=repository, imageIds=[{"imageTag": tag}]
        )["imageDetails"]
    except ClientError as e:
        if e.response["Error"]["Code"] == "ImageNotFoundException":
            return None
        raise ecr_error(e) from None
    return found[0]["imageDigest"] if found else None


def registry_url(host: str) -> str:
    local = host.split(":")[0] in ("127.0.0.1", "localhost", "::1", "[::1]")
    return f"{'http' if local else 'https'}://{host}"


def v2_digest(host: str, repository: str, tag: str) -> str | None:
    """The digest a Docker Registry v2 holds for repository:tag, or None."""
    import requests

    try:
        r = requests.head(
            f"{registry_url(host)}/v2/{repository}/manifests/{tag}",
            headers={"Accept": ",".join(MANIFEST_TYPES)},
            timeout=10,
        )
    except requests.RequestException as e:
        raise rel.ReleaseError(
            f"registry {host} is unreachable: {rel._short(e)}", rel.EXIT_REGISTRY
        ) from None
    return r.headers.get("Docker-Content-Digest") if r.status_code == 200 else None


def remote_digest(host: str, repository: str, tag: str) -> str | None:
    """What the registry already has under repository:tag (ECR or v2), or None."""
    if rel.ECR_HOST.match(host):
        from botocore.exceptions import BotoCoreError

        try:
            ecr, account = ecr_client(host)
            return ecr_digest(ecr, account, repository, tag)
        except BotoCoreError as e:
            raise rel.ReleaseError(f"ECR unreachable or no credentials: {e}", 4) from None
    return v2_digest(host, repository, tag)


def ecr_credentials(registry_host: str) -> dict:
    """Docker auth_config for an ECR host, from ecr:GetAuthorizationToken (valid 12 h)."""
    import base64

    from botocore.exceptions import BotoCoreError, ClientError

    if not rel.ECR_HOST.match(registry_host):
        raise rel.ReleaseError(f"{registry_host} is not an ECR registry host", rel.EXIT_USAGE)
    try:
        ecr, account = ecr_client(registry_host)
        data = ecr.get_authorization_token(registryIds=[account])["authorizationData"][0]
    except ClientError as e:
        raise rel.ReleaseError(
            f"ECR refused an authorization token for {registry_host}: "
            f"{e.response['Error'].get('Code')}: {e.response['Error'].get('Message')}",
            rel.EXIT_REGISTRY,
        ) from None
    except BotoCoreError as e:
        raise rel.ReleaseError(
            f"no ECR authorization token for {registry_host}: {e} (AWS credentials needed: "
            "AWS_PROFILE, AWS_ACCESS_KEY_ID/..., or an instance/CodeBuild role)",
            rel.EXIT_REGISTRY,
        ) from None
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    if not password:
        raise rel.ReleaseError(f"ECR returned a malformed token for {registry_host}", 4)
    return {
        "username": user,
        "password": password,
        "serveraddress": data.get("proxyEndpoint") or f"https://{registry_host}",
        "expires": str(data.get("expiresAt", "")),
    }
