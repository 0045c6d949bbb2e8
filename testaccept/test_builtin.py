"""The built-in endpoints every pymacaron service serves."""

from pymacaron.testing import PyMacaronTestCase


class TestBuiltin(PyMacaronTestCase):
    def test_ping(self):
        self.assertHasPing()

    def test_version(self):
        j = self.assertHasVersion()
        self.assertEqual(j["name"], "petshop")
        self.assertEqual(j["apis"], ["petshop", "adoption"])

    def test_auth_version(self):
        j = self.assertHasAuthVersion()
        self.assertEqual(j["name"], "petshop")

    def test_unknown_path_is_a_json_404(self):
        self.assertGetReturnError("/no/such/path", 404, "NOT_FOUND")

    def test_request_id_is_returned(self):
        r = self.call("GET", "/ping", headers={"X-Request-ID": "acceptance-req-1"})
        self.assertEqual(r.headers.get("X-Request-ID"), "acceptance-req-1")
