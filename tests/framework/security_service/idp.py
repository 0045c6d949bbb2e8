"""A local identity provider for the tests: OpenID discovery and a JWKS on 127.0.0.1, keys
it can rotate, and the ways a real one fails (down, hanging, garbage, redirecting)."""

from __future__ import annotations

import base64
import collections
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


def new_key(alg: str):
    if alg.startswith(("RS", "PS")):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def public_jwk(private, alg: str, kid: str, shape: str = "plain") -> dict:
    public = private.public_key()
    if alg.startswith(("RS", "PS")):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif alg.startswith("ES"):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    jwk.pop("key_ops", None)
    if shape == "auth0":  # https://TENANT.auth0.com/.well-known/jwks.json
        cert = _self_signed(private)
        der = cert.public_bytes(serialization.Encoding.DER)
        thumb = base64.urlsafe_b64encode(cert.fingerprint(hashes.SHA1())).rstrip(b"=").decode()
        return {
            "kty": "RSA",
            "use": "sig",
            "n": jwk["n"],
            "e": jwk["e"],
            "kid": kid,
            "x5t": thumb,
            "x5c": [base64.b64encode(der).decode()],
            "alg": alg,
        }
    if shape == "cognito":  # https://cognito-idp.REGION.amazonaws.com/POOL/.well-known/jwks.json
        return {"alg": alg, "e": jwk["e"], "kid": kid, "kty": "RSA", "n": jwk["n"], "use": "sig"}
    return {**jwk, "kid": kid, "use": "sig", "alg": alg}


def _self_signed(private):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenant.auth0.com")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(private, hashes.SHA256())
    )


class LocalIdP:
    """``idp.sign(claims, kid)``; ``idp.mode`` = ok | down | hang | garbage | notjwks |
    redirect | other-issuer; ``idp.hits[path]`` counts requests."""

    def __init__(self, issuer: str | None = None, shape: str = "plain"):
        self.keys: dict[str, tuple[str, object]] = {}
        self.published: list[str] = []
        self.shape = shape
        self.mode = "ok"
        self.hang = 10.0
        self.redirect_to = None
        self.hits: collections.Counter = collections.Counter()
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                idp.hits[self.path] += 1
                if idp.mode == "hang":
                    time.sleep(idp.hang)
                if idp.mode == "down":
                    return self._send(500, b'{"error": "down"}')
                if idp.mode == "garbage":
                    return self._send(200, b"<html>\x00\xff not json")
                if idp.mode == "redirect" and idp.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", idp.redirect_to)
                    self.end_headers()
                    return None
                if self.path == "/.well-known/openid-configuration":
                    issuer = "https://elsewhere.test" if idp.mode == "other-issuer" else idp.issuer
                    doc = {"issuer": issuer, "jwks_uri": idp.jwks_url}
                    return self._send(200, json.dumps(doc).encode())
                if self.path == "/jwks":
                    body = {"foo": 1} if idp.mode == "notjwks" else idp.jwks()
                    return self._send(200, json.dumps(body).encode())
                return self._send(404, b"{}")

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = issuer or self.url
        self.jwks_url = self.url + "/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add_key(self, kid: str, alg: str = "RS256", publish: bool = True) -> str:
        self.keys[kid] = (alg, new_key(alg))
        if publish:
            self.published.append(kid)
        return kid

    def rotate(self, new_kid: str, alg: str = "RS256") -> None:
        """The new key replaces every published one."""
        self.add_key(new_kid, alg, publish=False)
        self.published = [new_kid]

    def jwks(self) -> dict:
        keys = []
        for kid in self.published:
            alg, private = self.keys[kid]
            keys.append(public_jwk(private, alg, kid, self.shape))
        return {"keys": keys}

    def public_pem(self, kid: str) -> bytes:
        return (
            self.keys[kid][1]
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def sign(self, claims: dict, kid: str, alg: str | None = None, headers: dict | None = None):
        key_alg, private = self.keys[kid]
        return jwt.encode(
            claims, private, algorithm=alg or key_alg, headers={"kid": kid, **(headers or {})}
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
