#!/usr/bin/env python3
"""Independent check of a huren issuer's transparency log (SPEC §12), outside Rust.

Only hashlib, urllib and `cryptography` (Ed25519): RFC 6962 hashing, C2SP signed notes,
tlog-checkpoint, tlog-cosignature (cosignature/v1), tlog-tiles (paths, tiles, entry bundles)
and RFC 9162 inclusion proofs are re-implemented here from the specifications.

usage: tlog_check.py BASE_URL LOG_VKEY QUORUM [WITNESS_VKEY ...] -- [TOKEN_SHA256 ...]

Checks: the checkpoint verifies under LOG_VKEY and carries >= QUORUM cosignatures by the
WITNESS_VKEYs; every level-0 tile and entry bundle the checkpoint covers is fetched; each
entry is canonical JSON with only seq/at/action/subject/token_sha256 (no personal data) and
seq = index + 1; each entry re-hashes to its tile hash; each level-1 hash is the RFC 6962
hash of its full level-0 tile; the root of all leaves is the checkpoint's root; and for each
TOKEN_SHA256, GET /v1/log/proof returns a proof that checks against a witnessed checkpoint
and an entry that records that token. Prints one JSON line; exits non-zero on any failure.
"""
import base64, hashlib, json, struct, sys, urllib.request
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

def leaf(d): return hashlib.sha256(b"\x00" + d).digest()
def node(l, r): return hashlib.sha256(b"\x01" + l + r).digest()
def mth(h):
    if not h: return hashlib.sha256(b"").digest()
    if len(h) == 1: return h[0]
    k = 1 << ((len(h) - 1).bit_length() - 1)
    return node(mth(h[:k]), mth(h[k:]))

def inclusion_root(idx, size, lh, proof):  # RFC 9162 2.1.3.2
    if idx >= size: raise ValueError("index beyond tree")
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

def key_id(name, typ, pub): return hashlib.sha256(name.encode() + b"\n" + bytes([typ]) + pub).digest()[:4]

def parse_vkey(v):
    name, kid, k = v.split("+", 2)  # the base64 part may itself contain "+"
    raw = base64.b64decode(k, validate=True)
    if len(kid) != 8 or key_id(name, raw[0], raw[1:]).hex() != kid: raise ValueError("key id mismatch: " + v)
    return name, bytes.fromhex(kid), raw[0], raw[1:]

def split_note(msg):
    s = msg.decode("utf-8")
    if any(c != "\n" and ord(c) < 0x20 for c in s): raise ValueError("control character in note")
    i = s.rindex("\n\n"); text, sigs = s[:i + 1], s[i + 2:]
    if not sigs.endswith("\n"): raise ValueError("signature block does not end in a newline")
    out = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith("\u2014 "): raise ValueError("bad signature line")
        name, b64 = line[2:].split(" ")
        raw = base64.b64decode(b64, validate=True)
        out.append((name, raw[:4], raw[4:]))
    return text.encode(), out

def signed_by(text, sigs, vkey):
    name, kid, typ, pub = parse_vkey(vkey)
    for n, k, sig in sigs:
        if (n, k) != (name, kid): continue
        if typ == 0x01: m, s = text, sig
        elif typ == 0x04:
            ts = struct.unpack(">Q", sig[:8])[0]
            m, s = b"cosignature/v1\ntime %d\n" % ts + text, sig[8:]
        else: raise ValueError("unknown key type")
        Ed25519PublicKey.from_public_bytes(pub).verify(s, m)  # raises InvalidSignature
        return True
    return False

def open_checkpoint(note, log_vkey, witnesses, quorum):
    text, sigs = split_note(note)
    if not signed_by(text, sigs, log_vkey): raise ValueError("checkpoint not signed by the log key")
    cosigned = sum(1 for w in witnesses if signed_by(text, sigs, w))
    lines = text.decode().split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    if origin != parse_vkey(log_vkey)[0]: raise ValueError("origin is not the log key's name")
    if lines[3:] != [""]: raise ValueError("unexpected extension lines")
    return size, root, cosigned

