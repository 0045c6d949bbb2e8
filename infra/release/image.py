"""Build, run, push and promote the service image (``pym image build|run|push|promote``).

Build: the kit's Dockerfile with the *service's repository* as context (its .dockerignore,
else the kit's default filter) plus ``.pym-build/``: the Dockerfile, gunicorn.conf.py, the
runtime locks, the pymacaron wheel and the service's requirements.lock. The engine is the
one at DOCKER_HOST (Docker, or podman's API service). Push: any registry, or ECR with
credentials from boto3; a tag the registry already has is not pushed again (ECR tags are
immutable: re-running a commit reuses its image). Promote: the tested image's manifest is
stored again as ``live-<tag>`` (and ``live`` outside ECR): the same digest, nothing rebuilt.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
import tempfile
import time

from pymacaron.config import read_env_secrets, stage_file
from pymacaron.exceptions import StartupError

from .. import names
from .. import package_data as resources
from . import common as rel
from .wheel import pymacaron_wheel

BUILD_DIR = ".pym-build"
DOCKERFILE = f"{BUILD_DIR}/Dockerfile"
KIT_FILES = (
    "Dockerfile",
    "gunicorn.conf.py",
    "requirements.lock",
    "requirements-async.lock",
    "requirements-persist.lock",
)
SERVICE_LOCK = "requirements.lock"
CONTAINER_PORT = 8080
RUN_LABEL = "pymacaron.run-image"
LIVE = "live"
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
# ECR's answers to a tag that exists (immutable tags) or a manifest stored twice.
ECR_TAG_EXISTS = ("ImageTagAlreadyExistsException", "ImageAlreadyExistsException")


# ---- build --------------------------------------------------------------------------------


def ignore_patterns(root: str) -> list[str]:
    """The service's .dockerignore, else the kit's default filter."""
    path = os.path.join(root, ".dockerignore")
    if not os.path.isfile(path):
        path = resources.docker_file("dockerignore")
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def service_lock(root: str) -> str:
    """The service's own hash-locked requirements (``pym lock``); '' when it has none."""
    path = os.path.join(root, SERVICE_LOCK)
    if os.path.isfile(path):
        with open(path) as f:
            return f.read()
    req = os.path.join(root, "requirements.txt")
    if os.path.isfile(req):
        from .lock import service_requirements

        extra = service_requirements(req)
        if extra:
            raise rel.ReleaseError(
                f"{req} names {', '.join(extra)} but there is no {SERVICE_LOCK}: "
                "run `pym lock` (the image installs hash-locked requirements only)",
                rel.EXIT_USAGE,
            )
    return ""


