"""The pipeline's release steps as modules: promote (ECR against moto, and ECR's real
immutable-tag errors through botocore's Stubber), push/build skipping a tag ECR already has,
the smoke test, and `pym deploy`'s plan (live promotes; a config-only deploy keeps the
version in service)."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pymacaron_kit.release import image as promote
from pymacaron_kit.release import registries
from pymacaron_kit.release import smoke as smoke_module
from pymacaron_kit.release.common import ReleaseError

ROOT = Path(__file__).resolve().parents[2]
HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.mark.emulated
def test_promote_image_tags_the_same_ecr_manifest_live(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "x", "size": 1, "digest": "sha256:" + "a" * 64},
            "layers": [],
        }
    )
    with mock_aws():
        import boto3

        ecr = boto3.client("ecr", region_name="eu-west-1")
        ecr.create_repository(repositoryName="petshop", imageTagMutability="IMMUTABLE")
        ecr.put_image(repositoryName="petshop", imageManifest=manifest, imageTag="c0ffee")
        host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        digest, tags = promote.promote_ecr(host, "petshop", "c0ffee")
        assert tags == ["live-c0ffee"]
        images = ecr.describe_images(repositoryName="petshop")["imageDetails"]
        assert len(images) == 1  # one image, two tags: nothing was copied or rebuilt
        assert sorted(images[0]["imageTags"]) == ["c0ffee", "live-c0ffee"]
        assert digest == images[0]["imageDigest"]
        # a retried promotion is not an error
        assert promote.promote_ecr(host, "petshop", "c0ffee")[0] == digest
        with pytest.raises(ReleaseError, match="no image petshop:nope"):
            promote.promote_ecr(host, "petshop", "nope")


def test_promote_image_refuses_live_tags_as_input():
    with pytest.raises(ReleaseError) as err:
        promote.promote(str(ROOT), "live-abc", "127.0.0.1:5000")
    assert err.value.code == 2


class _Service(BaseHTTPRequestHandler):
    container = "c0ffee"

    def do_GET(self):  # noqa: N802 - http.server's name
        body = {"/ping": {}, "/version": {"name": "petshop", "container": self.container}}
        data = json.dumps(body.get(self.path, {})).encode()
        self.send_response(200 if self.path in body else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_smoke_test_passes_only_on_the_promoted_version(service, capsys):
    from pymacaron.commands import main

    assert main(["smoke", "--url", service, "--version", "c0ffee", "--timeout", "0"]) == 0
    assert main(["smoke", "--url", service, "--version", "deadbeef", "--timeout", "0"]) == 1
    err = capsys.readouterr().err
    assert "container 'c0ffee', expected 'deadbeef'" in err
    assert main(["smoke", "--url", "127.0.0.1:1", "--version", "x", "--timeout", "0"]) == 2
    assert smoke_module.check(service, "c0ffee", True) is None


# ---- ECR's immutable tags (real error codes through botocore's Stubber) -----------------


def stubbed_ecr(monkeypatch):
    import boto3
    from botocore.stub import Stubber

    ecr = boto3.client(
        "ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(ecr)
    monkeypatch.setattr(registries, "ecr_client", lambda host: (ecr, "123456789012"))
    return ecr, stub


MANIFEST = json.dumps({"schemaVersion": 2, "layers": []})


def _batch_get(stub, digest=DIGEST_A):
    stub.add_response(
        "batch_get_image",
        {"images": [{"imageId": {"imageDigest": digest, "imageTag": "c0ffee"},
                     "imageManifest": MANIFEST}], "failures": []},
    )  # fmt: skip


def _describe(stub, tag, digest):
    stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": digest, "imageTags": [tag]}]},
        {"registryId": "123456789012", "repositoryName": "petshop",
         "imageIds": [{"imageTag": tag}]},
    )  # fmt: skip


def test_a_rerun_promotion_accepts_live_tag_naming_the_same_digest(monkeypatch, capsys):
    _, stub = stubbed_ecr(monkeypatch)
    _batch_get(stub)
    stub.add_client_error(
        "put_image", service_error_code="ImageTagAlreadyExistsException", http_status_code=400
    )
    _describe(stub, "live-c0ffee", DIGEST_A)
    with stub:
        digest, tags = promote.promote_ecr(HOST, "petshop", "c0ffee")
    assert (digest, tags) == (DIGEST_A, ["live-c0ffee"])
    assert "already names this image (promoted before)" in capsys.readouterr().out
    stub.assert_no_pending_responses()


def test_promotion_refuses_a_live_tag_naming_another_digest(monkeypatch):
    _, stub = stubbed_ecr(monkeypatch)
    _batch_get(stub)
    stub.add_client_error(
        "put_image", service_error_code="ImageTagAlreadyExistsException", http_status_code=400
    )
    _describe(stub, "live-c0ffee", DIGEST_B)
    with stub, pytest.raises(ReleaseError, match="already names another image") as e:
        promote.promote_ecr(HOST, "petshop", "c0ffee")
    assert DIGEST_B in str(e.value) and e.value.code == 1


def test_push_of_a_commit_ecr_already_has_pushes_nothing(monkeypatch, tmp_path, capsys):
    """Re-running a commit: ECR answers ImageTagAlreadyExistsException to a second push of an
    immutable tag, so push (and build --unless-in) must find the tag and stop first."""
    ecr, stub = stubbed_ecr(monkeypatch)
    engine = []
    monkeypatch.setattr(promote.rel, "docker_client", lambda: engine.append(1) or object())
    import base64

    token = base64.b64encode(b"AWS:secret-password").decode()
    stub.add_response(
        "get_authorization_token",
        {"authorizationData": [{"authorizationToken": token, "proxyEndpoint": f"https://{HOST}"}]},
    )
    _describe(stub, "c0ffee", DIGEST_A)
    _describe(stub, "c0ffee", DIGEST_A)
    with stub:
        assert promote.push(str(ROOT), "c0ffee", f"{HOST}/petshop") == DIGEST_A
        from pymacaron.commands import main

        assert main(["image", "build", "--dir", str(ROOT), "--tag", "c0ffee",
                     "--unless-in", f"{HOST}/petshop"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "is already in the registry" in out and "not pushed again" in out
    assert "not rebuilt" in out and "secret-password" not in out
    assert engine == []  # neither needs a container engine for a tag ECR already has


def test_a_tag_ecr_does_not_have_is_reported_missing(monkeypatch):
    _, stub = stubbed_ecr(monkeypatch)
    stub.add_client_error("describe_images", service_error_code="ImageNotFoundException")
    with stub:
        assert promote.remote_digest(HOST, "petshop", "c0ffee") is None


# ---- pym deploy's plan ---------------------------------------------------------------------


def stubbed_cfn(outputs):
    import boto3
    from botocore.stub import Stubber

    cfn = boto3.client(
        "cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(cfn)
    stub.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "petshop-staging", "CreationTime": "2026-01-01T00:00:00Z",
                     "StackStatus": "UPDATE_COMPLETE", "Outputs": outputs}]},
    )  # fmt: skip
    return cfn, stub


def test_a_config_only_deploy_keeps_the_version_in_service():
    from pymacaron_kit.deploy import plan_deploy

    image = f"{HOST}/petshop:20261130-0900-abc1234"
    cfn, stub = stubbed_cfn([{"OutputKey": "Image", "OutputValue": image}])
    with stub:
        plan = plan_deploy(str(ROOT), "staging", None, cfn=cfn)
    assert plan.version == "20261130-0900-abc1234"
    assert "-c" in plan.command and "version=20261130-0900-abc1234" in plan.command
    assert plan.stack_id == "PymService-staging" and not plan.promote


def test_a_first_deploy_without_a_version_says_so():
    from pymacaron_kit.deploy import plan_deploy

    cfn, stub = stubbed_cfn([])
    with stub, pytest.raises(ReleaseError, match="needs --version TAG") as e:
        plan_deploy(str(ROOT), "staging", None, cfn=cfn)
    assert e.value.code == 2


def test_synth_refuses_what_the_typed_config_refuses_before_running_the_app(tmp_path):
    """A deploy-key typo the runtime tolerates stops `pym synth` at once with the typed
    config's one-line message naming the key; the CDK app is not run."""
    from pymacaron_kit.deploy import synth

    (tmp_path / "pym-config.yaml").write_text("name: svc\naws_host_max: 6\n")
    ran = tmp_path / "ran"
    app = f"{json.dumps(sys.executable)} -c \"open('ran', 'w')\""
    (tmp_path / "cdk.json").write_text(json.dumps({"app": app}))
    with pytest.raises(ReleaseError) as refused:
        synth(str(tmp_path), version="v1", lint=False)
    message = str(refused.value)
    assert refused.value.code == 2 and "\n" not in message
    assert "pym-config.yaml" in message and "'aws_host_max'" in message
    assert "did you mean 'aws_hosts_max'" in message
    assert not ran.exists()


