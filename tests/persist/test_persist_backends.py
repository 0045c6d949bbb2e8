"""Backends other than DynamoDB: a Backend subclass named by `backend:`, and the original
pymacaron's short form (a class with save_to_db/load_from_db). No store process needed."""

from __future__ import annotations

import pytest
import yaml

from pymacaron.exceptions import StartupError
from pymacaron.persist import Backend, PersistConflictError, PersistInvalidItemError
from tests.conftest import reset_pymacaron


class MemoryBackend(Backend):
    """A dict per table: the interface's contract, in a few lines."""

    tables: dict = {}

    def get(self, spec, key):
        item = self.tables.setdefault(spec.table, {}).get(tuple(key.values()))
        return dict(item) if item else None

    def put(self, spec, item, expected):
        table = self.tables.setdefault(spec.table, {})
        key = tuple(spec.key_of(item).values())
        stored = table.get(key)
        if (stored or {}).get(spec.version_attribute) != expected:
            raise PersistConflictError(f"{spec.table}{list(key)}: version mismatch")
        version = (expected or 0) + 1
        table[key] = {**item, spec.version_attribute: version}
        return version

    def delete(self, spec, key, expected):
        return self.tables.setdefault(spec.table, {}).pop(tuple(key.values()), None) is not None

    def query(self, spec, value, *, index=None, sort=None, limit=50, token=None, descending=False):
        items = [i for i in self.tables.get(spec.table, {}).values() if i[spec.key] == value]
        return [dict(i) for i in items][:limit], None


class NoteStore:
    """The original contract: save_to_db(model), load_from_db(...)."""

    notes: dict = {}

    @classmethod
    def save_to_db(cls, note):
        cls.notes[note.title] = note.to_json()

    @classmethod
    def load_from_db(cls, title):
        from pymacaron.models import Note

        data = cls.notes.get(title)
        return Note.from_json(data) if data else None


def load(tmp_path, definitions: dict):
    from pymacaron.apipool import load_api

    reset_pymacaron()
    spec = {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}
    spec["definitions"] = definitions
    path = tmp_path / "mem.yaml"
    path.write_text(yaml.safe_dump(spec))
    return load_api(str(path)).model


def test_a_backend_class_named_in_x_persist(tmp_path):
    m = load(
        tmp_path,
        {
            "Thing": {
                "type": "object",
                "required": ["name", "size"],
                "x-persist": {
                    "table": "things",
                    "key": "name",
                    "backend": f"{__name__}.MemoryBackend",
                },
                "properties": {"name": {"type": "string"}, "size": {"type": "integer"}},
            }
        },
    )
    thing = m.Thing(name="box", size=3).save()
    assert thing.persisted_version == 1
    assert m.Thing.load("box") == thing and m.Thing.load("nope") is None
    stale = m.Thing.load("box")
    thing.size = 4
    thing.save()
    stale.size = 5
    with pytest.raises(PersistConflictError):
        stale.save()
    assert [t.size for t in m.Thing.query("box").items] == [4]
    with pytest.raises(PersistInvalidItemError):  # validation is the model layer's, any backend
        m.Thing(name="bad", size="big").save()
    MemoryBackend.tables["things"][("odd",)] = {"name": "odd", "size": "x", "_version": 1}
    with pytest.raises(PersistInvalidItemError, match="size"):
        m.Thing.load("odd")


def test_the_original_short_form(tmp_path):
    m = load(
        tmp_path,
        {
            "Note": {
                "type": "object",
                "x-persist": f"{__name__}.NoteStore",
                "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
            }
        },
    )
    m.Note(title="a", text="hello").save_to_db()
    assert NoteStore.notes["a"] == {"title": "a", "text": "hello"}
    assert m.Note.load_from_db("a").text == "hello"


def test_a_short_form_class_without_the_methods_is_a_startup_error(tmp_path):
    with pytest.raises(StartupError) as e:
        load(
            tmp_path,
            {"Note": {"type": "object", "x-persist": f"{__name__}.MemoryBackend"}},
        )
    assert "definitions.Note" in str(e.value) and "save_to_db" in str(e.value)
    with pytest.raises(StartupError, match="definitions.Note.*nowhere"):
        load(tmp_path, {"Note": {"type": "object", "x-persist": "nowhere.Store"}})
