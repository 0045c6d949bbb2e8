"""Where the pet shop keeps its pets: SQLite, shared by the workers of one host.

The catalog is seeded identically on every host, so reads of seeded pets agree across
instances; pets added through the API live on the host that stored them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading

SEED = [
    {
        "id": 1,
        "name": "Rex",
        "species": "dog",
        "status": "available",
        "birth_date": "2023-04-01",
        "price": {"amount": 450.0, "currency": "EUR"},
        "tags": ["dog", "friendly", "trained"],
        "vaccinations": [{"name": "rabies", "date": "2024-05-02"}],
    },
    {
        "id": 2,
        "name": "Tom",
        "species": "cat",
        "status": "available",
        "birth_date": "2022-09-12",
        "price": {"amount": 120.0, "currency": "EUR"},
        "tags": ["cat", "indoor"],
    },
    {
        "id": 3,
        "name": "Coco",
        "species": "bird",
        "status": "sold",
        "price": {"amount": 80.0, "currency": "EUR"},
        "tags": ["bird", "talks"],
    },
    {
        "id": 4,
        "name": "Nemo",
        "species": "fish",
        "status": "available",
        "price": {"amount": 15.5, "currency": "EUR"},
        "tags": ["fish"],
    },
    {
        "id": 5,
        "name": "Bugs",
        "species": "rabbit",
        "status": "reserved",
        "price": {"amount": 60.0, "currency": "EUR"},
        "tags": ["rabbit", "friendly"],
    },
]
FIRST_NEW_ID = 1000

_lock = threading.Lock()
_ready: set[str] = set()


def db_path() -> str:
    return os.environ.get("PETSHOP_DB") or os.path.join(
        tempfile.gettempdir(), f"petshop-{os.getuid()}.sqlite3"
    )


def _connect() -> sqlite3.Connection:
    path = db_path()
    conn = sqlite3.connect(path, timeout=5)
    if path not in _ready:
        with _lock:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS pets (id INTEGER PRIMARY KEY, doc TEXT NOT NULL)"
            )
            conn.executemany(
                "INSERT OR IGNORE INTO pets (id, doc) VALUES (?, ?)",
                [(p["id"], json.dumps(p)) for p in SEED],
            )
            conn.commit()
            _ready.add(path)
    return conn


def get(pet_id: int) -> dict | None:
    with _connect() as conn:
        row = conn.execute("SELECT doc FROM pets WHERE id = ?", (pet_id,)).fetchone()
    return json.loads(row[0]) if row else None


def search(limit: int, status: str | None = None, tags: list[str] | None = None) -> list[dict]:
    with _connect() as conn:
        rows = conn.execute("SELECT doc FROM pets ORDER BY id").fetchall()
    pets = [json.loads(r[0]) for r in rows]
    if status:
        pets = [p for p in pets if p["status"] == status]
    if tags:
        pets = [p for p in pets if set(tags) <= set(p.get("tags") or [])]
    return pets[:limit]


def add(pet: dict) -> dict:
    with _connect() as conn:
        (last,) = conn.execute("SELECT MAX(id) FROM pets").fetchone()
        pet = {**pet, "id": max(last or 0, FIRST_NEW_ID - 1) + 1, "status": "available"}
        conn.execute("INSERT INTO pets (id, doc) VALUES (?, ?)", (pet["id"], json.dumps(pet)))
    return pet
