"""Journey: the first deploy of a `pym new` repository, against an AWS emulator.

EMULATION ONLY: every AWS request goes to a moto_server on 127.0.0.1
(``AWS_ENDPOINT_URL=http://localhost:PORT``), never to AWS. The kit is the wheel built from
this repository in a fresh venv (the ``kit`` fixture of conftest.py); the repository is
``pym new shop`` in a temp directory, with ``bootstrap_qualifier: shop`` as docs/deploy.md
step 5 says. The steps run what a user runs: ``pym doctor``, ``pym bootstrap``, ``pym deploy
shared``, ``pym deploy staging --version V`` (the real CDK CLI, which the kit installs), then
each pipeline step's ``pym`` commands and the instance role's calls with credentials limited
to the policies the synthesized templates give those roles (moto's IAM enforcement).

Where the emulator stops (its limit, not the kit's): moto's CloudFormation creates the IAM
roles, the ECR repository, the VPC, SNS and the asset uploads, and skips the Elastic
Beanstalk resources (application, application version, environment): no environment runs,
so no URL answers and the stacks carry no outputs. Measured here (December 2026, moto 5):
moto evaluates ECR/SSM/CloudWatch Logs calls against the resource ``*``, so a statement
scoped to a repository ARN is DENIED by moto though AWS allows it; the policies are given
to moto with their resources widened to ``*`` (moto then checks the actions), and
tests/infra/test_step_actions.py checks the resources with a policy evaluator.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest

from tests.e2e.conftest import run
from tests.e2e.journey import add_stored_model_and_task, record_step
from tests.image.image_helpers import REPO
from tests.infra.operate_fixtures import MotoServer, manifest

pytestmark = [pytest.mark.xdist_group("journey"), pytest.mark.slow, pytest.mark.emulated]

NAME = "shop"
ACCOUNT = "123456789012"  # moto's
REGION = "eu-west-1"  # pym new's aws_region
VERSION = "v1"
COMMIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567"
STEPS: list[tuple[str, float]] = []  # (step, seconds): the closing note
# What moto's CloudFormation does not model and skips (its limit); the kit's other resources
# must be created, or the stack fails and the test with it.
SKIPPED_BY_MOTO = {
    "AWS::ElasticBeanstalk::Application",
    "AWS::ElasticBeanstalk::ApplicationVersion",
    "AWS::ElasticBeanstalk::Environment",
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::TopicPolicy",
    "AWS::SNS::Subscription",
    "AWS::EC2::FlowLog",
    "AWS::Route53::RecordSet",
    "AWS::CDK::Metadata",
    "AWS::SQS::QueuePolicy",
}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield server
    finally:
        server.stop()
        print("\ndeploy journey steps: " + ", ".join(f"{s} {t:.0f} s" for s, t in STEPS))


@pytest.fixture(scope="module")
def journey(kit, moto, tmp_path_factory):
    """(repo, env): `pym new shop` outside this repository, AWS pointed at moto."""
    where = tmp_path_factory.mktemp("deploy-user")
    assert not str(where).startswith(REPO)
    env = {k: v for k, v in kit["env"].items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(
        AWS_ENDPOINT_URL=moto.url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION, PYM_CACHE_DIR=str(where / "cache"),
        CDK_DISABLE_VERSION_CHECK="1", CDK_DISABLE_CLI_TELEMETRY="true",
    )  # fmt: skip
    run([str(kit["bin"] / "pym"), "new", NAME], cwd=str(where), env=env)
    repo = where / NAME
    assert not (repo / "node_modules").exists() and not (repo / "package.json").exists()
    config = repo / "pym-config.yaml"
    config.write_text(config.read_text() + "\nbootstrap_qualifier: shop\n")
    # a stored model (a DynamoDB table per stage) and a task (an SQS queue per stage)
    add_stored_model_and_task(repo, NAME)
    return repo, env


def pym(kit, journey, *args, timeout=600, check=True, env=None, step=None):
    repo, base = journey
    started = time.monotonic()
    proc = run([str(kit["bin"] / "pym"), *args], cwd=str(repo), env={**base, **(env or {})},
               timeout=timeout, check=check)  # fmt: skip
    if step:
        STEPS.append((step, time.monotonic() - started))
        record_step("deploy journey", step, STEPS[-1][1])
    return proc


def aws(moto, service: str, **keys):
    import boto3

    creds = keys or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    return boto3.client(service, region_name=REGION, endpoint_url=moto.url, **creds)


def doctor_lines(proc) -> dict[str, str]:
    out = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"doctor: (ok|MISSING)\s+([^:]+): (.*)", line)
        if m:
            out[m.group(2)] = f"{m.group(1)} {m.group(3)}"
    return out


def test_1_doctor_names_what_the_first_deploy_lacks_with_the_fix(kit, journey, moto):
    proc = pym(kit, journey, "doctor", check=False, step="doctor")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = doctor_lines(proc)
    assert lines["credentials"].startswith(f"ok account {ACCOUNT}")
    assert lines["region"] == f"ok {REGION} (from aws_region)"
    assert lines["bootstrap"].startswith("MISSING no /cdk-bootstrap/shop/version (qualifier shop)")
    assert (
        "-> pym bootstrap --execution-policy ARN (cdk bootstrap aws://123456789012/eu-west-1 "
        "--qualifier shop --toolkit-stack-name CDKToolkit-shop" in lines["bootstrap"]
    )
    assert lines["platform"].startswith("MISSING") and "pym platform refresh" in lines["platform"]
    assert (
        "placeholder" in lines["pipeline source"]
        and "create-connection" in lines["pipeline source"]
    )
    assert (
        lines["kit for CodeBuild"].startswith("MISSING")
        and "pipeline.wheelhouse" in (lines["kit for CodeBuild"])
    )
    assert "doctor: 4 missing" in proc.stdout


def test_2_bootstrap_creates_the_services_own_toolkit_stack(kit, journey, moto):
    out = pym(kit, journey, "bootstrap", "--print-policy").stdout
    policy = aws(moto, "iam").create_policy(PolicyName="pym-shop-cfn-exec", PolicyDocument=out)
    arn = policy["Policy"]["Arn"]
    proc = pym(kit, journey, "bootstrap", "--execution-policy", arn, timeout=600, step="bootstrap")
    assert "installing the CDK CLI aws-cdk@" in proc.stdout  # no node_modules, no npx
    assert "--toolkit-stack-name CDKToolkit-shop" in proc.stdout
    stacks = {s["StackName"] for s in aws(moto, "cloudformation").describe_stacks()["Stacks"]}
    assert stacks == {"CDKToolkit-shop"}  # never the account's CDKToolkit
    version = aws(moto, "ssm").get_parameter(Name="/cdk-bootstrap/shop/version")["Parameter"]
    assert int(version["Value"]) >= 6
    lines = doctor_lines(pym(kit, journey, "doctor", check=False))
    assert lines["bootstrap"].startswith("ok qualifier shop, stack CDKToolkit-shop")


def test_3_deploy_shared_with_the_kits_cdk_cli(kit, journey, moto):
    proc = pym(kit, journey, "deploy", "shared", "--yes", timeout=600, step="deploy shared")
    assert "deploy: PymService-shared done" in proc.stdout
    repo = aws(moto, "ecr").describe_repositories(repositoryNames=[NAME])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    # the emulator's limit: its CloudFormation skips the Beanstalk application
    assert aws(moto, "elasticbeanstalk").describe_applications()["Applications"] == []


def test_4_deploy_staging_with_a_version_as_far_as_the_emulator_goes(kit, journey, moto):
    repo, _ = journey
    proc = pym(kit, journey, "deploy", "staging", "--version", VERSION, "--yes", timeout=900,
               step="deploy staging")  # fmt: skip
    assert "doubles load balancers and instances" in proc.stdout  # pym new has a pipeline:
    cfn = aws(moto, "cloudformation")
    stacks = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert stacks == {
        "CDKToolkit-shop": "CREATE_COMPLETE",
        f"{NAME}-shared": "CREATE_COMPLETE",
        "pym-network": "CREATE_COMPLETE",
        f"{NAME}-staging": "CREATE_COMPLETE",
    }
    # The source bundle reached the bootstrap's bucket, naming the image in the account of
    # the credentials (pym-config has no aws_account: issue 24 item 2).
    s3 = aws(moto, "s3")
    bucket = f"cdk-shop-assets-{ACCOUNT}-{REGION}"
    zips = [
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"] if o["Key"].endswith(".zip")
    ]
    dockerruns = []
    for key in zips:
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "Dockerrun.aws.json" in z.namelist():
                dockerruns.append(json.loads(z.read("Dockerrun.aws.json")))
                assert ".ebextensions/imds-hop-limit.config" in z.namelist()
                # the platform's nginx refuses in the service's error body (infra/proxy.py)
                assert ".platform/nginx/conf.d/elasticbeanstalk/pym-errors.conf" in z.namelist()
    assert [d["Image"]["Name"] for d in dockerruns] == [
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAME}:{VERSION}"
    ]
    # Everything else of the template exists; what moto skipped is only what it cannot model.
    template = json.loads((repo / "cdk.out" / "PymService-staging.template.json").read_text())
    wanted = {r["Type"] for r in template["Resources"].values()}
    made = {
        r["ResourceType"]
        for r in cfn.describe_stack_resources(StackName=f"{NAME}-staging")["StackResources"]
        if r.get("ResourceType")
    }
    skipped = wanted - made
    assert "AWS::ElasticBeanstalk::Environment" in skipped
    assert skipped <= SKIPPED_BY_MOTO, skipped - SKIPPED_BY_MOTO
    assert {"AWS::IAM::Role", "AWS::IAM::InstanceProfile", "AWS::SNS::Topic"} <= made
    # Where the emulator stops: no Beanstalk environment runs, so nothing serves the version
    # and the stack has no outputs (they name the environment's URL).
    assert aws(moto, "elasticbeanstalk").describe_environments()["Environments"] == []
    assert "Outputs" not in cfn.describe_stacks(StackName=f"{NAME}-staging")["Stacks"][0]


def _resolved(statements: list[dict], widen: bool) -> list[dict]:
    """Template statements for moto's account; ``widen``: resources ``*`` (see above)."""
    from tests.infra.step_calls import resolve

    out = []
    for s in statements:
        s = resolve(s, account=ACCOUNT, region=REGION)
        if widen:
            s = {**s, "Resource": "*"}
        out.append(s)
    return out


