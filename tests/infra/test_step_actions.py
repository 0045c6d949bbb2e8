"""Each pipeline step's role allows every AWS call its `pym` commands make.

The commands run in-process against moto's ECR emulation (the repository and an image
created first) with a botocore recorder; each recorded call must be (a) declared for that
command in infra/step_actions.py and (b) allowed by the role the synthesized pipeline
template gives that step (the ``piped`` session fixture). On 39c39b6 the Image step's role
lacked ``ecr:DescribeImages`` (called by ``image build --unless-in`` and ``image push``).
"""

from __future__ import annotations

import json
import os
import shlex

import pytest

from pymacaron_kit import pipeline_steps as steps
from pymacaron_kit.step_actions import actions_of, commands_of, step_actions
from tests.infra.step_calls import allowed, dump, recorded_calls, role_statements
from tests.infra.test_pipeline import COMMIT, action, project_of

pytestmark = pytest.mark.xdist_group("cdk")

ACCOUNT = "123456789012"  # moto's account
FIXTURE_ACCOUNT = "111122223333"  # configs/pipeline.yaml's
REGION = "eu-west-1"
REPO = "testsvc"
URI = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPO}"
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + "b" * 64,
        },
        "layers": [],
    }
)


def _service_dir(tmp_path):
    (tmp_path / "pym-config.yaml").write_text(f"name: {REPO}\naws_region: {REGION}\n")
    return str(tmp_path)


def _run_step(commands: list[str], env: dict, cwd: str) -> list[tuple[str, dict]]:
    from pymacaron.commands import main

    calls = []
    for line in commands:
        line = os.path.expandvars(line)
        for argv in commands_of(line):
            with recorded_calls() as recorded:
                code = main([*argv, "--dir", cwd] if argv[0] == "image" and argv[1] != "scan-gate"
                            else [*argv, "--config", os.path.join(cwd, "pym-config.yaml")])  # fmt: skip
            assert code == 0, (argv, recorded)
            declared = actions_of(argv)
            for call, _ in recorded:
                assert call in declared, f"pym {shlex.join(argv)} calls {call}, undeclared"
            calls += recorded
    return calls


@pytest.fixture
def ecr(monkeypatch, tmp_path):
    from moto import mock_aws

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "COMMIT_ID": COMMIT,
        "REPOSITORY_URI": URI,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        import boto3

        client = boto3.client("ecr", region_name=REGION)
        client.create_repository(repositoryName=REPO)
        client.put_image(repositoryName=REPO, imageManifest=MANIFEST, imageTag=COMMIT)
        # ECR scans on push (infra/registry.py); moto scans when asked
        client.start_image_scan(repositoryName=REPO, imageId={"imageTag": COMMIT})
        yield client


def _role_of(piped, step: str) -> list[dict]:
    role = project_of(piped, step)["ServiceRole"]["Fn::GetAtt"][0]
    return role_statements(
        piped.templates["PymService-pipeline"], role, account=ACCOUNT, region=REGION
    )


def _resource_of(call: str, params: dict) -> str:
    if call == "ecr:GetAuthorizationToken":
        return "*"
    repo = params.get("repositoryName", REPO)
    return f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}"


@pytest.mark.parametrize(
    "step, commands",
    [
        ("Image", steps.IMAGE),
        ("ImageScanGate", steps.SCAN_GATE),
        ("PromoteImage", steps.PROMOTE),
    ],
)
def test_each_ecr_step_role_allows_every_call_its_commands_make_against_moto_emulation(
    piped, ecr, tmp_path, monkeypatch, step, commands
):
    # the fixture's role is scoped to its account: read it for moto's
    template = json.loads(json.dumps(piped.templates["PymService-pipeline"]))
    piped_view = type(piped)(stacks=None, outdir=piped.outdir, templates={
        "PymService-pipeline": json.loads(json.dumps(template).replace(FIXTURE_ACCOUNT, ACCOUNT))
    })  # fmt: skip
    statements = _role_of(piped_view, step)
    calls = _run_step(commands, {}, _service_dir(tmp_path))
    assert calls, f"{step}: its commands made no AWS call"
    for call, params in calls:
        assert allowed(statements, call, _resource_of(call, params)), (
            f"{step}'s role does not allow {call}:\n{dump(statements)}"
        )


def test_the_image_step_with_a_new_commit_asks_ecr_before_building(
    piped, ecr, tmp_path, monkeypatch
):
    """A first run of a commit: --unless-in calls DescribeImages, then builds (stubbed); the
    role allows that call on the fixture's own repository."""
    from pymacaron_kit.release import image

    built = []
    monkeypatch.setattr(image, "build", lambda root, **kw: built.append(kw["tag"]))
    monkeypatch.setenv("COMMIT_ID", "f" * 40)
    calls = _run_step(steps.IMAGE[:1], {}, _service_dir(tmp_path))
    assert built == ["f" * 40]
    assert [c for c, _ in calls] == ["ecr:DescribeImages"]
    role = project_of(piped, "Image")["ServiceRole"]["Fn::GetAtt"][0]
    statements = role_statements(
        piped.templates["PymService-pipeline"], role, account=FIXTURE_ACCOUNT, region=REGION
    )
    resource = f"arn:aws:ecr:{REGION}:{FIXTURE_ACCOUNT}:repository/{REPO}"
    assert allowed(statements, "ecr:DescribeImages", resource), dump(statements)


def test_every_pipeline_step_command_is_in_the_actions_table():
    """A new `pym` command in a buildspec without an entry fails synth's derivation."""
    for commands in (steps.IMAGE, steps.SCAN_GATE, steps.PROMOTE, steps.SYNTH, steps.PLAN,
                     steps.ACCEPTANCE, steps.SMOKE):  # fmt: skip
        step_actions(commands)
    with pytest.raises(KeyError, match="no entry in COMMAND_ACTIONS"):
        step_actions(['pym image frobnicate "$X"'])
    assert step_actions(steps.IMAGE) == (
        sorted({"ecr:DescribeImages", *steps_push_actions()} - {"ecr:GetAuthorizationToken"}),
        ["ecr:GetAuthorizationToken"],
    )


def steps_push_actions():
    from pymacaron_kit.step_actions import COMMAND_ACTIONS

    return COMMAND_ACTIONS["image push"]


def test_the_image_action_runs_the_commands_the_role_was_derived_from(piped):
    spec = json.loads(project_of(piped, "Image")["Source"]["BuildSpec"])
    assert spec["phases"]["build"]["commands"] == steps.IMAGE
    assert action(piped.templates, "Image")
