"""The pipeline's own step scripts: promote-image (ECR, against moto) and smoke-test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(script: str):
    loader = SourceFileLoader(script.replace("-", "_"), str(ROOT / "scripts" / script))
    module = module_from_spec(spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


@pytest.mark.emulated
def test_promote_image_tags_the_same_ecr_manifest_live(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    promote = load("promote-image")
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
        with pytest.raises(promote.rel.ReleaseError, match="no image petshop:nope"):
            promote.promote_ecr(host, "petshop", "nope")


def test_promote_image_refuses_live_tags_as_input(capsys):
    promote = load("promote-image")
    args = promote.parse_args(["live-abc", "--registry", "127.0.0.1:5000"])
    with pytest.raises(promote.rel.ReleaseError) as err:
        promote.main(args)
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
    smoke = load("smoke-test")
    assert smoke.main(["--url", service, "--version", "c0ffee", "--timeout", "0"]) == 0
    assert smoke.main(["--url", service, "--version", "deadbeef", "--timeout", "0"]) == 1
    err = capsys.readouterr().err
    assert "container 'c0ffee', expected 'deadbeef'" in err
    assert smoke.main(["--url", "127.0.0.1:1", "--version", "x", "--timeout", "0"]) == 2