def _step_roles(template: dict) -> dict[str, tuple[list[str], list[dict]]]:
    """Pipeline action name -> (its buildspec's build commands, its role's statements)."""
    res = template["Resources"]
    pipeline = next(r for r in res.values() if r["Type"] == "AWS::CodePipeline::Pipeline")
    out = {}
    for stage in pipeline["Properties"]["Stages"]:
        for action in stage["Actions"]:
            project = (action.get("Configuration") or {}).get("ProjectName")
            if not isinstance(project, dict) or "Ref" not in project:
                continue
            props = res[project["Ref"]]["Properties"]
            if not props["Source"].get("BuildSpec", "").startswith("{"):
                continue  # the asset step's buildspec is a file asset
            spec = json.loads(props["Source"]["BuildSpec"])
            role = props["ServiceRole"]["Fn::GetAtt"][0]
            statements = []
            for r in res.values():
                if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]:
                    statements += r["Properties"]["PolicyDocument"]["Statement"]
            out[action["Name"]] = (spec["phases"]["build"]["commands"], statements)
    return out


def _user(iam, name: str, statements: list[dict]) -> dict:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="role",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))  # fmt: skip
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {
        "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }


def test_5_every_pipeline_step_runs_with_only_its_roles_permissions(kit, journey, moto):
    """Each ECR step's buildspec commands, run with credentials limited to the policy the
    synthesized pipeline template gives that step's role. The old Image policy (without
    ecr:DescribeImages) is run too, as the control that moto enforces: it is denied."""
    repo, _ = journey
    template = json.loads((repo / "cdk.out" / "PymService-pipeline.template.json").read_text())
    roles = _step_roles(template)
    assert {"Image", "ImageScanGate", "PromoteImage", "Synth", "SmokeTest"} <= set(roles)
    ecr = aws(moto, "ecr")
    ecr.put_image(repositoryName=NAME, imageManifest=manifest(COMMIT), imageTag=COMMIT)
    ecr.start_image_scan(repositoryName=NAME, imageId={"imageTag": COMMIT})  # scan on push
    iam = aws(moto, "iam")
    users = {n: _user(iam, f"step-{n}", _resolved(roles[n][1], widen=True))
             for n in ("Image", "ImageScanGate", "PromoteImage")}  # fmt: skip
    old_image = [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                 {"Effect": "Allow", "Resource": "*", "Action": [
                     "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload",
                     "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage",
                     "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]  # fmt: skip
    users["old Image"] = _user(iam, "step-old-image", old_image)
    uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{NAME}"
    variables = {"COMMIT_ID": COMMIT, "REPOSITORY_URI": uri}
    moto.enforce_iam(True)
    started = time.monotonic()
    try:
        for name in ("Image", "ImageScanGate", "PromoteImage", "old Image"):
            commands = roles["Image" if name == "old Image" else name][0]
            for line in commands:
                line = re.sub(r'"\$(\w+)"', lambda m: variables[m.group(1)], line)
                argv = line.split()
                assert argv[0] == "pym", line
                proc = pym(kit, journey, *argv[1:], env=users[name], check=False, timeout=120)
                if name == "old Image":  # moto answers ECR's JSON protocol with an XML 403
                    assert proc.returncode != 0, proc.stdout + proc.stderr
                    assert "not authorized to perform: ecr:DescribeImages" in proc.stderr
                    break
                assert proc.returncode == 0, f"{name}: {line}\n{proc.stdout}\n{proc.stderr}"
    finally:
        moto.enforce_iam(False)
    STEPS.append(("pipeline steps under IAM", time.monotonic() - started))
    record_step("deploy journey", *STEPS[-1])
    tags = {
        t for i in ecr.describe_images(repositoryName=NAME)["imageDetails"] for t in i["imageTags"]
    }
    assert f"live-{COMMIT}" in tags  # the promote step really ran


def test_6_the_instance_role_pulls_the_image_and_reads_its_secret(kit, journey, moto):
    """The deployed instance role (assumed through STS), its policy as deployed, with
    resources widened for moto: ECR login and pull, the stage's secret, its logs."""
    import boto3

    repo, _ = journey
    cfn = aws(moto, "cloudformation")
    resources = cfn.describe_stack_resources(StackName=f"{NAME}-staging")["StackResources"]
    role = next(r["PhysicalResourceId"] for r in resources
                if r.get("ResourceType") == "AWS::IAM::Role" and "InstanceRole" in r["LogicalResourceId"])  # fmt: skip
    template = json.loads((repo / "cdk.out" / "PymService-staging.template.json").read_text())
    statements = [
        s
        for r in template["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        and "InstanceRole" in json.dumps(r["Properties"]["Roles"])
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    iam = aws(moto, "iam")
    iam.put_role_policy(RoleName=role, PolicyName="widened-for-moto",
                        PolicyDocument=json.dumps({"Version": "2012-10-17",
                                                   "Statement": _resolved(statements, widen=True)}))  # fmt: skip
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        if name != "widened-for-moto":
            iam.delete_role_policy(RoleName=role, PolicyName=name)
    arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    creds = aws(moto, "sts").assume_role(RoleArn=arn, RoleSessionName="i-0123")["Credentials"]
    keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}  # fmt: skip
    aws(moto, "ssm").put_parameter(Name=f"/{NAME}/staging/jwt-secret", Value="x" * 32,
                                   Type="SecureString")  # fmt: skip
    aws(moto, "ecr").put_image(repositoryName=NAME, imageManifest=manifest(VERSION),
                               imageTag=VERSION)  # fmt: skip
    aws(moto, "logs").create_log_group(
        logGroupName=f"/aws/elasticbeanstalk/{NAME}-staging/var/log/eb-docker/containers/eb-current-app/stdouterr.log"
    )
    moto.enforce_iam(True)
    try:
        ecr = aws(moto, "ecr", **keys)
        assert ecr.get_authorization_token()["authorizationData"]
        assert ecr.batch_get_image(repositoryName=NAME, imageIds=[{"imageTag": VERSION}])["images"]
        ssm = aws(moto, "ssm", **keys)
        got = ssm.get_parameters(Names=[f"/{NAME}/staging/jwt-secret"], WithDecryption=True)
        assert got["Parameters"][0]["Value"] == "x" * 32
        logs = aws(moto, "logs", **keys)
        group = f"/aws/elasticbeanstalk/{NAME}-staging/var/log/eb-docker/containers/eb-current-app/stdouterr.log"
        logs.create_log_stream(logGroupName=group, logStreamName="i-0123")
        logs.put_log_events(logGroupName=group, logStreamName="i-0123",
                            logEvents=[{"timestamp": int(time.time() * 1000), "message": "up"}])  # fmt: skip
        # and nothing the role was not given: no push
        with pytest.raises(boto3.session.botocore.exceptions.ClientError, match="403|AccessDenied"):
            ecr.put_image(repositoryName=NAME, imageManifest=manifest("x-evil"), imageTag="x-evil")
    finally:
        moto.enforce_iam(False)


# The service as the instance runs it (the stage's environment variables), in the kit's venv:
# it stores a model and enqueues a task while every boto3 call is recorded.
SERVICE_CALLS = """
import importlib.util, json, sys

spec = importlib.util.spec_from_file_location("step_calls", sys.argv[1])
step_calls = importlib.util.module_from_spec(spec)
spec.loader.exec_module(step_calls)
sys.path.insert(0, ".")
with step_calls.recorded_calls() as calls:
    import server

    client = server.app.test_client()
    replies = [
        client.post("/bookmarks", json={"id": "moto-1", "url": "https://m.example"}).status_code,
        client.get("/bookmarks/moto-1").status_code,
        client.post("/bookmarks/moto-1/archive").status_code,
    ]
with open(sys.argv[2], "w") as f:
    json.dump({"replies": replies, "calls": calls}, f, default=str)
"""


def _deployed(moto, stack: str) -> tuple[dict, dict]:
    """(refs, attrs) of a stack moto deployed: logical id -> physical id, and the ARNs of its
    tables and queues as moto reports them (``"Logical.Arn"``)."""
    resources = aws(moto, "cloudformation").describe_stack_resources(StackName=stack)
    refs, attrs = {}, {}
    for r in resources["StackResources"]:
        logical, physical = r.get("LogicalResourceId"), r.get("PhysicalResourceId")
        if not logical or not physical:  # what moto skipped (module docstring)
            continue
        refs[logical] = physical
        if r["ResourceType"] == "AWS::DynamoDB::Table":
            table = aws(moto, "dynamodb").describe_table(TableName=physical)["Table"]
            attrs[f"{logical}.Arn"] = table["TableArn"]
        elif r["ResourceType"] == "AWS::SQS::Queue":
            got = aws(moto, "sqs").get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )
            attrs[f"{logical}.Arn"] = got["Attributes"]["QueueArn"]
            attrs[f"{logical}.QueueName"] = physical.rsplit("/", 1)[-1]
        elif r["ResourceType"] == "AWS::IAM::Role":
            arn = aws(moto, "iam").get_role(RoleName=physical)["Role"]["Arn"]
            attrs[f"{logical}.Arn"] = arn
    return refs, attrs


def test_6_1_the_instance_role_allows_every_dynamodb_and_sqs_call_of_the_service_moto(
    kit, journey, moto, tmp_path
):
    """The service stores a Bookmark (x-persist) and enqueues a task (with_async, SQS), run
    with the staging environment's variables (table and queue names from the stack moto
    deployed) and the instance role's credentials; every boto3 call it makes is recorded.
    Each must be allowed by the instance role's statements with their real ARNs (a matcher:
    moto checks actions only, see the module's docstring), and moto enforcing the role's
    actions must let the service through. Controls: the same calls against the policy
    without dynamodb:PutItem, or scoped to another table or queue, are denied."""
    from pymacaron import __version__
    from tests.infra.step_calls import denied, resolve, role_statements

    repo, base = journey
    stack = f"{NAME}-staging"
    template = json.loads((repo / "cdk.out" / "PymService-staging.template.json").read_text())
    refs, attrs = _deployed(moto, stack)
    where = {"account": ACCOUNT, "region": REGION, "refs": refs, "attrs": attrs}
    res = template["Resources"]
    role_id = next(
        k for k, r in res.items() if r["Type"] == "AWS::IAM::Role" and "InstanceRole" in k
    )
    statements = role_statements(template, role_id, **where)
    env_ = next(r for r in res.values() if r["Type"] == "AWS::ElasticBeanstalk::Environment")
    stage_env = {
        o["OptionName"]: resolve(o["Value"], **where)
        for o in env_["Properties"]["OptionSettings"]
        if o["Namespace"] == "aws:elasticbeanstalk:application:environment"
        and o["OptionName"].startswith("PYM_")
    }
    table, queue = stage_env["PYM_DYNAMODB_TABLE_BOOKMARKS"], stage_env["PYM_TASK_QUEUE_URL"]
    assert table == f"{NAME}-staging-bookmarks" and stage_env["PYM_BROKER_URL"] == "sqs://"
    assert queue == f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{NAME}-staging-tasks"
    assert not any("<" in str(v) for v in stage_env.values()), stage_env
    # what the image holds: the wheel with the async and persist extras (not the kit), in a
    # venv of its own (the kit's is shared with the other journeys). Installed with the kit's
    # uv (a stand-in for the image's venv, not a user's command: pip took ~25 s of CPU here)
    instance = tmp_path / "instance"
    run(["python3", "-m", "venv", "--without-pip", str(instance)], cwd=str(tmp_path), env=base)
    links = [a for p in base.get("PIP_FIND_LINKS", "").split() for a in ("--find-links", p)]
    run([str(kit["bin"] / "uv"), "pip", "install", "-q", "--python", str(instance / "bin" / "python"),
         *links, f"pymacaron[async,persist]=={__version__}"], cwd=str(tmp_path), env=base,
        timeout=600)  # fmt: skip
    # the instance's credentials: the role as deployed, assumed through STS (moto checks
    # actions against resource "*", so it gets the statements with resources widened)
    iam, role = aws(moto, "iam"), refs[role_id]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    widened = [{**s, "Resource": "*"} for s in statements]
    iam.put_role_policy(RoleName=role, PolicyName="widened-for-moto",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": widened}))  # fmt: skip
    creds = aws(moto, "sts").assume_role(RoleArn=attrs[f"{role_id}.Arn"],
                                         RoleSessionName="i-0456")["Credentials"]  # fmt: skip
    script, out = tmp_path / "service_calls.py", tmp_path / "calls.json"
    script.write_text(SERVICE_CALLS)
    env = {**base, **stage_env, "PYM_ENV": "staging", "JWT_SECRET": "s" * 32,
           "AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
           "AWS_SESSION_TOKEN": creds["SessionToken"]}  # fmt: skip
    moto.enforce_iam(True)
    try:
        proc = run([str(instance / "bin" / "python"), str(script),
                    str(Path(REPO) / "tests" / "infra" / "step_calls.py"), str(out)],
                   cwd=str(repo), env=env, check=False, timeout=120)  # fmt: skip
    finally:
        moto.enforce_iam(False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    got = json.loads(out.read_text())
    assert got["replies"] == [201, 200, 202], proc.stdout[-2000:] + proc.stderr[-4000:]
    calls = [(action, params) for action, params in got["calls"]]
    actions = {a for a, _ in calls}
    assert {"dynamodb:PutItem", "dynamodb:GetItem", "sqs:SendMessage"} <= actions, actions
    # the service really stored and enqueued, in the stack's table and queue
    item = aws(moto, "dynamodb").get_item(TableName=table, Key={"id": {"S": "moto-1"}})
    assert item["Item"]["url"] == {"S": "https://m.example"}
    depth = aws(moto, "sqs").get_queue_attributes(QueueUrl=queue,
                                                  AttributeNames=["ApproximateNumberOfMessages"])  # fmt: skip
    assert int(depth["Attributes"]["ApproximateNumberOfMessages"]) >= 1
    # every call allowed by the role as synthesized, on the real table and queue ARNs
    only = [c for c in calls if c[0].split(":")[0] in ("dynamodb", "sqs")]
    assert denied(statements, only, account=ACCOUNT, region=REGION) == [], dump_calls(only)
    # controls: a missing action, another table, another queue are each caught
    no_put = [_without_action(s, "dynamodb:PutItem") for s in statements]
    assert denied(no_put, only, account=ACCOUNT, region=REGION) == [
        f"dynamodb:PutItem arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
    ]
    other_table = json.loads(json.dumps(statements).replace(f"table/{table}", "table/other"))
    assert any(
        d.startswith("dynamodb:") for d in denied(other_table, only, account=ACCOUNT, region=REGION)
    )
    other_queue = json.loads(json.dumps(statements).replace(f':{NAME}-staging-tasks"', ':other"'))
    assert other_queue != statements
    assert any(
        d.startswith("sqs:SendMessage")
        for d in denied(other_queue, only, account=ACCOUNT, region=REGION)
    )


def _without_action(statement: dict, action: str) -> dict:
    acts = statement.get("Action")
    if isinstance(acts, str):
        acts = [acts]
    if not acts or action not in acts:
        return statement
    return {**statement, "Action": [a for a in acts if a != action]}


def dump_calls(calls) -> str:
    return "\n".join(f"{a} {json.dumps(p, default=str)[:200]}" for a, p in calls)


def documented_operate_actions() -> list[str]:
    """The actions docs/operate.md lists for pym status/logs/url/rollback."""
    text = (Path(REPO) / "docs" / "operate.md").read_text()
    part = text[text.index("The IAM permissions the commands use") :]
    part = part[: part.index("\n\n")]
    return re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", part)


def test_7_the_operate_commands_run_with_their_documented_permissions(kit, journey, moto):
    """pym status / url / logs as an operator whose policy is exactly docs/operate.md's
    list: no command is denied (moto checks the actions; the stage has no Beanstalk
    environment here, so the commands report it as not running, which is not a denial)."""
    actions = documented_operate_actions()
    assert "cloudformation:DescribeStacks" in actions and len(actions) >= 10
    keys = _user(aws(moto, "iam"), "operator",
                 [{"Effect": "Allow", "Action": actions, "Resource": "*"}])  # fmt: skip
    moto.enforce_iam(True)
    try:
        for argv in (("status", "staging"), ("url", "staging"), ("logs", "staging")):
            proc = pym(kit, journey, *argv, env=keys, check=False, timeout=120)
            text = proc.stdout + proc.stderr
            assert "lacks the IAM permission" not in text and "AccessDenied" not in text, (
                argv,
                text,
            )
            assert "Traceback" not in text, text
    finally:
        moto.enforce_iam(False)