def test_plan_deploy_without_a_pym_config_says_there_is_none(tmp_path):
    """The typed config's own message (it used to be the dict view's "no `name` key")."""
    from pymacaron_kit.deploy import plan_deploy

    with pytest.raises(ReleaseError, match="no pym-config file here") as refused:
        plan_deploy(str(tmp_path), "live", "v1")
    assert refused.value.code == 2 and "no `name` key" not in str(refused.value)


def test_deploy_notes_both_ways_from_the_typed_config(capsys):
    """The example has a pipeline: section, so a direct deploy says it runs apart from the
    pipeline's stages (named from the typed config's `name`)."""
    from pymacaron_kit import deploy

    assert deploy.deploy(str(ROOT), "staging", "v1", dry_run=True) == 0
    out = capsys.readouterr().out
    assert "deploy: note: direct deploys (petshop-staging)" in out
    assert "(petshop-pipeline-staging)" in out


def test_deploy_live_tags_the_image_live_first(monkeypatch, capsys):
    from pymacaron_kit import deploy

    plan = deploy.plan_deploy(str(ROOT), "live", "abc1234")
    assert plan.promote and "version=abc1234" in plan.command
    calls = []
    monkeypatch.setattr(
        "pymacaron_kit.release.image.promote", lambda root, tag, reg: calls.append((tag, reg))
    )

    class Done:
        returncode = 0
        stderr = ""

    monkeypatch.setattr(deploy.subprocess, "run", lambda *a, **k: calls.append(a[0]) or Done())
    assert deploy.deploy(str(ROOT), "live", "abc1234") == 0
    assert calls[0] == ("abc1234", "ecr")  # live-abc1234 before cdk deploy
    assert calls[1][-2:] == ["-c", "version=abc1234"]
    assert "tag abc1234 as live-abc1234" in capsys.readouterr().out


