import base64, hashlib, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey, Ed25519PrivateKey
from cryptography.exceptions import InvalidSignature

def leaf(d): return hashlib.sha256(b"\x00" + d).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
def mth(h):  # RFC 6962 2.1 over leaf hashes
    if not h: return hashlib.sha256(b"").digest()
    if len(h) == 1: return h[0]
    k = 1 << ((len(h) - 1).bit_length() - 1)   # largest power of 2 < n
    return node(mth(h[:k]), mth(h[k:]))
def inclusion_root(idx, size, lh, proof):  # RFC 9162 2.1.3.2
    fn, sn, r = idx, size - 1, lh
    for p in proof:
        if sn == 0: raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else: r = node(r, p)
        fn >>= 1; sn >>= 1
    if sn != 0: raise ValueError("proof too short")
    return r
def consistent(n1, n2, r1, r2, proof):  # RFC 9162 2.1.4.2
    if n1 == n2: return not proof and r1 == r2
    if n1 == 0: return not proof
    if n1 & (n1 - 1) == 0: proof = [r1] + proof
    fn, sn = n1 - 1, n2 - 1
    while fn & 1: fn >>= 1; sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0: return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0: fn >>= 1; sn >>= 1
        else: sr = node(sr, c)
        fn >>= 1; sn >>= 1
    return fr == r1 and sr == r2 and sn == 0

def key_id(name, typ, pub): return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]
def parse_vkey(v):
    name, kid, k = v.split("+", 2); raw = base64.b64decode(k)  # base64 may contain "+"
    assert key_id(name, raw[0], raw[1:]).hex() == kid and len(kid) == 8
    return name, bytes.fromhex(kid), raw[0], raw[1:]
def split_note(msg: bytes):
    s = msg.decode("utf-8"); assert all(c == "\n" or ord(c) >= 0x20 for c in s)
    i = s.rindex("\n\n"); text, sigs = s[:i+1], s[i+2:]
    assert sigs.endswith("\n")
    out = []
    for line in sigs[:-1].split("\n"):
        assert line.startswith("\u2014 "); name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True); out.append((name, raw[:4], raw[4:]))
    return text.encode(), out
def verify_note(msg, vkey):
    name, kid, typ, pub = parse_vkey(vkey); text, sigs = split_note(msg)
    ok = False
    for n, k, sig in sigs:
        if (n, k) != (name, kid): continue
        if typ == 0x01: m, s = text, sig
        elif typ == 0x04:
            ts = struct.unpack(">Q", sig[:8])[0]; m, s = b"cosignature/v1\ntime %d\n" % ts + text, sig[8:]
        Ed25519PublicKey.from_public_bytes(pub).verify(s, m)  # raises InvalidSignature
        ok = True
    return ok

# 1. RFC 6962 reference tree
L = [bytes.fromhex(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
lh = [leaf(x) for x in L]
assert mth(lh).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
assert mth(lh[:1]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
p = [bytes.fromhex(x) for x in ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7","5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e","6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]]
assert inclusion_root(0, 8, lh[0], p) == mth(lh)
# 2. signed-note spec example
vk = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
note = "This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n".encode()
assert verify_note(note, vk)
# 3. signed_note 0.2.0 doc vector: PRIVATE+KEY seed -> deterministic signature
raw = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"); sk = Ed25519PrivateKey.from_private_bytes(raw[1:])
text = b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
from cryptography.hazmat.primitives import serialization as S
pub = sk.public_key().public_bytes(S.Encoding.Raw, S.PublicFormat.Raw)
assert key_id("PeterNeumann", 1, pub).hex() == "c74f20a3"
line = "\u2014 PeterNeumann " + base64.b64encode(key_id("PeterNeumann", 1, pub) + sk.sign(text)).decode()
assert line == "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
# 4. cosignature/v1 round trip + consistency over random tree
w = Ed25519PrivateKey.generate(); wp = w.public_key().public_bytes(S.Encoding.Raw, S.PublicFormat.Raw)
wv = "w.example/w1+%s+%s" % (key_id("w.example/w1", 4, wp).hex(), base64.b64encode(b"\x04" + wp).decode())
cp = b"huren.gov.cn/log/330000\n8\n" + base64.b64encode(mth(lh)) + b"\n"
ts = 1795000000; sig = struct.pack(">Q", ts) + w.sign(b"cosignature/v1\ntime %d\n" % ts + cp)
msg = cp + b"\n" + ("\u2014 w.example/w1 " + base64.b64encode(key_id("w.example/w1", 4, wp) + sig).decode() + "\n").encode()
assert verify_note(msg, wv)
def cons_proof(n1, h):  # reference generator, RFC 6962 2.1.2 SUBPROOF
    def sub(m, d, b):
        n = len(d)
        if m == n: return [] if b else [mth(d)]
        k = 1 << ((n - 1).bit_length() - 1)
        return sub(m, d[:k], b) + [mth(d[k:])] if m <= k else sub(m - k, d[k:], False) + [mth(d[:k])]
    return sub(n1, h, True)
hs = [leaf(bytes([i])) for i in range(37)]
for a in range(1, 38):
    for b in range(a, 38):
        assert consistent(a, b, mth(hs[:a]), mth(hs[:b]), cons_proof(a, hs[:b]))
print("all checks passed")
