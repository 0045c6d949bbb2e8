"""x-persist models against a real dynalite: types, conflicts, queries, bad rows, errors."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

import boto3
import pytest

from pymacaron.exceptions import StartupError
from pymacaron.persist import (
    PersistConflictError,
    PersistInvalidItemError,
    PersistPageTokenError,
    prepare_tables,
    settings,
)
from tests.conftest import REPO

UTC = dt.UTC


def raw_client(url: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def full_record(models, **over):
    data = dict(
        id="r1",
        count=3,
        big=2**62 + 1,
        ratio=450.0,
        price=0.1,
        flag=False,
        label="",
        when=dt.datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC),
        day=dt.date(2024, 2, 29),
        tags=["a", "b"],
        scores=[1.5, 2.0, -0.0001, 1e-7, 123456789.125],
        counts=[0, -1, 2],
        owner={"name": "Ann", "age": 40, "weight": 61.5},
        contacts=[{"name": "Bob"}, {"name": "Cy", "age": 0, "weight": 1.0}],
        extra={"n": 2, "f": 2.5, "s": "x", "l": [1, 2.5, None], "d": {"z": True}, "none": None},
        matrix=[[1.0, 2.5], [], [3.0]],
    )
    data.update(over)
    return models.Record(**data)


def test_every_type_round_trips_exactly(records, dynalite):
    _, m = records
    record = full_record(m)
    assert record.save() is record
    assert record.persisted_version == 1
    back = m.Record.load("r1")
    assert back == record
    assert back.persisted_version == 1
    # exact Python types, not only equal values
    assert type(back.count) is int and type(back.big) is int and back.big == 2**62 + 1
    assert type(back.ratio) is float and back.ratio == 450.0
    assert back.price == 0.1 and type(back.price) is float
    assert [type(s) for s in back.scores] == [float] * 5 and back.scores[3] == 1e-7
    assert [type(c) for c in back.counts] == [int] * 3
    assert back.flag is False and back.label == ""
    assert back.when == record.when and back.when.tzinfo is not None
    assert back.day == dt.date(2024, 2, 29) and type(back.day) is dt.date
    assert type(back.owner) is m.Owner and type(back.owner.age) is int
    assert type(back.owner.weight) is float
    assert [type(c) for c in back.contacts] == [m.Owner, m.Owner]
    assert back.contacts[1].weight == 1.0 and type(back.contacts[1].weight) is float
    # free-form: integral -> int, else float; None inside a list kept, a None value left out
    assert back.extra == {"n": 2, "f": 2.5, "s": "x", "l": [1, 2.5, None], "d": {"z": True}}
    assert type(back.extra["n"]) is int and type(back.extra["f"]) is float
    assert back.matrix == [[1.0, 2.5], [], [3.0]] and type(back.matrix[2][0]) is float
    # unset properties come back as None
    sparse = m.Record(id="r2", count=0)
    sparse.save()
    again = m.Record.load("r2")
    assert again.ratio is None and again.owner is None and again.tags is None
    assert again.to_json() == {"id": "r2", "count": 0}
    # what DynamoDB holds: numbers as N (Decimal), the hidden version beside the data
    item = raw_client(dynalite.url).get_item(
        TableName=settings.table_name("records"), Key={"id": {"S": "r1"}}
    )["Item"]
    assert item["ratio"] == {"N": "450"} and item["price"] == {"N": "0.1"}
    assert item["_version"] == {"N": "1"}
    assert item["when"] == {"S": "2026-11-30T23:59:58.123456+00:00"}


def test_float_that_dynamodb_cannot_hold_is_refused_before_writing(records):
    _, m = records
    for bad in (float("nan"), float("inf"), 1e200):
        with pytest.raises(PersistInvalidItemError, match="ratio.*cannot be stored"):
            m.Record(id="nan", count=1, ratio=bad).save()
    with pytest.raises(PersistInvalidItemError, match="38 digits"):
        m.Record(id="nan", count=1, extra={"huge": 10**40}).save()
    assert m.Record.load("nan") is None
    # below DynamoDB's smallest magnitude: stored as 0 rather than refused
    m.Record(id="tiny", count=1, ratio=1e-300, scores=[5e-324, 1e-129]).save()
    tiny = m.Record.load("tiny")
    assert tiny.ratio == 0.0 and tiny.scores == [0.0, 1e-129]


def test_conflicting_writes(records):
    _, m = records
    m.Record(id="c", count=1).save()
    first, second = m.Record.load("c"), m.Record.load("c")
    first.count = 2
    first.save()
    assert first.persisted_version == 2
    second.count = 99
    with pytest.raises(PersistConflictError) as e:
        second.save()
    assert e.value.status == 409 and e.value.code == "PERSIST_CONFLICT"
    assert "loaded version 1, stored version 2" in str(e.value)
    assert m.Record.load("c").count == 2  # the loser wrote nothing
    # a new object with an existing key is not an overwrite
    with pytest.raises(PersistConflictError, match="already exists"):
        m.Record(id="c", count=5).save()
    # a stale delete is refused too; a fresh one deletes
    with pytest.raises(PersistConflictError):
        second.delete()
    assert m.Record.load("c").delete() is True
    assert m.Record.load("c") is None
    # a clone keeps the version: saving it is an update
    m.Record(id="k", count=1).save()
    loaded = m.Record.load("k")
    copy = loaded.clone()
    copy.count = 7
    copy.save()
    assert m.Record.load("k").count == 7 and copy.persisted_version == 2


def test_version_can_be_a_visible_property(records):
    _, m = records
    counter = m.Counter(name="hits", value=0).save()
    assert counter.version == 1 and counter.to_json() == {"name": "hits", "value": 0, "version": 1}
    loaded = m.Counter.load("hits")
    loaded.value += 1
    loaded.save()
    assert loaded.version == 2
    stale = m.Counter(name="hits", value=5, version=1)
    with pytest.raises(PersistConflictError):
        stale.save()


def test_queries_with_pagination(records):
    _, m = records
    kinds = ["created", "updated", "deleted"]
    for seq in range(1, 26):
        m.Event(stream="s1", seq=seq, kind=kinds[seq % 3], payload={"n": seq}).save()
    m.Event(stream="s2", seq=1, kind="created").save()
    seen, token, pages = [], None, 0
    while True:
        page = m.Event.query("s1", limit=10, token=token)
        pages += 1
        seen += [e.seq for e in page.items]
        if page.next_token is None:
            break
        token = page.next_token
    assert seen == list(range(1, 26)) and pages in (3, 4)  # a last empty page is allowed
    assert all(type(e.payload["n"]) is int for e in m.Event.query("s1", limit=5).items)
    down = m.Event.query("s1", limit=3, descending=True)
    assert [e.seq for e in down.items] == [25, 24, 23]
    assert [e.seq for e in m.Event.query("s1", sort=("between", 5, 7)).items] == [5, 6, 7]
    assert [e.seq for e in m.Event.query("s1", sort=(">", 23)).items] == [24, 25]
    by_kind = m.Event.query("created", index="by_kind", limit=100).items
    assert [(e.stream, e.seq) for e in by_kind] == [("s2", 1)] + [
        ("s1", s) for s in range(3, 26, 3)
    ]
    # the index pages too
    first = m.Event.query("created", index="by_kind", limit=4)
    rest = m.Event.query("created", index="by_kind", limit=100, token=first.next_token)
    assert len(first.items) + len(rest.items) == len(by_kind)
    with pytest.raises(PersistPageTokenError) as e:
        m.Event.query("s1", token="not-a-token")
    assert e.value.status == 400
    with pytest.raises(ValueError, match="no index 'nope'"):
        m.Event.query("s1", index="nope")


def test_a_row_the_spec_no_longer_accepts_is_a_clear_error(records, dynalite):
    app, m = records
    client = raw_client(dynalite.url)
    client.put_item(
        TableName=settings.table_name("records"),
        Item={"id": {"S": "old"}, "count": {"S": "three"}, "_version": {"N": "4"}},
    )
    with pytest.raises(PersistInvalidItemError) as e:
        m.Record.load("old")
    message = str(e.value)
    assert "records[id='old']" in message and "count" in message
    reply = app.test_client().get("/records/old")
    assert reply.status_code == 500
    body = reply.get_json()
    assert body["error"] == "PERSIST_INVALID_ITEM" and "count" in body["error_description"]


def test_a_model_the_spec_does_not_accept_is_not_saved(records):
    _, m = records
    bad = m.Record(id="bad", count="many")
    with pytest.raises(PersistInvalidItemError, match="cannot be saved.*count"):
        bad.save()
    with pytest.raises(PersistInvalidItemError, match="id: is required"):
        m.Record(count=1).save()
    assert m.Record.load("bad") is None


def test_http_load_or_404_and_conflict_codes(records):
    app, _ = records
    client = app.test_client()
    reply = client.get("/records/missing")
    assert reply.status_code == 404 and reply.get_json()["error"] == "RECORD_NOT_FOUND"
    put = client.put("/records/h1", json={"id": "h1", "count": 2, "ratio": 1.0})
    assert put.status_code == 200, put.get_json()
    got = client.get("/records/h1").get_json()
    assert got == {"id": "h1", "count": 2, "ratio": 1.0}
    assert client.post("/counters/x/increment").get_json()["value"] == 1
    assert client.post("/counters/x/increment").get_json() == {
        "name": "x",
        "value": 2,
        "version": 2,
    }


def test_tables_are_created_only_on_a_local_endpoint(records, monkeypatch):
    from pymacaron.persist.dynamodb import DynamoDBBackend
    from pymacaron.spec.persist import parse_persist

    _, m = records
    aws = DynamoDBBackend(
        url="https://dynamodb.eu-west-1.amazonaws.com",
        environ={"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "eu-west-1"},
    )
    assert not aws.local
    spec = parse_persist(
        "Record",
        {
            "x-persist": {"table": "aaa", "key": "id"},
            "required": ["id"],
            "properties": {"id": {"type": "string"}},
        },
        {},
    )
    with pytest.raises(RuntimeError, match="not a local DynamoDB"):
        aws.ensure_table(spec)
    monkeypatch.delenv("PYM_DYNAMODB_URL")
    assert prepare_tables([m.Record]) == []  # no endpoint: AWS, the stacks own the tables
    assert settings.is_local_endpoint("http://127.0.0.1:8000")
    assert settings.is_local_endpoint("http://localhost:8000")
    assert not settings.is_local_endpoint("http://10.0.0.1:8000")


@pytest.mark.parametrize(
    "persist, location, message",
    [
        ({"table": "pets", "key": "nope"}, "x-persist.key", "'nope' is not a property"),
        ({"table": "pets", "key": "name"}, "x-persist.key", "must be a required property"),
        ({"table": "pets", "key": "id", "colour": 1}, "x-persist.colour", "unknown key"),
        ({"table": "p", "key": "id"}, "x-persist.table", "table name of 3 to 200"),
        ({"table": "pets", "key": "tags"}, "x-persist.key", "string, integer or number"),
        ({"table": "pets", "key": "id", "version": "name"}, "x-persist.version", "integer"),
        ("not a class", "x-persist", "dotted class path"),
    ],
)
def test_a_wrong_x_persist_is_a_startup_error_naming_it(tmp_path, persist, location, message):
    import yaml

    from pymacaron.spec.load import load_spec

    spec = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "definitions": {
            "Pet": {
                "type": "object",
                "required": ["id"],
                "x-persist": persist,
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    }
    path = tmp_path / "pets.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(StartupError) as e:
        load_spec(str(path))
    assert f"definitions.Pet.{location}" in str(e.value)
    assert message in str(e.value)
    assert "(line " in str(e.value)


def test_the_runtime_does_not_import_boto3_without_x_persist():
    code = (
        "import sys, os\n"
        "from tests.conftest import build_app, FIXTURES\n"
        "build_app(os.path.join(FIXTURES, 'delivery_service'), serve='delivery')\n"
        "print('boto3' in sys.modules, 'pymacaron.persist.dynamodb' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYM_DYNAMODB_URL"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["False", "False"]


def test_decimal_values_from_any_backend_are_typed_by_the_schema():
    from pymacaron.persist.convert import from_store, to_store

    defs = {"T": {"properties": {"i": {"type": "integer"}, "n": {"type": "number"}}}}
    ref = {"$ref": "#/definitions/T"}
    assert from_store({"i": Decimal("3"), "n": Decimal("3")}, ref, defs) == {"i": 3, "n": 3.0}
    assert type(from_store({"n": Decimal("3")}, ref, defs)["n"]) is float
    assert to_store({"a": 0.1, "b": [1.5], "c": None}) == {
        "a": Decimal("0.1"),
        "b": [Decimal("1.5")],
    }


def test_no_dynamodb_configured_is_a_clear_503(records, monkeypatch):
    from pymacaron.persist import reset_backends

    app, _ = records
    for name in ("PYM_DYNAMODB_URL", "PYM_DYNAMODB_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    reset_backends()
    try:
        reply = app.test_client().get("/records/x")
    finally:
        reset_backends()
    assert reply.status_code == 503
    body = reply.get_json()
    assert body["error"] == "PERSIST_UNAVAILABLE"
    assert "PYM_DYNAMODB_URL" in body["error_description"]
