"""The catalog is one store for every worker, container and host (x-persist, DynamoDB).

Each request below goes on a new connection (``Connection: close``), so a server with
several workers spreads them across its workers, and a load balancer across its hosts:
with a per-process store, some of them would answer 404 for a pet another one just added.
"""

from pymacaron.testing import PyMacaronTestCase

READS = 12


class TestSharedStore(PyMacaronTestCase):
    def test_a_new_pet_is_seen_by_every_worker(self):
        pet = {
            "name": "Shared",
            "species": "cat",
            "price": {"amount": 12.5, "currency": "EUR"},
            "tags": ["shared-store"],
        }
        created = self.assertPostReturnJson("/pets", pet, 201, auth=f"Bearer {self.token}")
        seen = []
        for _ in range(READS):
            seen.append(self._fresh_get(f"/pets/{created['id']}"))
        for reply in seen:
            self.assertEqual(reply, created)
        listed = self._fresh_get("/pets?status=available&tags=shared-store&limit=100")
        self.assertIn(created["id"], [p["id"] for p in listed])

    def test_two_pets_added_at_once_get_distinct_ids(self):
        from concurrent.futures import ThreadPoolExecutor

        pet = {"name": "Twin", "species": "dog", "price": {"amount": 30, "currency": "EUR"}}
        with ThreadPoolExecutor(4) as pool:
            ids = list(
                pool.map(
                    lambda _: self._fresh_post("/pets", pet)["id"],
                    range(4),
                )
            )
        self.assertEqual(len(set(ids)), 4, ids)

    # -- one request per connection ---------------------------------------------------------
    def _fresh_get(self, path: str):
        import requests

        if self.app is not None:  # in-process: one process, nothing to spread
            return self.assertGetReturnJson(path, 200)
        r = requests.get(
            self.base_url.rstrip("/") + path,
            headers={"Connection": "close"},
            timeout=20,
            verify=self.verify_ssl,
        )
        self.assertEqual(r.status_code, 200, f"GET {path}: {r.status_code} {r.text[:300]}")
        return r.json()

    def _fresh_post(self, path: str, body: dict):
        import requests

        if self.app is not None:
            return self.assertPostReturnJson(path, body, 201, auth=f"Bearer {self.token}")
        r = requests.post(
            self.base_url.rstrip("/") + path,
            json=body,
            headers={"Connection": "close", "Authorization": f"Bearer {self.token}"},
            timeout=20,
            verify=self.verify_ssl,
        )
        self.assertEqual(r.status_code, 201, f"POST {path}: {r.status_code} {r.text[:300]}")
        return r.json()
