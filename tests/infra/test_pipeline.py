"""PymService-pipeline: stage and action order, commands, trigger, roles, storage, gates.

One pipeline-configured app (configs/pipeline.yaml, synthesized with the quality gates and a
commit as version: the session fixture ``piped`` of conftest.py) is shared; a second, gate-less synth covers the CodeCommit
source without manual approval.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pymacaron.exceptions import StartupError
from pymacaron_kit.pipeline_steps import PIN_GATES, PLAN, SCAN_GATE
from tests.infra.infra_helpers import CONFIGS, cfn_lint, nag_violations, synthesize

pytestmark = pytest.mark.xdist_group("cdk")

COMMIT = "0123456789abcdef0123456789abcdef01234567"
ACCOUNT = "111122223333"


def pipeline_resource(templates: dict) -> dict:
    found = [
        r
        for r in templates["PymService-pipeline"]["Resources"].values()
        if r["Type"] == "AWS::CodePipeline::Pipeline"
    ]
    assert len(found) == 1
    return found[0]["Properties"]


def stages(templates: dict) -> list[tuple[str, list[str]]]:
    """[(stage, [action, ...] in run order)]."""
    out = []
    for stage in pipeline_resource(templates)["Stages"]:
        actions = sorted(stage["Actions"], key=lambda a: a.get("RunOrder", 1))
        out.append((stage["Name"], [a["Name"] for a in actions]))
    return out


def action(templates: dict, name: str) -> dict:
    for stage in pipeline_resource(templates)["Stages"]:
        for a in stage["Actions"]:
            if a["Name"] == name:
                return a
    raise AssertionError(f"no action {name}")


def action_env(templates: dict, name: str) -> dict[str, str]:
    raw = action(templates, name)["Configuration"].get("EnvironmentVariables", "[]")
    return {v["name"]: v["value"] for v in json.loads(raw)}


def project_of(piped, action_name: str) -> dict:
    ref = action(piped.templates, action_name)["Configuration"]["ProjectName"]["Ref"]
    return piped.templates["PymService-pipeline"]["Resources"][ref]["Properties"]


def buildspec(piped, action_name: str) -> dict:
    return json.loads(project_of(piped, action_name)["Source"]["BuildSpec"])


def nested_templates(outdir: Path) -> dict[str, dict]:
    return {
        p.parent.name: json.loads(p.read_text())
        for p in sorted(outdir.glob("assembly-*/*.template.json"))
    }


def test_stages_and_actions_run_in_the_promised_order(piped):
    assert stages(piped.templates) == [
        ("Source", ["acme_testsvc"]),
        ("Build", ["Synth"]),
        ("UpdatePipeline", ["SelfMutate"]),
        ("Assets", ["FileAssets"]),
        (
            "Staging",
            [
                "UnitTests",
                "Image",
                "testsvc-pipeline-staging.Prepare",
                "testsvc-pipeline-staging.Deploy",
                "AcceptanceTests",
            ],
        ),
        (
            "Live",
            [
                "ImageScanGate",
                "Approve",
                "PromoteImage",
                "testsvc-pipeline-live.Prepare",
                "testsvc-pipeline-live.Deploy",
                "SmokeTest",
            ],
        ),
    ]
    # strictly sequential inside a stage: no two actions share a run order
    for stage in pipeline_resource(piped.templates)["Stages"]:
        orders = [a.get("RunOrder", 1) for a in stage["Actions"]]
        assert len(orders) == len(set(orders)), stage["Name"]


def test_every_push_to_the_branch_triggers_through_the_connection(piped):
    props = pipeline_resource(piped.templates)
    assert props["PipelineType"] == "V2"
    source = action(piped.templates, "acme_testsvc")
    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"] == {
        "ConnectionArn": "arn:aws:codeconnections:eu-west-1:111122223333:connection/"
        "00000000-0000-0000-0000-000000000000",
        "FullRepositoryId": "acme/testsvc",
        "BranchName": "main",
        "DetectChanges": True,
        "OutputArtifactFormat": "CODEBUILD_CLONE_REF",  # a git clone: `pym plan` needs HEAD~1
    }


def test_every_step_installs_the_requirements_then_runs_pym(piped):
    expected = {
        "Synth": ['pym synth --version "$COMMIT_ID"', *PLAN],
        "UnitTests": ["python -m pytest -q tests"],  # pipeline.unit_tests' default
        "Image": [
            'pym image build --tag "$COMMIT_ID" --unless-in "$REPOSITORY_URI"',
            'pym image push "$COMMIT_ID" --registry "$REPOSITORY_URI"',
        ],
        "AcceptanceTests": [
            'pym acceptance --url "$STAGING_URL" --env staging --junit reports/acceptance.xml',
            'pym fuzz --url "$STAGING_URL" --env staging --junit reports/fuzz.xml',
        ],
        "ImageScanGate": SCAN_GATE,
        "PromoteImage": ['pym image promote "$COMMIT_ID" --registry "$REPOSITORY_URI"'],
        "SmokeTest": ['pym smoke --url "$LIVE_URL" --version "$COMMIT_ID" --instance-credentials'],
    }
    from pymacaron.commands import main

    for name, commands in expected.items():
        spec = buildspec(piped, name)
        install = spec["phases"]["install"]["commands"]
        # the gates' pins first (infra/pins.py), then the requirements
        assert install[: len(PIN_GATES) + 1] == [
            *PIN_GATES,
            "pip install -q -r requirements.txt",
        ], name
        assert spec["phases"]["build"]["commands"] == commands, name
        for command in commands:
            if command.startswith("pym "):  # the subcommand exists: its --help exits 0
                words = [w for w in command.split()[1:] if not w.startswith(("-", '"'))]
                with pytest.raises(SystemExit) as e:
                    main([*words[: 2 if words[0] in ("image", "pipeline") else 1], "--help"])
                assert e.value.code == 0, command
    reports = buildspec(piped, "AcceptanceTests")["reports"]["acceptance"]
    assert reports["file-format"] == "JUNITXML" and "acceptance.xml" in reports["files"]
    assert buildspec(piped, "Synth")["artifacts"]["base-directory"] == "cdk.out"


def test_the_commit_is_the_tag_from_synth_to_smoke_test(piped):
    commit = "#{Source@acme_testsvc.CommitId}"
    for name in ("Synth", "Image", "PromoteImage", "SmokeTest"):
        assert action_env(piped.templates, name)["COMMIT_ID"] == commit, name
    staging_url = action_env(piped.templates, "AcceptanceTests")["STAGING_URL"]
    assert staging_url.startswith("#{PymServicepipelineStagingService") and "EnvironmentUrl" in (
        staging_url
    )
    # live has a host name: the smoke test goes through it
    assert action_env(piped.templates, "SmokeTest")["LIVE_URL"].endswith(".ServiceUrl}")
    # both pipeline stages deploy the image tagged with the synthesized commit, no rebuild
    for stage in ("Staging", "Live"):
        service = getattr(piped.stacks.pipeline, stage.lower()).service
        assert service.release is not None
        assembly = piped.outdir / f"assembly-PymService-pipeline-{stage}"
        bundle = assembly / service.release.bundle.asset_path / "Dockerrun.aws.json"
        image = json.loads(bundle.read_text())["Image"]["Name"]
        assert image == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/testsvc:{COMMIT}"


def test_only_the_image_project_is_privileged(piped):
    projects = piped.resources("PymService-pipeline", "AWS::CodeBuild::Project")
    privileged = [
        k for k, p in projects.items() if p["Properties"]["Environment"]["PrivilegedMode"]
    ]
    assert privileged == [action(piped.templates, "Image")["Configuration"]["ProjectName"]["Ref"]]
    assert len(projects) >= 8


def test_artifacts_are_encrypted_with_a_rotated_key_and_tls_only(piped):
    tpl = piped.templates["PymService-pipeline"]
    props = pipeline_resource(piped.templates)
    bucket_id = props["ArtifactStore"]["Location"]["Ref"]
    bucket = tpl["Resources"][bucket_id]["Properties"]
    sse = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    key_id = sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    assert tpl["Resources"][key_id]["Properties"]["EnableKeyRotation"] is True
    assert props["ArtifactStore"]["EncryptionKey"]["Type"] == "KMS"
    assert bucket["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert "LoggingConfiguration" in bucket
    policies = piped.resources("PymService-pipeline", "AWS::S3::BucketPolicy")
    denies = [
        s
        for p in policies.values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
    ]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # every CodeBuild project encrypts its output with that key
    for name, p in piped.resources("PymService-pipeline", "AWS::CodeBuild::Project").items():
        assert p["Properties"]["EncryptionKey"] == {"Fn::GetAtt": [key_id, "Arn"]}, name


def test_build_logs_go_to_one_log_group_with_retention(piped):
    groups = piped.resources("PymService-pipeline", "AWS::Logs::LogGroup")
    assert len(groups) == 1
    ((group_id, group),) = groups.items()
    # the longest stage retention of the fixture (live: 90 days)
    assert group["Properties"]["RetentionInDays"] == 90
    for name, p in piped.resources("PymService-pipeline", "AWS::CodeBuild::Project").items():
        logs = p["Properties"]["LogsConfig"]["CloudWatchLogs"]
        assert logs == {"GroupName": {"Ref": group_id}, "Status": "ENABLED"}, name


def _statements(piped, action_name: str) -> list[dict]:
    role = project_of(piped, action_name)["ServiceRole"]["Fn::GetAtt"][0]
    out = []
    for p in piped.resources("PymService-pipeline", "AWS::IAM::Policy").values():
        if {"Ref": role} in p["Properties"]["Roles"]:
            out += p["Properties"]["PolicyDocument"]["Statement"]
    return out


def _actions(statements) -> set[str]:
    found = set()
    for s in statements:
        found.update([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    return found


def test_roles_are_least_privilege(piped):
    image = _statements(piped, "Image")
    push = [s for s in image if "ecr:PutImage" in s["Action"]]
    assert len(push) == 1
    assert "repository/testsvc" in json.dumps(push[0]["Resource"])
    star = [s for s in image if s["Resource"] == "*"]
    assert _actions(star) == {"ecr:GetAuthorizationToken"}
    # nobody else may push images; only promote may add a tag
    for name in ("Synth", "UnitTests", "AcceptanceTests", "SmokeTest"):
        assert not any(a.startswith("ecr:") for a in _actions(_statements(piped, name))), name
    promote = _actions(_statements(piped, "PromoteImage"))
    assert {"ecr:BatchGetImage", "ecr:PutImage"} <= promote
    assert "ecr:GetAuthorizationToken" not in promote
    # acceptance reads the staging JWT secret by reference, never a value in the template
    project = project_of(piped, "AcceptanceTests")
    variables = {v["Name"]: v for v in project["Environment"]["EnvironmentVariables"]}
    assert variables["JWT_SECRET"]["Type"] == "PARAMETER_STORE"
    assert variables["JWT_SECRET"]["Value"] == "/testsvc/staging/jwt-secret"
    assert "ssm:GetParameters" in _actions(_statements(piped, "AcceptanceTests"))
    assert not any(a.startswith(("iam:", "cloudformation:")) for a in _actions(image))


def test_pipeline_stacks_never_collide_with_direct_deploys(piped):
    tpl = piped.templates
    direct = {s.stack_name for s in piped.stacks.stages.values()}
    managed = {piped.stacks.pipeline.staging.service.stack_name}
    managed.add(piped.stacks.pipeline.live.service.stack_name)
    assert direct == {"testsvc-staging", "testsvc-live"}
    assert managed == {"testsvc-pipeline-staging", "testsvc-pipeline-live"}
    assert piped.stacks.pipeline.stack_name == "testsvc-pipeline"
    deploy_names = {
        action(tpl, f"{n}.Deploy")["Configuration"]["StackName"] for n in sorted(managed)
    }
    assert deploy_names == managed
    # physical names too: the pipeline's Beanstalk environments are its own
    envs = set()
    for template in nested_templates(piped.outdir).values():
        for r in template["Resources"].values():
            if r["Type"] == "AWS::ElasticBeanstalk::Environment":
                envs.add(r["Properties"]["EnvironmentName"])
    assert envs == {"testsvc-pipeline-staging", "testsvc-pipeline-live"}
    # the pipeline waits for the shared stack (repository, application) it deploys into
    assert piped.stacks.shared in piped.stacks.pipeline.dependencies


def test_failures_and_approvals_are_notified(piped):
    rules = piped.resources("PymService-pipeline", "AWS::CodeStarNotifications::NotificationRule")
    assert len(rules) == 1
    events = set(next(iter(rules.values()))["Properties"]["EventTypeIds"])
    assert "codepipeline-pipeline-pipeline-execution-failed" in events
    assert "codepipeline-pipeline-manual-approval-needed" in events
    subs = piped.resources("PymService-pipeline", "AWS::SNS::Subscription")
    assert [s["Properties"]["Endpoint"] for s in subs.values()] == ["releases@example.com"]


def test_cfn_lint_has_no_errors_on_the_pipeline_and_its_stages(piped):
    templates = [
        piped.outdir / "PymService-pipeline.template.json",
        *sorted(piped.outdir.glob("assembly-*/*.template.json")),
    ]
    assert len(templates) == 3
    proc = cfn_lint(templates)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cdk_nag_is_clean_and_every_acknowledgement_has_a_reason(piped):
    violations = nag_violations(piped.outdir)
    assert violations == []
    acks = {}
    for construct in piped.stacks.pipeline.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == "aws:cdk:acknowledged-rules":
                for rule, reason in entry.data.items():
                    if "AwsSolutions-" in rule:
                        acks[f"{construct.node.path} {rule}"] = reason
    assert any("AwsSolutions-CB3" in k and "/Staging/Image/" in k for k in acks)
    assert not any("AwsSolutions-CB3" in k and "/Image/" not in k for k in acks)
    for key, reason in acks.items():
        assert reason.strip().endswith(".") and reason.count(". ") == 0, key
    # nag also checked the pipeline's stage stacks (same acknowledgements as direct ones)
    staged = [k for k in acks if "/Staging/Service/Roles/" in k or "/Live/Service/Roles/" in k]
    assert staged


def test_codecommit_source_without_approval(tmp_path):
    config = tmp_path / "pym-config.yaml"
    text = (CONFIGS / "pipeline.yaml").read_text()
    head = text.split("pipeline:")[0]
    config.write_text(
        head + "pipeline:\n  codecommit_repository: testsvc\n  branch: release\n"
        "  manual_approval: false\n"
    )
    synth = synthesize(config, tmp_path / "cdk.out", COMMIT, quality_gates=False)
    order = dict(stages(synth.templates))
    assert order["Live"][:2] == ["ImageScanGate", "PromoteImage"]  # no approval step
    source = action(synth.templates, order["Source"][0])
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["BranchName"] == "release"
    # CodeCommit pushes trigger through an EventBridge rule on that branch
    rules = synth.resources("PymService-pipeline", "AWS::Events::Rule")
    patterns = [r["Properties"]["EventPattern"] for r in rules.values()]
    assert any(p["detail"]["referenceName"] == ["release"] for p in patterns)


def test_no_pipeline_section_means_no_pipeline_stack(synthesized):
    assert synthesized.stacks.pipeline is None
    assert sorted(synthesized.templates) == [
        "PymService-live",
        "PymService-network",
        "PymService-shared",
        "PymService-staging",
    ]


@pytest.mark.parametrize(
    "block, key, message",
    [
        (
            "  connection_arn: arn:aws:codeconnections:eu-west-1:1:connection/x\n"
            "  repository: a/b\n  codecommit_repository: b\n  branch: main\n",
            "pipeline",
            "got both",
        ),
        ("  branch: main\n", "pipeline", "expected a source"),
        ("  repository: a/b\n  branch: main\n", "pipeline.connection_arn", "needs"),
        ("  codecommit_repository: b\n", "pipeline.branch", "branch"),
    ],
)
def test_pipeline_config_errors_name_the_key(tmp_path, block, key, message):
    from pymacaron_kit.config import load_service_config

    path = tmp_path / "pym-config.yaml"
    path.write_text("name: svc\npipeline:\n" + block)
    with pytest.raises(StartupError) as err:
        load_service_config(str(path))
    assert f"key '{key}'" in str(err.value) and message in str(err.value)
    assert "pym-config.yaml" in str(err.value)


def test_a_name_too_long_for_pipeline_environments_is_refused(tmp_path):
    from pymacaron_kit.config import load_service_config

    path = tmp_path / "pym-config.yaml"
    path.write_text(
        "name: a-very-long-service-name-here\npipeline: {codecommit_repository: r, branch: main}\n"
    )
    with pytest.raises(StartupError) as err:
        load_service_config(str(path))
    assert "key 'name'" in str(err.value) and "40 characters" in str(err.value)