def make_context(root: str, ca_bundle: str | None, wheel_dir: str):
    """The build context as a tar file: the filtered repository plus .pym-build/."""
    from docker.utils.build import exclude_paths

    extra: dict[str, bytes] = {}
    for name in KIT_FILES:
        with open(resources.docker_file(name), "rb") as f:
            extra[f"{BUILD_DIR}/{name}"] = f.read()
    extra[f"{BUILD_DIR}/service.lock"] = service_lock(root).encode()
    wheel = pymacaron_wheel(wheel_dir)
    with open(wheel, "rb") as f:
        extra[f"{BUILD_DIR}/wheels/{os.path.basename(wheel)}"] = f.read()
    if ca_bundle:
        if not os.path.isfile(ca_bundle):
            raise rel.ReleaseError(f"--ca-bundle {ca_bundle}: no such file", rel.EXIT_USAGE)
        with open(ca_bundle, "rb") as f:
            extra[f"{BUILD_DIR}/ca.pem"] = f.read()
    patterns = [*ignore_patterns(root), BUILD_DIR]
    files = sorted(exclude_paths(root, patterns, dockerfile=DOCKERFILE))
    files = [f for f in files if f != DOCKERFILE]
    out = tempfile.NamedTemporaryFile(suffix=".tar")  # noqa: SIM115 - closed by the caller
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name in files:
            tar.add(os.path.join(root, name), arcname=name, recursive=False)
        for name, data in sorted(extra.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    out.seek(0)
    return out, len(files), os.path.basename(wheel)


def build_args(config: dict, tag: str, base: str | None, root: str | None = None) -> dict:
    """The image's build arguments: VERSION, BASE_IMAGE and PYM_EXTRAS, the locked extras
    the service needs (``async`` with with_async: Celery; ``persist`` when a spec keeps
    x-persist models in DynamoDB: boto3)."""
    args = {"VERSION": tag}
    stages = (config.get("stages") or {}).values()
    extras = []
    if config.get("with_async") or any((s or {}).get("with_async") for s in stages):
        extras.append("async")
    if root is not None and rel.uses_dynamodb(root):
        extras.append("persist")
    if extras:
        args["PYM_EXTRAS"] = " ".join(extras)
    if base:
        args["BASE_IMAGE"] = str(base)
    return args


def build(root: str, *, tag=None, name=None, base=None, ca_bundle=None, network=None,
          pull=False, no_cache=False, quiet=False, result_file=None) -> dict:  # fmt: skip
    config = rel.read_pym_config(root)
    name = name or rel.service_name(root)
    tag = tag or rel.git_version(root)
    ca_bundle = ca_bundle or os.environ.get("PIP_CERT") or None
    if not TAG.match(tag):
        raise rel.ReleaseError(f"--tag {tag!r}: expected an image tag", rel.EXIT_USAGE)
    ref = f"{name}:{tag}"
    base = base or config.get("docker_base")
    client = rel.docker_client()
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    with tempfile.TemporaryDirectory(prefix="pym-wheel-") as wheel_dir:
        context, count, wheel = make_context(root, ca_bundle, wheel_dir)
    say(
        f"building {ref} (context: {root}, {count} files + {wheel}), "
        f"base {base or 'public.ecr.aws/docker/library/python:3.11-slim (Dockerfile default)'}"
    )
    started = time.monotonic()
    kwargs = dict(
        fileobj=context, custom_context=True, dockerfile=DOCKERFILE, tag=ref,
        buildargs=build_args(config, tag, base, root), rm=True, forcerm=True, pull=pull,
        nocache=no_cache, decode=True,
    )  # fmt: skip
    if network:
        kwargs["network_mode"] = network
    image_id, last_lines = None, []
    try:
        for chunk in client.api.build(**kwargs):
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk.get("error")
                tail = "".join(last_lines[-15:])
                raise rel.ReleaseError(f"build of {ref} failed: {detail}\n{tail}".rstrip())
            text = chunk.get("stream") or chunk.get("status") or ""
            if isinstance(chunk.get("aux"), dict):
                image_id = chunk["aux"].get("ID") or image_id
            if text:
                line = text if text.endswith("\n") else text + "\n"
                last_lines.append(line)
                if not quiet:
                    sys.stdout.write(line)
                    sys.stdout.flush()
    except rel.ReleaseError:
        raise
    except Exception as e:  # APIError, connection drops
        raise rel.ReleaseError(f"build of {ref} failed: {rel._short(e)}") from None
    finally:
        context.close()
    elapsed = time.monotonic() - started
    image = rel.find_image(client, ref)
    if image_id and image.id != image_id and not image.id.endswith(image_id.split(":")[-1]):
        raise rel.ReleaseError(f"the engine reported image {image_id}, but {ref} is {image.id}")
    size = image.attrs.get("Size") or 0
    result = {"image": ref, "id": image.id, "size": size, "seconds": round(elapsed, 1)}
    say(f"built {ref} in {elapsed:.0f} s")
    print(f"image: {ref}\nid:    {image.id}\nsize:  {rel.human_size(size)} ({size} bytes)")
    result_file = result_file or os.environ.get("BUILD_IMAGE_RESULT")
    if result_file:
        with open(result_file, "w") as f:
            json.dump(result, f)
    return result


# ---- run ----------------------------------------------------------------------------------


def container_env(root: str, pym_env, extra: list[str]) -> tuple[dict, list]:
    """The container's environment as the stage's runtime reads pym-config: ``env`` and
    ``env_secrets`` of ``pym-config.<pym_env>.yaml`` / ``stages.<pym_env>`` (the runtime's
    reader and its env_secrets rule), plus ``-e`` items."""
    config = rel.read_pym_config(root, pym_env)
    env = {k: str(v) for k, v in (config.get("env") or {}).items()}
    if pym_env:
        env["PYM_ENV"] = pym_env
    secrets = list(config.get("env_secrets") or [])
    if secrets:
        try:
            values = read_env_secrets(
                config, stage_file(root, pym_env), _local_environ(root, pym_env)
            )
        except StartupError as e:
            raise rel.ReleaseError(str(e), rel.EXIT_USAGE) from None
        env.update({n: values[n] for n in secrets})
    # x-persist: the container (on the host network) reaches the same local DynamoDB
    for n in ("PYM_DYNAMODB_URL", "PYM_DYNAMODB_TABLE_PREFIX", "PYM_BROKER_URL"):
        if os.environ.get(n):
            env[n] = os.environ[n]
    for item in extra:
        key, sep, value = item.partition("=")
        if not key:
            raise rel.ReleaseError(f"-e {item!r}: expected NAME=VALUE", rel.EXIT_USAGE)
        if not sep:
            if key not in os.environ:
                raise rel.ReleaseError(f"-e {key}: not set in your environment", rel.EXIT_USAGE)
            value = os.environ[key]
        env[key] = value
    return env, secrets


def _local_environ(root: str, pym_env) -> dict:
    """The shell's environment, plus the repository's development JWT_SECRET
    (``.pym/dev-secret``) for a local run, as `pym run` and `pym token` read it: only when
    JWT_SECRET is unset or empty and ``pym_env`` is unset or a development one, never for a
    stage (devsecret.py)."""
    from pymacaron.devsecret import SECRET_NAME, read_dev_secret

    environ = dict(os.environ)
    if not environ.get(SECRET_NAME):
        value = read_dev_secret(root, pym_env)
        if value:
            environ[SECRET_NAME] = value
    return environ


def logs_tail(container, lines: int = 40) -> str:
    try:
        return container.logs(tail=lines).decode(errors="replace").rstrip()
    except Exception as e:  # noqa: BLE001
        return f"(logs unavailable: {rel._short(e)})"


def wait_for_ping(container, url: str, timeout: float) -> float:
    import requests

    started = time.monotonic()
    while True:
        container.reload()
        if container.status in ("exited", "dead"):
            raise rel.ReleaseError(
                f"the container exited (code {container.attrs['State'].get('ExitCode')}) before "
                f"answering {url}; its logs:\n" + logs_tail(container)
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if time.monotonic() - started > timeout:
            raise rel.ReleaseError(
                f"no answer from {url} after {timeout:.0f} s; its logs:\n" + logs_tail(container)
            )
        time.sleep(0.3)


def run(root: str, tag: str, *, port=8080, name=None, pym_env=None, env=(), timeout=60.0,
        follow=False) -> str:  # fmt: skip
    """Start the image as Beanstalk would; returns the container id once /ping answers."""
    from docker.errors import APIError, NotFound

    if not 0 < port < 65536:
        raise rel.ReleaseError(f"--port {port}: not a TCP port", rel.EXIT_USAGE)
    config = rel.read_pym_config(root)
    ref = rel.image_ref(tag, root)
    environment, secrets = container_env(root, pym_env, list(env))
    client = rel.docker_client()
    image = rel.find_image(client, ref)
    name = name or f"{config.get('name') or 'pym'}-{port}"
    try:
        old = client.containers.get(name)
    except NotFound:
        old = None
    if old is not None:
        if old.labels.get(RUN_LABEL) != "1":
            raise rel.ReleaseError(
                f"a container named {name} exists and was not started by pym image run: "
                "remove it or pass --name",
                rel.EXIT_USAGE,
            )
        print(f"replacing the previous {name} container")
        old.remove(force=True)
    shown = ", ".join(f"{k}={'***' if k in secrets else v}" for k, v in sorted(environment.items()))
    print(f"running {ref} ({image.id[:19]}) as {name} on 127.0.0.1:{port} [{shown or 'no env'}]")
    network = {"ports": {f"{CONTAINER_PORT}/tcp": ("127.0.0.1", port)}}
    if _loopback(environment.get("PYM_DYNAMODB_URL")) or _loopback(
        environment.get("PYM_BROKER_URL")
    ):
        # x-persist against a DynamoDB on this machine (dynalite): the container shares the
        # host's network to reach it, and listens on 127.0.0.1:PORT only
        environment.update(PORT=str(port), HOST="127.0.0.1")
        network = {"network_mode": "host"}
        shown = environment.get("PYM_DYNAMODB_URL") or "the local broker"
        print(f"host network: the container reaches {shown}")
    try:
        container = client.containers.run(
            image.id,
            name=name,
            detach=True,
            environment=environment,
            labels={RUN_LABEL: "1", "pymacaron.image": ref},
            **network,
        )
    except APIError as e:
        raise rel.ReleaseError(f"could not start {ref}: {rel._short(e)}") from None
    url = f"http://127.0.0.1:{port}/ping"
    try:
        took = wait_for_ping(container, url, timeout)
    except rel.ReleaseError:
        container.remove(force=True)
        raise
    print(f"serving: http://127.0.0.1:{port} (/ping answered after {took:.1f} s)")
    print(f"container: {container.id}", flush=True)
    if not follow:
        print(f"stop it with: docker stop -t 30 {name}")
        return container.id
    try:
        for line in container.logs(stream=True, follow=True, since=int(time.time()) - 60):
            sys.stdout.write(line.decode(errors="replace"))
            sys.stdout.flush()
    except KeyboardInterrupt:
        print(f"\nstopping {name} (SIGTERM, graceful)...", flush=True)
        container.stop(timeout=30)
        container.remove()
    return container.id


def _loopback(url: str | None) -> bool:
    from urllib.parse import urlparse

    host = (urlparse(url).hostname or "") if url else ""
    return host in ("localhost", "::1") or host.startswith("127.")


# ---- registries ---------------------------------------------------------------------------


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


# ---- promote ------------------------------------------------------------------------------


def promote_ecr(host: str, repository: str, tag: str) -> tuple[str, list[str]]:
    """Store the manifest of TAG again as live-TAG. An existing live-TAG naming the same
    digest is a promotion done before (a re-run); one naming another digest is refused."""
    from botocore.exceptions import BotoCoreError, ClientError

    live_tag = names.live_tag(tag)
    try:
        ecr, account = ecr_client(host)
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