# ---- the build context and the service's lock ---------------------------------------------


def test_service_lock_excludes_pymacaron_and_the_image_refuses_an_unlocked_dependency(tmp_path):
    from pymacaron_kit import new
    from pymacaron_kit.release import lock

    target = tmp_path / "svc"
    new.new_service("svc", str(target))
    (target / "requirements.lock").unlink()
    assert lock.service_lock(str(target)) == 0  # only pymacaron: nothing to resolve
    text = (target / "requirements.lock").read_text()
    assert "==" not in text and "pym lock" in text
    assert promote.service_lock(str(target)) == text
    (target / "requirements.txt").write_text("pymacaron[kit]==3.1.0\nrequests-oauthlib>=1\n")
    (target / "requirements.lock").unlink()
    with pytest.raises(ReleaseError, match="names requests-oauthlib>=1 but there is no") as e:
        promote.service_lock(str(target))
    assert e.value.code == 2
    assert lock.service_lock(str(target), check_only=True) == 1


@pytest.mark.slow
def test_the_build_context_is_the_service_plus_the_wheel_never_pymacaron_source(tmp_path):
    import tarfile

    from pymacaron import __version__
    from pymacaron_kit import new

    target = tmp_path / "svc"
    new.new_service("svc", str(target))
    context, count, wheel = promote.make_context(str(target), None, str(tmp_path / "wheels"))
    with tarfile.open(fileobj=context) as tar:
        names = set(tar.getnames())
    context.close()
    assert wheel == f"pymacaron-{__version__}-py3-none-any.whl"
    assert {"server.py", "apis/svc.yaml", "svc/api.py", "pym-config.yaml",
            ".pym-build/Dockerfile", ".pym-build/gunicorn.conf.py",
            ".pym-build/requirements.lock", ".pym-build/service.lock",
            f".pym-build/wheels/{wheel}"} <= names  # fmt: skip
    for kept_out in ("tests/test_api.py", "testaccept/test_svc.py", "app.py", "cdk.json",
                     "requirements.txt", "README.md", "Makefile", ".gitignore"):  # fmt: skip
        assert kept_out not in names, kept_out
    assert not [n for n in names if n.startswith(("framework", "infra", "docker/"))]


