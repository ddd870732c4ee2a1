#!/usr/bin/env python3
"""SM2-with-SM3 signing and verification by the system's OpenSSL 3 libcrypto, in bulk.

Used by crypto/tests/sm2.rs for the OpenSSL differential test. One `openssl dgst` process per
signature costs ~8 ms, so 10,000 triples in each direction would take minutes; this script makes
the same library calls `openssl dgst -sm3 -sign/-verify KEY -sigopt distid:ID` makes
(EVP_DigestSign/VerifyInit with SM3, then the `distid` control string on the key context,
then one-shot EVP_DigestSign/Verify), in one process. The test also runs a sample through the
`openssl dgst` command itself to tie the two together.

usage: openssl_sm2.py sign ID < lines of "pkcs8_der_hex message_hex"
           -> lines of "der_signature_hex"
       openssl_sm2.py verify ID < lines of "spki_der_hex message_hex der_signature_hex"
           -> lines of "1" (verified), "0" (refused) or "k" (OpenSSL refused the key)
"""

import ctypes
import ctypes.util
import sys

lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
P = ctypes.c_void_p
lib.OpenSSL_version.restype = ctypes.c_char_p
lib.OpenSSL_version.argtypes = [ctypes.c_int]
for name, res, args in [
    ("d2i_AutoPrivateKey", P, [P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
    ("d2i_PUBKEY", P, [P, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long]),
    ("EVP_PKEY_free", None, [P]),
    ("EVP_MD_CTX_new", P, []),
    ("EVP_MD_CTX_free", None, [P]),
    ("EVP_sm3", P, []),
    ("EVP_DigestSignInit", ctypes.c_int, [P, ctypes.POINTER(P), P, P, P]),
    ("EVP_DigestVerifyInit", ctypes.c_int, [P, ctypes.POINTER(P), P, P, P]),
    ("EVP_PKEY_CTX_ctrl_str", ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_char_p]),
    ("EVP_DigestSign", ctypes.c_int,
     [P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_size_t]),
    ("EVP_DigestVerify", ctypes.c_int,
     [P, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]),
    ("ERR_clear_error", None, []),
]:
    fn = getattr(lib, name)
    fn.restype = res
    fn.argtypes = args


def load(decoder, der):
    pointer = ctypes.c_char_p(der)
    return decoder(None, ctypes.byref(pointer), len(der))


def context(init, pkey, distid):
    md = lib.EVP_MD_CTX_new()
    pctx = P()
    if init(md, ctypes.byref(pctx), lib.EVP_sm3(), None, pkey) != 1:
        sys.exit("DigestInit failed")
    if lib.EVP_PKEY_CTX_ctrl_str(pctx, b"distid", distid) <= 0:
        sys.exit("distid refused")
    return md


def main():
    mode, distid = sys.argv[1], sys.argv[2].encode()
    version = lib.OpenSSL_version(0).decode()
    if not version.startswith("OpenSSL 3."):
        sys.exit(f"need OpenSSL 3 libcrypto, found {version}")
    out = []
    for line in sys.stdin:
        fields = [bytes.fromhex(f) for f in line.split()]
        if mode == "sign":
            key, message = fields[0], fields[1] if len(fields) > 1 else b""
            pkey = load(lib.d2i_AutoPrivateKey, key)
            if not pkey:
                sys.exit("OpenSSL refused a private key")
            md = context(lib.EVP_DigestSignInit, pkey, distid)
            size = ctypes.c_size_t(128)
            signature = ctypes.create_string_buffer(128)
            if lib.EVP_DigestSign(md, signature, ctypes.byref(size), message, len(message)) != 1:
                sys.exit("EVP_DigestSign failed")
            out.append(signature.raw[: size.value].hex())
        else:
            # An empty message is an empty hex field, which split() drops.
            key, message, signature = fields if len(fields) == 3 else (fields[0], b"", fields[1])
            pkey = load(lib.d2i_PUBKEY, key)
            if not pkey:
                lib.ERR_clear_error()
                out.append("k")
                continue
            md = context(lib.EVP_DigestVerifyInit, pkey, distid)
            ok = lib.EVP_DigestVerify(md, signature, len(signature), message, len(message))
            out.append("1" if ok == 1 else "0")
            lib.ERR_clear_error()
        lib.EVP_MD_CTX_free(md)
        lib.EVP_PKEY_free(pkey)
    sys.stdout.write("".join(line + "\n" for line in out))


main()
