"""Bare Flask: the same three endpoints, no validation at all (the baseline)."""

from data import NEW_ID, PETS, PETS_BY_ID
from flask import Flask, abort, request

app = Flask(__name__)


@app.get("/ping")
def ping():
    return {}


@app.get("/pets/<int:pet_id>")
def get_pet(pet_id):
    pet = PETS_BY_ID.get(pet_id)
    if pet is None:
        abort(404)
    return pet


@app.get("/pets")
def list_pets():
    limit = request.args.get("limit", 20, type=int)
    return PETS[:limit]


@app.post("/pets")
def create_pet():
    body = request.get_json()
    return {**body, "id": NEW_ID, "status": "available"}, 201
