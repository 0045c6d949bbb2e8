"""The catalog: GET /pets, GET /pets/{pet_id}, POST /pets (authenticated)."""

from pymacaron.testing import PyMacaronTestCase


class TestPets(PyMacaronTestCase):
    def test_list_pets(self):
        pets = self.assertGetReturnJson("/pets", 200)
        self.assertIsInstance(pets, list)
        ids = [p["id"] for p in pets]
        self.assertIn(1, ids)
        for pet in pets:
            self.assertTrue({"id", "name", "species", "status", "price"} <= set(pet))

    def test_list_pets_filtered(self):
        pets = self.assertGetReturnJson("pets?status=available&tags=dog,friendly&limit=5", 200)
        self.assertTrue(pets)
        for pet in pets:
            self.assertEqual(pet["status"], "available")
            self.assertTrue({"dog", "friendly"} <= set(pet["tags"]))

    def test_list_pets_rejects_bad_filters(self):
        j = self.assertGetReturnError("/pets?limit=0", 400, "INVALID_PARAMETER")
        self.assertIn("limit", j["error_description"])
        self.assertGetReturnError("/pets?status=lost", 400, "INVALID_PARAMETER")

    def test_get_pet(self):
        pet = self.assertGetReturnDict("/pets/1", {"id": 1, "name": "Rex", "species": "dog"})
        self.assertEqual(pet["price"], {"amount": 450.0, "currency": "EUR"})

    def test_get_missing_pet(self):
        j = self.assertGetReturnError("/pets/99999", 404, "PET_NOT_FOUND")
        self.assertEqual(j["user_message"], "This pet is not in our shop.")

    def test_get_pet_bad_id(self):
        self.assertGetReturnError("/pets/abc", 400, "INVALID_PARAMETER")

    def test_create_pet_needs_a_token(self):
        pet = {"name": "Kiwi", "species": "bird", "price": {"amount": 40, "currency": "EUR"}}
        self.assertPostReturnError("/pets", pet, 401, "AUTHORIZATION_HEADER_MISSING")
        self.assertPostReturnError("/pets", pet, 401, "TOKEN_INVALID", auth="Bearer not-a-jwt")

    def test_create_pet(self):
        pet = {
            "name": "Kiwi",
            "species": "bird",
            "price": {"amount": 40, "currency": "EUR"},
            "tags": ["bird", "acceptance"],
        }
        auth = f"Bearer {self.token}"
        created = self.assertPostReturnJson("/pets", pet, 201, auth=auth)
        self.assertEqual(created["name"], "Kiwi")
        self.assertEqual(created["status"], "available")
        self.assertGetReturnDict(f"/pets/{created['id']}", {"name": "Kiwi", "species": "bird"})

    def test_create_pet_validates_the_body(self):
        auth = f"Bearer {self.token}"
        j = self.assertPostReturnError(
            "/pets", {"name": "X", "species": "dragon", "price": {}}, 400, "INVALID_PARAMETER", auth
        )
        self.assertIn("body", j["error_description"])
