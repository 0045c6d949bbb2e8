"""``pym image build``: the service's image from the kit's Dockerfile.

Owns the build context (the service's repository filtered by its .dockerignore, else the
kit's default filter, plus ``.pym-build/``: the Dockerfile, gunicorn.conf.py, the runtime
locks, the pymacaron wheel and the service's requirements.lock), the build arguments and
the build itself on the engine at DOCKER_HOST (Docker, or podman's API service).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import tempfile
import time

from .. import package_data as resources
from ..names import IMAGE_TAG as TAG
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
