"""Where the pet shop keeps its pets: the Pet model is ``x-persist`` (apis/petshop.yaml), so
every worker, container and host reads and writes the same DynamoDB table (dynalite locally).

Each process seeds the catalog once (conditional writes: an existing pet is left as it is).
New pets take a random id in [1000, 2**53) (an integer, as the spec says, exact in every
JSON client), written conditionally: creates never race on a read-then-guess of the
highest id.
"""

from __future__ import annotations

import secrets
import threading

from pymacaron.models import Pet
from pymacaron.persist import PersistConflictError, settings

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
MAX_ID = 2**53  # ids stay exact in JavaScript clients
STATUSES = ("available", "reserved", "sold")
INDEX = "by_status"
ADD_ATTEMPTS = 20

_lock = threading.Lock()
_seeded: set[str] = set()  # physical table names this process has seeded


def _ready() -> None:
    table = settings.table_name("pets")
    if table in _seeded:
        return
    with _lock:
        if table in _seeded:
            return
        for pet in SEED:
            try:
                Pet.from_json(pet).save()
            except PersistConflictError:
                pass  # seeded already (by this host or another)
        _seeded.add(table)


def get(pet_id: int) -> Pet | None:
    _ready()
    return Pet.load(pet_id)


def _with_status(status: str, limit: int, tags: list[str] | None) -> list[Pet]:
    found, token = [], None
    while len(found) < limit:
        page = Pet.query(status, index=INDEX, limit=100 if tags else limit, token=token)
        found += [p for p in page.items if not tags or set(tags) <= set(p.tags or [])]
        token = page.next_token
        if token is None:
            break
    return found[:limit]


def search(limit: int, status: str | None = None, tags: list[str] | None = None) -> list[Pet]:
    """Pets by id: one index query per status (never a table scan)."""
    _ready()
    pets = [p for s in ([status] if status else STATUSES) for p in _with_status(s, limit, tags)]
    return sorted(pets, key=lambda p: p.id)[:limit]


def add(pet: dict) -> Pet:
    """Store a new pet (available) under a new random id: no read of the highest id to
    guess from, so concurrent creates never contend. The write is conditional (an existing
    id is never overwritten): a collision, one in ~10^15 per pair, takes another id."""
    _ready()
    for _ in range(ADD_ATTEMPTS):
        new_id = FIRST_NEW_ID + secrets.randbelow(MAX_ID - FIRST_NEW_ID)
        candidate = Pet.from_json({**pet, "id": new_id, "status": "available"})
        try:
            return candidate.save()
        except PersistConflictError:  # that id exists: draw another
            continue
    raise PersistConflictError(f"pets: no free id after {ADD_ATTEMPTS} attempts, retry")
