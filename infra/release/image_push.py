"""``pym image push``: the local image pushed to a registry (any, or ECR).

A tag the registry already has is not pushed again (ECR tags are immutable: re-running a
commit reuses its image); an engine's push error becomes one line saying why.
"""

from __future__ import annotations

import re

from . import common as rel
from .registries import ecr_credentials, remote_digest, resolve_registry

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def classify(message: str, host: str) -> rel.ReleaseError:
    low = message.lower()
    hints = [
        (("connection refused", "no such host", "dial tcp", "i/o timeout", "no route"),
         f"registry {host} is unreachable"),
        (("server gave http response to https client", "tls", "x509", "certificate"),
         f"registry {host} refused the connection's TLS (a plain-http registry must be marked "
         "insecure in the engine: Docker's insecure-registries, podman's registries.conf)"),
        (("unauthorized", "authentication required", "no basic auth credentials", "401"),
         f"registry {host} refused the credentials (docker login {host}; for ECR check your "
         "AWS credentials)"),
        (("denied", "forbidden", "403"),
         f"registry {host} denied the push (permission, or an immutable tag that exists)"),
    ]  # fmt: skip
    for needles, text in hints:
        if any(n in low for n in needles):
            return rel.ReleaseError(f"{text}: {message.strip()}", rel.EXIT_REGISTRY)
    return rel.ReleaseError(f"push to {host} failed: {message.strip()}")


def push(root: str, tag: str, registry: str, *, repository=None, stack=None, region=None,
         dry_run=False) -> str | None:  # fmt: skip
    """Push the local image; a tag the registry already has is left as it is (returned)."""
    from docker.errors import APIError

    host, repo_path = resolve_registry(root, registry, repository, stack, region)
    target_repo = f"{host}/{repo_path}"
    source = rel.image_ref(tag, root)
    _, tag = rel.split_ref(source)
    target = f"{target_repo}:{tag}"
    auth = None
    if rel.ECR_HOST.match(host):
        creds = ecr_credentials(host)
        auth = {k: creds[k] for k in ("username", "password", "serveraddress")}
        print(f"ECR: authorization token for {creds['serveraddress']} as {creds['username']} "
              f"(expires {creds['expires'] or 'in 12 h'})")  # fmt: skip
    if dry_run:
        print(f"would push {source} -> {target}" + (" with ECR credentials" if auth else ""))
        return None
    existing = remote_digest(host, repo_path, tag)
    if existing:  # a re-run commit: ECR's tags are immutable, a second push is refused
        print(f"{target} is already in the registry ({existing}): not pushed again")
        print(f"pushed: {target}\ndigest: {existing}")
        return existing
    client = rel.docker_client()
    image = rel.find_image(client, source)
    tagged_here = not any(t.endswith(f"{target_repo}:{tag}") for t in image.tags)
    image.tag(target_repo, tag)
    print(f"pushing {source} ({image.id[:19]}) -> {target}", flush=True)
    digest = None
    try:
        stream = client.api.push(target_repo, tag=tag, auth_config=auth, stream=True, decode=True)
        for chunk in stream:
            if "error" in chunk or "errorDetail" in chunk:
                raise classify(chunk.get("errorDetail", {}).get("message") or chunk["error"], host)
            aux = chunk.get("aux")
            if isinstance(aux, dict) and DIGEST.search(str(aux.get("Digest", ""))):
                digest = DIGEST.search(aux["Digest"]).group(0)
            status = chunk.get("status") or chunk.get("stream") or ""
            if "digest:" in status and DIGEST.search(status):
                digest = DIGEST.search(status).group(0)
            if status and not chunk.get("progressDetail"):
                line = f"{chunk.get('id', '')}: {status}" if chunk.get("id") else status
                print(line.rstrip(), flush=True)
    except Exception as e:
        if tagged_here:  # leave no registry tag behind for an image that is not there
            try:
                client.images.remove(target, noprune=True)
            except APIError:
                pass
        if isinstance(e, rel.ReleaseError):
            raise
        if isinstance(e, APIError):
            raise classify(str(e.explanation or e), host) from None
        raise classify(rel._short(e), host) from None
    if not digest:
        image.reload()
        for rd in image.attrs.get("RepoDigests") or []:
            if rd.startswith(target_repo + "@"):
                digest = rd.split("@", 1)[1]
    print(f"pushed: {target}")
    print(f"digest: {digest or 'unknown (the engine did not report it)'}")
    return digest


def exists(root: str, tag: str, registry: str, **where) -> str | None:
    host, repo_path = resolve_registry(root, registry, **where)
    return remote_digest(host, repo_path, tag)
