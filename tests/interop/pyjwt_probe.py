#!/usr/bin/env python3
"""Exit 0 when this python3 can run pyjwt_verify.py: PyJWT with its `cryptography` backend,
new enough to verify with a PyJWK key through PyJWS.decode_complete (Debian bookworm's
python3-jwt 2.6 cannot). Used by tests/interop.rs (skip otherwise) and scripts/test (install
otherwise), so the two agree on what "PyJWT is there" means."""

import json

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm, has_crypto

assert has_crypto
key = ec.generate_private_key(ec.SECP256R1())
token = jwt.encode({"probe": True}, key, algorithm="ES256")
public = jwt.PyJWK(json.loads(ECAlgorithm.to_jwk(key.public_key())))
jwt.api_jws.PyJWS().decode_complete(token, public, algorithms=["ES256"])
