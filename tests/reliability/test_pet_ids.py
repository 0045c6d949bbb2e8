"""The example's ``POST /pets`` under 20 concurrent writers on the image's server: every
valid create is a 201 with an id of its own (issue 26, item 8: the id was guessed from a
read of the highest one, and 10 % of creates got 409)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .support import example_token, start_image_server

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile")]

PET = {"name": "Racer", "species": "dog", "price": {"amount": 10.0, "currency": "EUR"}}


def test_concurrent_creates_all_succeed_with_distinct_ids():
    server = start_image_server()
    token = example_token()
    try:

        def create(i: int):
            with requests.Session() as s:
                return [
                    s.post(
                        server.url + "/pets",
                        json={**PET, "name": f"Racer {i}-{j}"},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=30,
                    )
                    for j in range(5)
                ]

        with ThreadPoolExecutor(20) as pool:
            replies = [r for batch in pool.map(create, range(20)) for r in batch]
        statuses = [r.status_code for r in replies]
        print("creates:", len(replies), "201s:", statuses.count(201))
        assert statuses == [201] * 100, [r.text for r in replies if r.status_code != 201][:3]
        ids = [r.json()["id"] for r in replies]
        assert len(set(ids)) == 100 and all(1000 <= i < 2**53 for i in ids)
    finally:
        server.stop()