def get(url):
    with urllib.request.urlopen(url, timeout=10) as r: return r.read()

def tile_path(level, n, width):
    groups = ["%03d" % (n % 1000)]; n //= 1000
    while n: groups.append("x%03d" % (n % 1000)); n //= 1000
    p = "tile/%s/%s" % (level, "/".join(reversed(groups)))
    return p + (".p/%d" % width if width < 256 else "")

def unbundle(b):
    out, i = [], 0
    while i < len(b):
        (n,) = struct.unpack(">H", b[i:i + 2]); out.append(b[i + 2:i + 2 + n]); i += 2 + n
    if i != len(b): raise ValueError("truncated entry bundle")
    return out

def check_entry(raw, index):
    e = json.loads(raw)
    keys = list(e)
    allowed = ["seq", "at", "action", "subject", "token_sha256"]
    if [k for k in keys if k not in allowed] or keys != [k for k in allowed if k in e]:
        raise ValueError("entry %d has keys %s" % (index, keys))
    if json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() != raw:
        raise ValueError("entry %d is not canonical JSON" % index)
    if e["seq"] != index + 1: raise ValueError("entry %d has seq %d" % (index, e["seq"]))
    return e

def main(argv):
    sep = argv.index("--") if "--" in argv else len(argv)
    base, log_vkey, quorum, witnesses = argv[1].rstrip("/"), argv[2], int(argv[3]), argv[4:sep]
    tokens = argv[sep + 1:]
    size, root, cosigned = open_checkpoint(get(base + "/v1/log/checkpoint"), log_vkey, witnesses, quorum)
    leaves, entries = [], []
    for t in range((size + 255) // 256):
        width = min(256, size - t * 256)
        tile = get(base + "/v1/log/" + tile_path(0, t, width))
        bundle = unbundle(get(base + "/v1/log/" + tile_path("entries", t, width)))
        if len(tile) != 32 * width or len(bundle) != width: raise ValueError("tile %d has the wrong width" % t)
        for k, raw in enumerate(bundle):
            index = t * 256 + k
            entries.append(check_entry(raw, index))
            if leaf(raw) != tile[32 * k:32 * k + 32]: raise ValueError("entry %d does not hash to its tile hash" % index)
            leaves.append(tile[32 * k:32 * k + 32])
    for t in range(size // 65536 + (1 if size % 65536 >= 256 else 0)):
        width = min(256, size // 256 - t * 256)
        tile1 = get(base + "/v1/log/" + tile_path(1, t, width))
        for k in range(width):
            first = (t * 256 + k) * 256
            if mth(leaves[first:first + 256]) != tile1[32 * k:32 * k + 32]: raise ValueError("level-1 hash %d is wrong" % (t * 256 + k))
    if mth(leaves) != root: raise ValueError("the leaves do not hash to the checkpoint's root")
    proved = 0
    for token in tokens:
        p = json.loads(get(base + "/v1/log/proof?token_sha256=" + token))
        psize, proot, pcos = open_checkpoint(p["checkpoint"].encode(), log_vkey, witnesses, quorum)
        if pcos < quorum: raise ValueError("proof checkpoint is not witnessed")
        if p["tree_size"] != psize: raise ValueError("tree_size is not the checkpoint's")
        entry = p["entry"].encode()
        e = check_entry(entry, p["index"])
        if e.get("token_sha256") != token: raise ValueError("the proven entry records another token")
        proof = [base64.b64decode(h, validate=True) for h in p["proof"]]
        if inclusion_root(p["index"], psize, leaf(entry), proof) != proot: raise ValueError("inclusion proof fails for " + token)
        proved += 1
    print(json.dumps({"ok": True, "size": size, "cosignatures": cosigned, "witnessed": cosigned >= quorum,
                      "actions": sorted({e["action"] for e in entries}), "proved": proved}))

if __name__ == "__main__":
    try:
        main(sys.argv)
    except Exception as e:  # one line for the Rust test to show
        print(json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}))
        sys.exit(1)
