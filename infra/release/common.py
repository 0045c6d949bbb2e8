"""Shared helpers of the release steps (``pym image build|run|push|promote``, ``pym pipeline
local``, ``pym smoke``, ``pym lock``).

Deploy-time code: it talks to a container engine through the Docker API (`docker` SDK, at
DOCKER_HOST: a Docker engine or podman's API service) and to AWS with boto3. It never runs in
the image. Errors are ReleaseError(message, exit_code); ``pym`` prints the message in one line and
exits with the code:

    0 done   1 failed (build, run, push)   2 usage   3 no engine reachable
    4 registry refused (auth, TLS, unreachable)
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess

from pymacaron.commands.errors import EXIT_FAILED as EXIT_FAILED
from pymacaron.commands.errors import EXIT_NO_ENGINE as EXIT_NO_ENGINE
from pymacaron.commands.errors import EXIT_REFUSED
from pymacaron.commands.errors import EXIT_USAGE as EXIT_USAGE
from pymacaron.config import read_stage_config, stage_file
from pymacaron.exceptions import StartupError

SERVICE_DIR_ENV = "PYM_SERVICE_DIR"  # the one service-directory variable (runtime and kit)
OLD_SERVICE_DIR_ENV = "PYM_RELEASE_ROOT"  # deprecated alias, until the next minor version


def service_root(directory: str | None = None, environ=None) -> str:
    """The service's repository (build context, pym-config.yaml): DIR, $PYM_SERVICE_DIR
    (``$PYM_RELEASE_ROOT``, its deprecated old name) or ."""
    environ = os.environ if environ is None else environ
    chosen = directory or environ.get(SERVICE_DIR_ENV)
    if not chosen and environ.get(OLD_SERVICE_DIR_ENV):
        import warnings

        warnings.warn(
            f"{OLD_SERVICE_DIR_ENV} is deprecated: set {SERVICE_DIR_ENV} (the same directory)",
            DeprecationWarning,
            stacklevel=2,
        )
        chosen = environ[OLD_SERVICE_DIR_ENV]
    return os.path.abspath(chosen or os.getcwd())


# the one exit-code map of `pym` (pymacaron/commands/errors.py); a registry refusal is
# EXIT_REFUSED
EXIT_REGISTRY = EXIT_REFUSED

ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$"
)

START_ENGINE_HELP = """\
Start one of:
  - Docker (Docker Desktop, or `sudo systemctl start docker`), with DOCKER_HOST unset or
    pointing at it;
  - podman's Docker-compatible API service, no daemon needed (pym docs image):
      BUILDAH_ISOLATION=chroot podman system service --time=0 unix:///tmp/podman.sock &
      export DOCKER_HOST=unix:///tmp/podman.sock"""


class ReleaseError(Exception):
    """A release step failed: ``pym`` prints it in one line and exits with ``code``
    (pymacaron/commands/errors.py)."""

    def __init__(self, message: str, code: int = EXIT_FAILED):
        super().__init__(message)
        self.code = code


def docker_client(timeout: int = 600):
    """A Docker API client for DOCKER_HOST, checked with a ping."""
    try:
        from docker.errors import DockerException

        import docker
    except ImportError as e:  # pragma: no cover - the [kit] extra provides it
        raise ReleaseError(
            f"the docker SDK is not installed ({e}): pip install 'pymacaron[kit]'", EXIT_USAGE
        ) from None
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock (default)"
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as e:
        raise ReleaseError(
            f"no container engine reachable at DOCKER_HOST={host}: {_short(e)}\n{START_ENGINE_HELP}",
            EXIT_NO_ENGINE,
        ) from None
    except Exception as e:  # requests errors when the socket exists but nobody answers
        raise ReleaseError(
            f"no container engine answering at DOCKER_HOST={host}: {_short(e)}\n{START_ENGINE_HELP}",
            EXIT_NO_ENGINE,
        ) from None
    return client


def _short(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__


def read_pym_config(root: str, stage: str | None = None) -> dict:
    """pym-config as ``stage`` sees it (no stage: the base file), read by the runtime's own
    reader (duplicate keys, the schema, ``pym-config.<stage>.yaml``, ``stages.<stage>``);
    {} when the service has no pym-config. A bad file is a ReleaseError (usage)."""
    path = stage_file(root, stage)
    if not os.path.isfile(path):
        return {}
    try:
        return read_stage_config(path, stage)
    except StartupError as e:
        raise ReleaseError(str(e), EXIT_USAGE) from None


def service_name(root: str) -> str:
    """The image repository name: pym-config's `name`."""
    name = read_pym_config(root).get("name")
    if not name:
        raise ReleaseError(
            f"{os.path.join(root, 'pym-config.yaml')}: no `name` key (the image is named after it)",
            EXIT_USAGE,
        )
    return str(name)


def git_version(root: str) -> str:
    """A tag from git: commit date + short commit (`20261123-1042-ab12cd3`), `-dirty` when
    the working tree has uncommitted changes. Without git: the current UTC time."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", root, *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        stamp = git("log", "-1", "--format=%cd", "--date=format-local:%Y%m%d-%H%M")
        commit = git("rev-parse", "--short=7", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S") + "-nogit"
    return f"{stamp}-{commit}" + ("-dirty" if dirty else "")


def image_ref(tag_or_ref: str, root: str) -> str:
    """`TAG` -> `<service name>:TAG`; a full reference (`repo:tag`, `host/repo:tag`) as is."""
    last = tag_or_ref.rsplit("/", 1)[-1]
    if "/" in tag_or_ref or ":" in last or "@" in tag_or_ref:
        return tag_or_ref
    return f"{service_name(root)}:{tag_or_ref}"


def split_ref(ref: str) -> tuple[str, str]:
    """`host:5000/repo:tag` -> (`host:5000/repo`, `tag`); no tag -> `latest`."""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = ref.rsplit(":", 1)
        return repo, tag
    return ref, "latest"


def human_size(n: int | float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return str(n)  # pragma: no cover


def find_image(client, ref: str):
    from docker.errors import ImageNotFound

    for candidate in (ref, f"localhost/{ref}"):  # podman stores unqualified names as localhost/
        try:
            return client.images.get(candidate)
        except ImageNotFound:
            continue
    raise ReleaseError(f"no image {ref} in the engine at DOCKER_HOST (build it: pym image build)")


def uses_dynamodb(root: str) -> bool:
    """True when a spec of apis/ has an x-persist model stored in DynamoDB: the long form
    (a mapping) without a ``backend:`` of its own. A text scan: no YAML parsing."""
    apis = os.path.join(root, "apis")
    if not os.path.isdir(apis):
        return False
    short_form = re.compile(r"^\s*x-persist:\s*[A-Za-z_][\w.]*\.[A-Za-z_]\w*\s*(#.*)?$")
    for name in sorted(os.listdir(apis)):
        if not name.endswith((".yaml", ".yml")):
            continue
        with open(os.path.join(apis, name)) as f:
            text = f.read()
        for match in re.finditer(r"^\s*x-persist:.*$", text, re.M):
            if (
                not short_form.match(match.group(0))
                and "backend:" not in text[match.start() :][:400]
            ):
                return True
    return False
