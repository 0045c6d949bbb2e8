"""x-persist tables in the stage stacks: properties, grants, environment, key-schema lock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pymacaron.exceptions import StartupError
from tests.infra.infra_helpers import CONFIGS, cfn_lint, nag_violations, option, synthesize

ENV = "aws:elasticbeanstalk:application:environment"

SPEC = """
swagger: "2.0"
info: {title: t, version: "1"}
paths: {}
definitions:
  Pet:
    type: object
    required: [id, name]
    x-persist:
      table: pets
      key: id
      index: {name: by_name, key: name}
    properties:
      id: {type: integer}
      name: {type: string}
  Visit:
    type: object
    required: [pet_id, at]
    x-persist: {table: visits, key: pet_id, sort_key: at}
    properties:
      pet_id: {type: integer}
      at: {type: string}
  Memo:
    type: object
    x-persist: tests.infra.test_tables.NoStore
    properties:
      text: {type: string}
"""


def service_dir(tmp: Path, spec: str = SPEC, extra: str = "") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(CONFIGS / "service.yaml", tmp / "pym-config.yaml")
    if extra:
        with open(tmp / "pym-config.yaml", "a") as f:
            f.write(extra)
    (tmp / "apis").mkdir(exist_ok=True)
    (tmp / "apis" / "testsvc.yaml").write_text(spec)
    return tmp


@pytest.fixture(scope="module")
def with_tables(tmp_path_factory):
    root = service_dir(tmp_path_factory.mktemp("svc"))
    return root, synthesize(root / "pym-config.yaml", root / "cdk.out")


def tables(synth, stack: str) -> dict[str, dict]:
    return {
        r["Properties"]["TableName"]: r
        for r in synth.resources(stack, "AWS::DynamoDB::Table").values()
    }


def test_each_persisted_table_is_in_each_stage_stack(with_tables):
    _, synth = with_tables
    for stage in ("staging", "live"):
        found = tables(synth, f"PymService-{stage}")
        # the short form (a class of the service's own) has no table
        assert sorted(found) == [f"testsvc-{stage}-pets", f"testsvc-{stage}-visits"]
        pets = found[f"testsvc-{stage}-pets"]["Properties"]
        assert pets["BillingMode"] == "PAY_PER_REQUEST"
        assert pets["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        assert pets["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert pets["SSESpecification"] == {"SSEEnabled": True}
        assert pets["GlobalSecondaryIndexes"][0]["IndexName"] == "by_name"
        visits = found[f"testsvc-{stage}-visits"]["Properties"]
        assert visits["KeySchema"][1] == {"AttributeName": "at", "KeyType": "RANGE"}


def test_live_tables_are_protected_and_retained_staging_ones_go_with_the_stack(with_tables):
    _, synth = with_tables
    for table in tables(synth, "PymService-live").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    for table in tables(synth, "PymService-staging").values():
        assert not table["Properties"].get("DeletionProtectionEnabled")
        assert table["DeletionPolicy"] == "Delete"


def test_the_instance_role_gets_exactly_the_item_actions_on_these_tables(with_tables):
    _, synth = with_tables
    template = synth.templates["PymService-live"]
    statements = [
        s
        for p in synth.resources("PymService-live", "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    dynamo = [
        s for s in statements if any(str(a).startswith("dynamodb:") for a in _list(s["Action"]))
    ]
    assert len(dynamo) == 1
    grant = dynamo[0]
    assert sorted(grant["Action"]) == sorted(
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Query"]
    )
    ids = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
    text = json.dumps(grant["Resource"])
    assert all(i in text for i in ids) and "/index/by_name" in text and "*" not in text
    roles = [
        p["Properties"]["Roles"]
        for p in synth.resources("PymService-live", "AWS::IAM::Policy").values()
        if grant in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert "InstanceRole" in json.dumps(roles)


def _list(value):
    return value if isinstance(value, list) else [value]


def test_table_names_reach_the_app_in_the_environment(with_tables):
    _, synth = with_tables
    template = synth.templates["PymService-staging"]
    pets = option(template, ENV, "PYM_DYNAMODB_TABLE_PETS")
    visits = option(template, ENV, "PYM_DYNAMODB_TABLE_VISITS")
    ids = {
        r["Properties"]["TableName"]: k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert pets == {"Ref": ids["testsvc-staging-pets"]}
    assert visits == {"Ref": ids["testsvc-staging-visits"]}
    assert option(template, ENV, "PYM_DYNAMODB_REGION") == {"Ref": "AWS::Region"}


def test_quality_gates_pass_with_tables(with_tables):
    root, synth = with_tables
    assert nag_violations(synth.outdir) == []
    result = cfn_lint(sorted(synth.outdir.glob("*.template.json")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_key_schemas_are_recorded(with_tables):
    root, _ = with_tables
    lock = json.loads((root / "pym-tables.lock.json").read_text())["tables"]
    assert lock == {
        "pets": {"key": ["id", "N"]},
        "visits": {"key": ["pet_id", "N"], "sort_key": ["at", "S"]},
    }


def test_a_key_schema_change_is_refused_at_synth(with_tables, tmp_path):
    from aws_cdk import App

    from infra.stacks import build_app

    root, _ = with_tables
    changed = service_dir(
        tmp_path / "svc", SPEC.replace("key: pet_id, sort_key: at", "key: pet_id")
    )
    shutil.copy(root / "pym-tables.lock.json", changed / "pym-tables.lock.json")
    with pytest.raises(StartupError) as e:
        build_app(
            App(outdir=str(tmp_path / "out")),
            str(changed / "pym-config.yaml"),
            quality_gates=False,
            environ={},
        )
    message = str(e.value)
    assert "apis/testsvc.yaml" in message or "testsvc.yaml" in message
    assert "definitions.Visit.x-persist" in message
    assert (
        "table 'visits' changed from key pet_id (N) + sort_key at (S) to key pet_id (N)" in message
    )
    assert "replace the table" in message
    # a dropped table is refused too
    dropped = service_dir(
        tmp_path / "svc2", SPEC.replace("x-persist: {table: visits, key: pet_id, sort_key: at}", "")
    )
    shutil.copy(root / "pym-tables.lock.json", dropped / "pym-tables.lock.json")
    with pytest.raises(StartupError, match="visits recorded in pym-tables.lock.json are no longer"):
        build_app(
            App(outdir=str(tmp_path / "out2")),
            str(dropped / "pym-config.yaml"),
            quality_gates=False,
            environ={},
        )


def test_provisioned_capacity_comes_from_pym_config(tmp_path):
    from aws_cdk import App, Stack
    from aws_cdk import aws_iam as iam
    from aws_cdk.assertions import Template

    from infra.tables import service_tables, table_settings

    root = service_dir(
        tmp_path / "svc",
        extra="dynamodb_billing_mode: PROVISIONED\ndynamodb_read_capacity: 7\ndynamodb_write_capacity: 3\n",
    )
    stack = Stack(App(), "T")
    role = iam.Role(stack, "R", assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"))
    service_tables(
        stack,
        "Tables",
        config_path=str(root / "pym-config.yaml"),
        stage="staging",
        name_prefix="testsvc",
        grantee=role,
    )
    props = Template.from_stack(stack).find_resources("AWS::DynamoDB::Table")
    pets = next(r for r in props.values() if r["Properties"]["TableName"].endswith("pets"))
    assert pets["Properties"].get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert pets["Properties"]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 3,
    }
    assert pets["Properties"]["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"] == {
        "ReadCapacityUnits": 7,
        "WriteCapacityUnits": 3,
    }
    missing = service_dir(tmp_path / "svc2", extra="dynamodb_billing_mode: PROVISIONED\n")
    with pytest.raises(StartupError, match="needs dynamodb_read_capacity"):
        table_settings(str(missing / "pym-config.yaml"), "live")


# on the worker that holds the session's synthesized app (xdist group "cdk"): elsewhere
# this one test would synthesize the whole app again
@pytest.mark.xdist_group("cdk")
def test_a_service_without_x_persist_has_no_tables_and_no_table_grants(synthesized):
    for stack in ("PymService-staging", "PymService-live"):
        assert synthesized.resources(stack, "AWS::DynamoDB::Table") == {}
        assert "dynamodb:" not in json.dumps(synthesized.templates[stack])


class NoStore:
    """The short form's class (never called here: it has no table in the stacks)."""

    @staticmethod
    def save_to_db(model):
        raise NotImplementedError

    @staticmethod
    def load_from_db(*args):
        raise NotImplementedError