def test_a_deploy_failing_for_lack_of_bootstrap_says_how_to_bootstrap(monkeypatch):
    from pymacaron_kit import deploy

    class Failed:
        returncode = 1
        stderr = "PymService-staging: SSM parameter /cdk-bootstrap/hnb659fds/version not found."

    monkeypatch.setattr(deploy.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(ReleaseError, match=r"failed \(exit 1\); is the account bootstrapped") as e:
        deploy.deploy(str(ROOT), "staging", "abc1234")
    assert "pym bootstrap --execution-policy ARN" in str(e.value) and e.value.code == 1
    assert "cdk bootstrap aws://" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.slow
def test_the_wheel_built_from_source_has_no_stale_module_and_the_same_bytes_each_time(tmp_path):
    """setuptools reuses <source>/build/lib: a module moved since the last build shipped in
    the wheel (pymacaron/models.py after the move to pymacaron/spec/ broke the image)."""
    import zipfile

    from pymacaron_kit.release import wheel

    stale = Path(__file__).resolve().parents[2] / "build" / "lib" / "pymacaron" / "stale_mod.py"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("LEFT_OVER = True\n")
    built = wheel.pymacaron_wheel(str(tmp_path))
    names = zipfile.ZipFile(built).namelist()
    assert "pymacaron/spec/models.py" in names
    assert "pymacaron/stale_mod.py" not in names
    # the same tree, the same bytes (the guides' copies keep their dates, every entry dated
    # by SOURCE_DATE_EPOCH): an image rebuilt from an unchanged checkout reuses its
    # installed-packages layer instead of reinstalling everything (~40 s a build)
    again = wheel.pymacaron_wheel(str(tmp_path / "again"))
    assert Path(again).read_bytes() == Path(built).read_bytes()


def test_wheel_builds_of_one_checkout_wait_for_each_other(tmp_path):
    """`pym image build` and `make dists` build from the same tree (build/, the egg-info):
    they take one lock, so two at once (two xdist workers, two terminals) never mix files."""
    import fcntl
    import os
    import signal
    import subprocess

    from pymacaron_kit.release import wheel

    root = Path(__file__).resolve().parents[2]
    assert f"flock {wheel.BUILD_LOCK} " in (root / "Makefile").read_text()
    (tmp_path / "build").mkdir()
    holder = subprocess.Popen(
        ["flock", str(tmp_path / wheel.BUILD_LOCK), "sleep", "30"],
        stdout=subprocess.DEVNULL,
        start_new_session=True,  # flock and its sleep (which holds the lock) end together
    )
    try:
        lock = tmp_path / wheel.BUILD_LOCK
        for _ in range(100):  # until flock(1) holds it
            with open(lock, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(f, fcntl.LOCK_UN)
                except BlockingIOError:
                    break
            threading.Event().wait(0.05)
        entered = threading.Event()

        def build():
            with wheel.source_tree_build_lock(str(tmp_path)):
                entered.set()

        t = threading.Thread(target=build, daemon=True)
        t.start()
        assert not entered.wait(1.0)  # waits while the other build holds the lock
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        assert entered.wait(10)
        t.join(10)
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
