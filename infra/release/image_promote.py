"""``pym image promote``: the tested image's manifest stored again as ``live-<tag>``.

The same digest, nothing rebuilt (and ``live`` too outside ECR, whose tags are immutable).
"""

from __future__ import annotations

from .. import names
from ..names import IMAGE_TAG as TAG
from . import common as rel
from . import registries
from .registries import MANIFEST_TYPES, ecr_digest, ecr_error, registry_url, resolve_registry

LIVE = "live"
# ECR's answers to a tag that exists (immutable tags) or a manifest stored twice.
ECR_TAG_EXISTS = ("ImageTagAlreadyExistsException", "ImageAlreadyExistsException")


def promote_ecr(host: str, repository: str, tag: str) -> tuple[str, list[str]]:
    """Store the manifest of TAG again as live-TAG. An existing live-TAG naming the same
    digest is a promotion done before (a re-run); one naming another digest is refused."""
    from botocore.exceptions import BotoCoreError, ClientError

    live_tag = names.live_tag(tag)
    try:
        ecr, account = registries.ecr_client(host)
        got = ecr.batch_get_image(
            registryId=account,
            repositoryName=repository,
            imageIds=[{"imageTag": tag}],
            acceptedMediaTypes=list(MANIFEST_TYPES),
        )
        if not got.get("images"):
            reasons = "; ".join(f.get("failureReason", "") for f in got.get("failures") or [])
            raise rel.ReleaseError(f"no image {repository}:{tag} in {host} ({reasons})")
        image = got["images"][0]
        digest = image["imageId"]["imageDigest"]
        kwargs = dict(
            registryId=account,
            repositoryName=repository,
            imageManifest=image["imageManifest"],
            imageTag=live_tag,
        )
        if image.get("imageManifestMediaType"):
            kwargs["imageManifestMediaType"] = image["imageManifestMediaType"]
        try:
            ecr.put_image(**kwargs)
        except ClientError as e:
            if e.response["Error"]["Code"] not in ECR_TAG_EXISTS:
                raise
            current = ecr_digest(ecr, account, repository, live_tag)
            if current != digest:
                raise rel.ReleaseError(
                    f"{repository}:{live_tag} already names another image ({current}), not "
                    f"{tag} ({digest}); ECR tags are immutable: promote a new version instead"
                ) from None
            print(f"{repository}:{live_tag} already names this image (promoted before)")
    except ClientError as e:
        raise ecr_error(e) from None
    except BotoCoreError as e:
        raise rel.ReleaseError(f"ECR unreachable or no credentials: {e}", 4) from None
    return digest, [live_tag]


def promote_registry(host: str, repository: str, tag: str) -> tuple[str, list[str]]:
    import requests

    base = f"{registry_url(host)}/v2/{repository}/manifests"
    try:
        r = requests.get(f"{base}/{tag}", headers={"Accept": ",".join(MANIFEST_TYPES)}, timeout=30)
        if r.status_code == 404:
            raise rel.ReleaseError(f"no image {repository}:{tag} in {host}")
        if r.status_code in (401, 403):
            raise rel.ReleaseError(f"{host} refused to read {repository}:{tag}", 4)
        r.raise_for_status()
        manifest, media_type = r.content, r.headers.get("Content-Type")
        digest = r.headers.get("Docker-Content-Digest")
        tags = [names.live_tag(tag), LIVE]
        for new in tags:
            put = requests.put(
                f"{base}/{new}", data=manifest, headers={"Content-Type": media_type}, timeout=30
            )
            if put.status_code in (401, 403):
                raise rel.ReleaseError(f"{host} refused the tag {new}", rel.EXIT_REGISTRY)
            put.raise_for_status()
            new_digest = put.headers.get("Docker-Content-Digest")
            if digest and new_digest and new_digest != digest:
                raise rel.ReleaseError(f"{host} stored {new} as {new_digest}, expected {digest}")
            digest = digest or new_digest
    except requests.ConnectionError as e:
        raise rel.ReleaseError(f"registry {host} is unreachable: {rel._short(e)}", 4) from None
    except requests.HTTPError as e:
        raise rel.ReleaseError(f"registry {host} failed: {rel._short(e)}") from None
    return digest or "unknown", tags


def check_version_tag(tag: str) -> None:
    if not TAG.match(tag) or tag.startswith(names.LIVE_TAG_PREFIX) or tag == LIVE:
        raise rel.ReleaseError(f"{tag!r}: expected a version tag (not live/live-*)", 2)


def promote(root: str, tag: str, registry: str, **where) -> tuple[str, list[str]]:
    check_version_tag(tag)
    host, repository = resolve_registry(root, registry, **where)
    if rel.ECR_HOST.match(host):
        digest, tags = promote_ecr(host, repository, tag)
    else:
        digest, tags = promote_registry(host, repository, tag)
    print(f"promoted: {host}/{repository}:{tag} -> " + ", ".join(tags))
    print(f"digest: {digest}")
    return digest, tags
