"""The RSGI bridge's environ (run/rsgi.py ``WSGIOverRSGI._environ``): the client's address
split inline as ``_split_address`` splits the server's."""

import pytest

from pymacaron.run.rsgi import WSGIOverRSGI, _split_address


class Scope:
    def __init__(self, client: str):
        self.method, self.path, self.query_string = "GET", "/pets/1", "a=1"
        self.server, self.client = "127.0.0.1:8080", client
        self.http_version, self.scheme = "1.1", "http"


@pytest.mark.parametrize(
    ("client", "addr", "port"),
    [
        ("127.0.0.1:51000", "127.0.0.1", "51000"),
        ("[::1]:5000", "::1", "5000"),
        ("[2001:db8::7]:443", "2001:db8::7", "443"),
        ("unix", "", "unix"),  # no colon: as _split_address reads it
    ],
)
def test_the_client_address_is_split_as_the_servers(client, addr, port):
    bridge = WSGIOverRSGI(lambda environ, start_response: [b""])
    environ = bridge._environ(Scope(client), {"host": "x", "user-agent": "t"})
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == (addr, port)
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == _split_address(client)
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "8080")
    assert environ["HTTP_HOST"] == "x" and environ["QUERY_STRING"] == "a=1"
