"""Handlers of apis/adoption.yaml (OpenAPI 3.1): the shelter animals and adoption applications.

The partner shelters' animals are a fixed list (the shelters publish it); an application is
checked and acknowledged, not stored (the shelter keeps it).
"""

from __future__ import annotations

import uuid

from pymacaron.exceptions import add_error

AnimalNotFoundError = add_error("AnimalNotFoundError", "ANIMAL_NOT_FOUND", 404)
AnimalAdoptedError = add_error("AnimalAdoptedError", "ANIMAL_ALREADY_ADOPTED", 409)

ANIMALS = [
    {"id": 1, "name": "Biscuit", "species": "dog", "age": 3, "notes": None},
    {"id": 2, "name": "Pistache", "species": "cat", "age": 1, "notes": "Shy at first"},
    {"id": 3, "name": "Tofu", "species": "rabbit", "age": 5, "notes": None},
    {"id": 4, "name": "Kiwi", "species": "bird", "age": 12, "notes": "Whistles the Marseillaise"},
    {"id": 5, "name": "Moka", "species": "dog", "age": 8, "notes": "Needs a garden"},
]
ADOPTED = {3}
NOTES_FR = {2: "Timide au début", 4: "Siffle la Marseillaise", 5: "A besoin d'un jardin"}


def _localized(animal: dict, locale: str) -> dict:
    if locale == "fr" and animal["notes"] is not None:
        return {**animal, "notes": NOTES_FR[animal["id"]]}
    return animal


def list_animals(species=None, age=None, x_shop_locale="en"):
    found = [a for a in ANIMALS if a["id"] not in ADOPTED]
    if species:
        found = [a for a in found if a["species"] in species]
    if age:
        low, high = age
        found = [a for a in found if low <= a["age"] <= high]
    locale = x_shop_locale or "en"
    return [_localized(a, locale) for a in found], 200, {"Content-Language": locale}


def get_animal(animal_id):
    for animal in ANIMALS:
        if animal["id"] == animal_id:
            return animal
    raise AnimalNotFoundError(f"there is no animal with id {animal_id}")


def apply(application, adopter, x_shop_locale="en"):
    """``application``: a HouseApplication or a FlatApplication (the discriminator chose)."""
    data = application.to_json() if hasattr(application, "to_json") else dict(application)
    animal = get_animal(data["animal_id"])
    if animal["id"] in ADOPTED:
        raise AnimalAdoptedError(f"{animal['name']} has already found a home")
    return {
        "id": str(uuid.uuid4()),
        "status": "received",
        "adopter": adopter,
        "animal_id": animal["id"],
        "home": data["home"],
        "notes": data.get("notes"),
    }, 201
