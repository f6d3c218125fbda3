"""Start the SEKMET FHIR R4 server (PyPI sekmet-fhir 0.1.1) for the oneup-client integration tests.

Run with the project's virtualenv (made by scripts/install-test-servers.sh):

    .venv/bin/python scripts/sekmet-serve.py [--port 0] [--data-dir DIR] [--jwks-url URL --issuer ISS]

It binds 127.0.0.1 itself (port 0: a free port chosen by the OS), sets SEKMET's base URL to that real address so
the `next` links it writes point back at it, and prints one JSON line `{"base_url": ...}` on stdout once it serves.

Bearer tokens: SEKMET on its own accepts static tokens, or HS256 tokens from its own client-credentials endpoint.
The tests get their tokens from a separate OAuth2 server (oauth2-mock-server), which signs RS256 JWTs and publishes
its keys at /jwks. With --jwks-url this launcher makes SEKMET a resource server of that issuer, as a real
deployment would be: a bearer JWT is checked against the issuer's JWKS (signature, `iss`, `exp`); an expired one
is refused with 401 and an OperationOutcome (code `expired`), exactly as SEKMET refuses its own expired tokens.
The same check guards SEKMET's bulk-data routes (`$export` status polling and the NDJSON files), whose manifest
then says `requiresAccessToken: true`.
Without --jwks-url SEKMET's own checks apply unchanged.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--data-dir", default=None, help="where SEKMET keeps its SQLite store (default: a temp dir)")
    ap.add_argument("--jwks-url", default=None, help="trust bearer JWTs signed by the keys published here")
    ap.add_argument("--issuer", default=None, help="required `iss` of those JWTs")
    args = ap.parse_args()

    import jwt
    import uvicorn
    from sekmet.config import Settings, set_settings
    from sekmet.bulk import server as bulk_server
    from sekmet.fhir import router as fhir_router
    from sekmet.fhir.common import FhirError
    from sekmet.main import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}/fhir"
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="sekmet-")

    settings = Settings.model_validate({
        "base_url": base_url,
        "host": "127.0.0.1",
        "port": port,
        "data_dir": data_dir,
        "server_auth": {"types": ["bearer"] if args.jwks_url else ["none"], "tokens": []},
        "validation": {"inbound": "warn"},
        "simulator": {"enabled": False},
        "log_inbound": False,
    })
    set_settings(settings)

    if args.jwks_url:
        keys = jwt.PyJWKClient(args.jwks_url, cache_keys=True)
        challenge = {"WWW-Authenticate": 'Bearer realm="sekmet"'}

        def check_request(request, ctx) -> None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if not token:
                raise FhirError(401, "Authentication required", "login", headers=challenge)
            if scheme.lower() != "bearer":
                raise FhirError(401, f"Unsupported Authorization scheme '{scheme}'", "login", headers=challenge)
            try:
                key = keys.get_signing_key_from_jwt(token).key
                options = {"require": ["exp", "iat"], "verify_aud": False}
                jwt.decode(token, key, algorithms=["RS256"], issuer=args.issuer, options=options)
            except jwt.ExpiredSignatureError:
                raise FhirError(401, "Access token expired", "expired", headers=challenge)
            except jwt.PyJWTError as e:
                raise FhirError(401, f"Invalid access token: {e}", "login", headers=challenge)

        fhir_router.check_request = check_request  # the name the /fhir route calls on every request
        bulk_server.check_request = check_request  # and the bulk-data status and file routes

    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))

    def announce() -> None:
        while not server.started:
            time.sleep(0.02)
        print(json.dumps({"base_url": base_url, "data_dir": data_dir}), flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
