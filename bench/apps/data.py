"""The data every bench server returns: 100 pets, built once (no database in the way)."""

SPECIES = ("dog", "cat", "bird", "fish", "rabbit")

PETS = [
    {
        "id": i,
        "name": f"pet-{i}",
        "species": SPECIES[i % 5],
        "status": "available",
        "price": {"amount": 10.0 + i, "currency": "EUR"},
        "tags": ["friendly", f"tag-{i % 7}"],
    }
    for i in range(1, 101)
]
PETS_BY_ID = {p["id"]: p for p in PETS}
NEW_ID = 1000
