"""A token issuer for the gateway's inbound-auth tests, on PyJWT and
cryptography (an implementation of JWT signing independent of ours).

    python jwt_issuer.py        # prints "listening on http://127.0.0.1:PORT"

It makes an RSA-2048 key (kid "rsa-1"), a P-256 key (kid "ec-1") and a
rogue RSA key that it never publishes, and serves on 127.0.0.1:
- /.well-known/oauth-authorization-server   RFC 8414 metadata (issuer, jwks_uri)
- /jwks                                      the JWK Set of the two published keys
- /mint?alg=RS256|ES256|none&aud=A&exp=SECONDS&iss=I&kid=K&rogue=1
  a token: `sub` "alice", `scope` "mcp", `aud` A, `exp` now+SECONDS
  (negative for expired), `iss` I (default: this issuer), header `kid` K
  (default the key's), signed by the rogue key with rogue=1.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ROGUE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(alg_cls, key, kid: str, alg: str) -> dict:
    jwk = json.loads(alg_cls.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


JWKS = {
    "keys": [
        public_jwk(RSAAlgorithm, RSA_KEY, "rsa-1", "RS256"),
        public_jwk(ECAlgorithm, EC_KEY, "ec-1", "ES256"),
    ]
}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Handler(BaseHTTPRequestHandler):
    issuer = ""

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/oauth-authorization-server":
            self.send_json(200, {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks",
                                 "token_endpoint": f"{self.issuer}/token",
                                 "response_types_supported": ["code"]})
        elif url.path == "/jwks":
            self.send_json(200, JWKS)
        elif url.path == "/mint":
            alg = q.get("alg", "RS256")
            claims = {"sub": "alice", "scope": "mcp", "aud": q.get("aud", ""),
                      "iss": q.get("iss", self.issuer),
                      "exp": int(time.time()) + int(q.get("exp", "300")),
                      "iat": int(time.time())}
            if alg == "none":
                head = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
                token = f"{head}.{b64(json.dumps(claims).encode())}."
            else:
                key = EC_KEY if alg.startswith("ES") else RSA_KEY
                if q.get("rogue"):
                    key = ROGUE_KEY
                kid = q.get("kid", "ec-1" if alg.startswith("ES") else "rsa-1")
                token = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
            data = token.encode()
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_json(404, {"error": "not_found"})


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"listening on {Handler.issuer}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
