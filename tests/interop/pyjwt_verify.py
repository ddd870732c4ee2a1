#!/usr/bin/env python3
"""Verify a huren licence token with PyJWT alone, as a third party would (SPEC §3, §10).

Usage: python3 pyjwt_verify.py JWKS_FILE TOKEN_FILE

JWKS_FILE is the output of `huren trust jwks`; TOKEN_FILE holds the compact JWS printed by
`huren sign`. The key is picked by the token header's `x5t#S256`, which is the JWK's `kid`.
On success the claims are printed as JSON on stdout and the exit code is 0; on any failure a
message goes to stderr and the exit code is 1. Exit code 3: PyJWT / cryptography missing.

Only PyJWT (with its `cryptography` backend) and the standard library are used. PyJWT does not
know JWS `zip`, so a `zip: "DEF"` token (raw DEFLATE payload, as SMART Health Cards) is verified
with `PyJWS.decode_complete`, which returns the exact signed payload bytes, and then inflated
here with a hard output limit; PyJWT's claim validation only runs on unzipped payloads, and the
time claims are checked here for both.
"""

import json
import sys
import time
import zlib

try:
    import jwt
    from jwt.algorithms import has_crypto
except ImportError as e:  # pragma: no cover - environment problem, reported by the test
    print(f"PyJWT is missing ({e}): pip install pyjwt cryptography", file=sys.stderr)
    sys.exit(3)
if not has_crypto:
    print("the cryptography package is missing: pip install pyjwt cryptography", file=sys.stderr)
    sys.exit(3)

ALGORITHMS = ["ES256"]
MAX_INFLATED = 64 * 1024  # SPEC §3: verifiers inflate with a hard output limit
LEEWAY = 300  # seconds of clock skew, as huren's default


def fail(message):
    print(f"pyjwt_verify: {message}", file=sys.stderr)
    sys.exit(1)


def inflate(data):
    inflater = zlib.decompressobj(-15)  # raw DEFLATE, no zlib header (RFC 7516 "DEF")
    out = inflater.decompress(data, MAX_INFLATED)
    if inflater.unconsumed_tail or not inflater.eof:
        fail("zip=DEF payload is truncated or inflates beyond 64 KiB")
    if inflater.unused_data:
        fail("zip=DEF payload has trailing bytes")
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    with open(sys.argv[1], encoding="utf-8") as f:
        jwks = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        token = f.read().strip()

    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ALGORITHMS:
        fail(f"unexpected alg {header.get('alg')!r}")
    kid = header.get("x5t#S256")
    if not isinstance(kid, str):
        fail("the token header has no x5t#S256")

    # PyJWKSet skips keys PyJWT cannot use (an SM2 key, say) instead of failing on them.
    key_set = jwt.PyJWKSet.from_dict(jwks)
    matches = [k for k in key_set.keys if k.key_id == kid]
    if len(matches) != 1:
        fail(f"no single key with kid {kid!r} in the JWKS")
    key = matches[0]

    zip_alg = header.get("zip")
    try:
        if zip_alg is None:
            # Plain payload: let PyJWT do everything, claim checks included.
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                leeway=LEEWAY,
                options={"require": ["iss", "jti", "iat", "nbf"], "verify_aud": False},
            )
        elif zip_alg == "DEF":
            verified = jwt.api_jws.PyJWS().decode_complete(token, key, algorithms=ALGORITHMS)
            claims = json.loads(inflate(verified["payload"]).decode("utf-8"))
        else:
            fail(f"unsupported zip {zip_alg!r}")
    except jwt.PyJWTError as e:
        fail(f"{type(e).__name__}: {e}")

    if not isinstance(claims, dict):
        fail("the claims are not a JSON object")
    now = time.time()
    if not isinstance(claims.get("nbf"), int) or claims["nbf"] > now + LEEWAY:
        fail("not yet valid (nbf)")
    if "exp" in claims and (not isinstance(claims["exp"], int) or claims["exp"] < now - LEEWAY):
        fail("expired (exp)")

    json.dump(claims, sys.stdout, ensure_ascii=False)
    print()


if __name__ == "__main__":
    main()
