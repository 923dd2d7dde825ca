#!/usr/bin/env python3
"""Independent cross-check of the documents in docs/examples/.

This script does not use any Consentry (Rust) code. It checks the published
example documents against the standards they claim to follow, using standard
third-party implementations:

  * Ed25519 (RFC 8032): pyca/cryptography
  * JSON Canonicalization Scheme (RFC 8785): the `jcs` package (the reference
    Python implementation published alongside the RFC by its author)
  * SHA-256: hashlib
  * Merkle inclusion verification: RFC 9162 section 2.1.3.2, transcribed below
    from the RFC text (there is no maintained PyPI package for it), and itself
    self-tested against trees built from the RFC 9162 section 2.1.1 / 2.1.3.1
    definitions.

Formats checked: the Consentry proof seal and certificate, the event seal, the C2SP signed note
(c2sp.org/signed-note) used as a C2SP checkpoint (c2sp.org/tlog-checkpoint),
and the C2SP tlog-proof@v1 text format (c2sp.org/tlog-proof).

Every positive check is paired with negative checks (tampered inputs that MUST
be rejected) so the script cannot pass vacuously.

Usage:  python3 verify_examples.py [--trust WELL_KNOWN.json] [EXAMPLES_DIR]
Prints one line per check, then "N passed, M failed"; exits 1 on any failure.

With --trust, the keys are the ones an operator publishes at
/.well-known/consentry.json (a saved copy), not keys.txt: a document is trusted only
if its seal key and its checkpoint's log key are listed there. The document is read
as I-JSON, like every other input.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime
import hashlib
import hmac
import json
import os
import random
import sys
from pathlib import Path

try:
    import jcs
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError as exc:  # pragma: no cover
    print(f"missing dependency: {exc}; pip install -r requirements.txt", file=sys.stderr)
    sys.exit(2)

EM_DASH = "\u2014"
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
SIGNED_NOTE_ED25519 = 0x01  # C2SP signed-note signature type for Ed25519


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------

class CheckFailed(Exception):
    pass


def require(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)


def b64d(s: str) -> bytes:
    """Strict RFC 4648 section 4 base64: valid alphabet, padding, canonical."""
    try:
        raw = base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CheckFailed(f"invalid base64 {s!r}: {exc}") from None
    require(base64.b64encode(raw).decode("ascii") == s, f"non-canonical base64 {s!r}")
    return raw


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


MAX_SAFE_INTEGER = 2**53 - 1


def strict_loads(data: bytes, name: str = "document"):
    """I-JSON (RFC 7493): refuses repeated member names, strings holding a lone surrogate
    (Python's json module accepts "\\ud800"), and integers beyond 2^53 - 1, which readers
    do not all read the same way."""

    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise CheckFailed(f"{name}: duplicate JSON member names")
        return dict(pairs)

    def safe_int(text: str) -> int:
        n = int(text)
        if abs(n) > MAX_SAFE_INTEGER:
            raise CheckFailed(f"{name}: integer {text} beyond 2^53 - 1")
        return n

    def no_lone_surrogates(v):
        if isinstance(v, str):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
                raise CheckFailed(f"{name}: string with a lone surrogate")
        elif isinstance(v, dict):
            for k, x in v.items():
                no_lone_surrogates(k)
                no_lone_surrogates(x)
        elif isinstance(v, list):
            for x in v:
                no_lone_surrogates(x)

    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=no_dups, parse_int=safe_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckFailed(f"{name}: not JSON: {exc}") from None
    no_lone_surrogates(value)
    return value


def load_json(path: Path):
    return strict_loads(path.read_bytes(), path.name)


def ed25519_verify(pub: bytes, sig: bytes, msg: bytes) -> None:
    require(len(pub) == 32, f"Ed25519 public key must be 32 bytes, got {len(pub)}")
    require(len(sig) == 64, f"Ed25519 signature must be 64 bytes, got {len(sig)}")
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
    except InvalidSignature:
        raise CheckFailed("Ed25519 signature does not verify") from None


def flip_bit_b64(s: str, byte_index: int, bit: int = 0) -> str:
    raw = bytearray(base64.b64decode(s))
    raw[byte_index] ^= 1 << bit
    return base64.b64encode(bytes(raw)).decode("ascii")


# --------------------------------------------------------------------------
# RFC 8785 / seal
# --------------------------------------------------------------------------

def canonical(obj) -> bytes:
    return jcs.canonicalize(obj)


def check_seal(proof: dict) -> None:
    """Seal: Ed25519 over JCS(proof minus "seal"); key_id = hex(SHA-256(pk))[:16]."""
    require(isinstance(proof.get("seal"), dict), "proof has no seal object")
    seal = proof["seal"]
    require(seal.get("alg") == "Ed25519", f"seal.alg is {seal.get('alg')!r}")
    pub = b64d(seal["public_key"])
    require(len(pub) == 32, "seal.public_key is not 32 bytes")
    expect_kid = hashlib.sha256(pub).hexdigest()[:16]
    require(seal["key_id"] == expect_kid, f"seal.key_id {seal['key_id']} != {expect_kid}")
    unsealed = {k: v for k, v in proof.items() if k != "seal"}
    ed25519_verify(pub, b64d(seal["signature"]), canonical(unsealed))


def leaf_hash(proof: dict) -> bytes:
    # RFC 9162 section 2.1.1: leaf hash = HASH(0x00 || entry); entry = JCS(proof incl. seal)
    return sha256(b"\x00" + canonical(proof))


# --------------------------------------------------------------------------
# RFC 9162 Merkle inclusion
# --------------------------------------------------------------------------

def verify_inclusion_rfc9162(leaf_index: int, tree_size: int, leaf: bytes,
                             path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2 "Verifying an Inclusion Proof", step by step."""
    # 1. Compare leaf_index from the inclusion_proof_v2 structure against
    #    tree_size. If leaf_index is greater than or equal to tree_size, then
    #    fail the proof verification.
    if leaf_index >= tree_size:
        return False
    # 2. Set fn to leaf_index and sn to tree_size - 1.
    fn, sn = leaf_index, tree_size - 1
    # 3. Set r to hash.
    r = leaf
    # 4. For each value p in the inclusion_path array:
    for p in path:
        # a. If sn is 0, then stop the iteration and fail the proof verification.
        if sn == 0:
            return False
        # b. If LSB(fn) is set, or if fn is equal to sn, then:
        if fn & 1 or fn == sn:
            # i. Set r to HASH(0x01 || p || r).
            r = sha256(b"\x01" + p + r)
            # ii. If LSB(fn) is not set, then right-shift both fn and sn equally
            #     until either LSB(fn) is set or fn is 0.
            if not fn & 1:
                while not (fn & 1) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        # Otherwise:
        else:
            # i. Set r to HASH(0x01 || r || p).
            r = sha256(b"\x01" + r + p)
        # c. Finally, right-shift both fn and sn one time.
        fn >>= 1
        sn >>= 1
    # 5. Compare sn to 0. Compare r against the root_hash. If sn is equal to 0
    #    and r and the root_hash are equal, then the log has proven the
    #    inclusion of hash. Otherwise, fail the proof verification.
    return sn == 0 and r == root


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 MTH over already-hashed leaves (test oracle only)."""
    n = len(leaves)
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)  # largest power of two < n
    return sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 PATH(m, D[n]) over hashed leaves (test oracle only)."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def check_rfc9162_selftest() -> None:
    rng = random.Random(9162)
    for n in range(1, 70):
        leaves = [sha256(b"\x00" + rng.randbytes(8)) for _ in range(n)]
        root = _mth(leaves)
        for m in range(n):
            p = _path(m, leaves)
            require(verify_inclusion_rfc9162(m, n, leaves[m], p, root),
                    f"self-test: valid path rejected (m={m}, n={n})")
            if p:
                bad = list(p)
                j = rng.randrange(len(bad))
                bad[j] = bytes([bad[j][0] ^ 1]) + bad[j][1:]
                require(not verify_inclusion_rfc9162(m, n, leaves[m], bad, root),
                        f"self-test: tampered path accepted (m={m}, n={n})")
                require(not verify_inclusion_rfc9162(m, n, leaves[m], p[:-1], root),
                        f"self-test: short path accepted (m={m}, n={n})")
            require(not verify_inclusion_rfc9162(m, n, leaves[m], p + [root], root),
                    f"self-test: long path accepted (m={m}, n={n})")
            if n > 1:
                require(not verify_inclusion_rfc9162((m + 1) % n, n, leaves[m], p, root),
                        f"self-test: wrong index accepted (m={m}, n={n})")


# --------------------------------------------------------------------------
# C2SP signed note / checkpoint / verifier key
# --------------------------------------------------------------------------

def signed_note_key_id(name: str, pub: bytes) -> bytes:
    # c2sp.org/signed-note: key ID = SHA-256(key name || 0x0A || sig type || pubkey)[:4]
    return sha256(name.encode("utf-8") + b"\n" + bytes([SIGNED_NOTE_ED25519]) + pub)[:4]


def parse_verifier_key(vkey: str) -> tuple[str, bytes, bytes]:
    """name+hexkeyid+base64(0x01||pubkey) -> (name, key_id, pubkey); checks key id."""
    parts = vkey.split("+")
    require(len(parts) == 3, f"verifier key must have 3 '+'-separated fields: {vkey!r}")
    name, kid_hex, key_b64 = parts
    require(name and not any(c.isspace() for c in name), "bad key name")
    require(len(kid_hex) == 8 and kid_hex == kid_hex.lower(), f"key id must be 8 lowercase hex: {kid_hex!r}")
    kid = bytes.fromhex(kid_hex)
    key = b64d(key_b64)
    require(len(key) == 33 and key[0] == SIGNED_NOTE_ED25519,
            "verifier key data must be 0x01 || 32-byte Ed25519 key")
    pub = key[1:]
    require(kid == signed_note_key_id(name, pub),
            f"verifier key id {kid_hex} != {signed_note_key_id(name, pub).hex()}")
    return name, kid, pub


def parse_signed_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a C2SP signed note into (text, [(name, keyid||sig), ...])."""
    require(note.endswith("\n"), "note must end with a newline")
    split = note.rfind("\n\n")
    require(split >= 0, "note has no blank line before signatures")
    text, sig_block = note[: split + 1], note[split + 2:]
    require(text and "\n\n" not in text, "note text must be non-empty lines")
    sigs = []
    for line in sig_block[:-1].split("\n"):
        require(line.startswith(EM_DASH + " "), f"signature line must start with U+2014 and space: {line!r}")
        fields = line[2:].split(" ")
        require(len(fields) == 2, f"signature line must be '— name base64': {line!r}")
        sigs.append((fields[0], b64d(fields[1])))
    require(sigs, "note has no signature lines")
    return text, sigs


def verify_signed_note(note: str, vkey: str) -> str:
    """Verify the note's signature by vkey; return the signed text."""
    name, kid, pub = parse_verifier_key(vkey)
    text, sigs = parse_signed_note(note)
    matching = [blob for (n, blob) in sigs if n == name and blob[:4] == kid]
    require(matching, f"no signature line by {name} with key id {kid.hex()}")
    for blob in matching:
        require(len(blob) == 4 + 64, f"Ed25519 signed-note signature must be 68 bytes, got {len(blob)}")
        ed25519_verify(pub, blob[4:], text.encode("utf-8"))
    return text


def parse_checkpoint_body(text: str) -> tuple[str, int, bytes]:
    # c2sp.org/tlog-checkpoint: origin, decimal size (no leading zeros), base64 root
    lines = text.split("\n")[:-1]
    require(len(lines) >= 3, "checkpoint needs origin, size and root lines")
    origin, size_s, root_b64 = lines[:3]
    require(size_s.isdigit() and (size_s == "0" or not size_s.startswith("0")),
            f"bad checkpoint size {size_s!r}")
    root = b64d(root_b64)
    require(len(root) == 32, "checkpoint root must be 32 bytes")
    return origin, int(size_s), root


def verify_checkpoint(note: str, vkey: str) -> tuple[str, int, bytes]:
    return parse_checkpoint_body(verify_signed_note(note, vkey))


# --------------------------------------------------------------------------
# C2SP tlog-proof@v1
# --------------------------------------------------------------------------

def parse_tlog_proof(s: str) -> tuple[bytes | None, int, list[bytes], str]:
    """c2sp.org/tlog-proof@v1 -> (extra, index, hashes, checkpoint note verbatim)."""
    header, sep, rest = s.partition("\n")
    require(sep and header == TLOG_PROOF_HEADER, "first line must be c2sp.org/tlog-proof@v1")
    extra = None
    if rest.startswith("extra "):
        line, _, rest = rest.partition("\n")
        extra = b64d(line[len("extra "):])
    line, sep, rest = rest.partition("\n")
    require(sep and line.startswith("index "), "missing index line")
    idx_s = line[len("index "):]
    require(idx_s.isdigit() and (idx_s == "0" or not idx_s.startswith("0")),
            f"bad index {idx_s!r}")
    hashes = []
    while True:
        line, sep, rest = rest.partition("\n")
        require(sep, "missing empty line before checkpoint")
        if line == "":
            break
        h = b64d(line)
        require(len(h) == 32, "inclusion hash must be 32 bytes")
        hashes.append(h)
    return extra, int(idx_s), hashes, rest


# --------------------------------------------------------------------------
# the checks
# --------------------------------------------------------------------------

class Runner:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0

    def check(self, name: str, fn) -> None:
        try:
            fn()
        except CheckFailed as exc:
            self.failed += 1
            print(f"FAIL  {name}: {exc}")
        except Exception as exc:  # unexpected error is a failure, never a pass
            self.failed += 1
            print(f"FAIL  {name}: unexpected {type(exc).__name__}: {exc}")
        else:
            self.passed += 1
            print(f"ok    {name}")

    def reject(self, name: str, fn) -> None:
        """Negative check: fn must raise CheckFailed (i.e. the verifier rejects)."""
        def inner():
            try:
                fn()
            except CheckFailed:
                return
            raise CheckFailed("tampered input was ACCEPTED")
        self.check(f"rejects {name}", inner)


def parse_keys_txt(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            out[k.strip()] = v.strip()
    return out


def trusted_keys(path: Path) -> tuple[list[str], list[str]]:
    """(seal public keys in base64, log verifier keys) of a /.well-known/consentry.json."""
    wk = strict_loads(path.read_bytes(), path.name)
    require(isinstance(wk, dict) and isinstance(wk.get("log"), dict),
            f"{path.name}: not a /.well-known/consentry.json document")
    origin = wk["log"].get("origin")
    logs = [wk["log"].get("verifier_key")] + list(wk.get("previous_log_keys") or [])
    for k in logs:
        name, _, _ = parse_verifier_key(k)
        require(name == origin, f"{path.name}: log key {k} is not a key of log {origin}")
    seals = [k.get("public_key") for k in wk.get("seal_keys") or []]
    for k in seals:
        require(len(b64d(k)) == 32, f"{path.name}: seal key {k} is not 32 bytes")
    require(seals, f"{path.name}: no seal key")
    return seals, logs


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    args = argv[1:]
    trust = None
    if args[:1] == ["--trust"]:
        if len(args) < 2:
            print("usage: verify_examples.py [--trust WELL_KNOWN.json] [EXAMPLES_DIR]", file=sys.stderr)
            return 2
        trust = Path(args[1])
        args = args[2:]
    ex = Path(args[0]) if args else here.parent.parent / "docs" / "examples"
    print(f"examples: {ex}")
    print(f"jcs {jcs.__version__}; cryptography {__import__('cryptography').__version__}; "
          f"python {sys.version.split()[0]}")

    proof = load_json(ex / "proof.json")
    canonical_file = (ex / "proof.canonical.json").read_bytes()
    cert = load_json(ex / "certificate.json")
    checkpoint_txt = (ex / "checkpoint.txt").read_bytes().decode("utf-8")
    tlog_proof_txt = (ex / "certificate.tlog-proof").read_bytes().decode("utf-8")
    keys = parse_keys_txt((ex / "keys.txt").read_text("utf-8"))
    log_vkey = keys["log verifier key"]
    seal_pub_b64 = keys["seal public key (base64)"]
    seal_fpr = keys["seal key fingerprint (sha256)"]

    r = Runner()

    # ---- trust: the keys the operator publishes (--trust) -----------------
    if trust is not None:
        seals, logs = trusted_keys(trust)

        def seal_pinned(doc=proof, seals=seals):
            require(doc["seal"]["public_key"] in seals,
                    f"seal key {doc['seal']['public_key']} is not among the pinned keys")
        r.check(f"trust: the proof's seal key is one {trust.name} lists", seal_pinned)

        def log_pinned(logs=logs):
            require(any(verify_checkpoint(cert["checkpoint"], k) for k in logs if k == cert["log_key"]),
                    "the certificate's log key is not among the pinned keys")
        r.check(f"trust: the certificate's checkpoint is signed by a log key {trust.name} lists",
                log_pinned)

        def other_operator():
            other = base64.b64encode(bytes(32)).decode()
            seal_pinned(proof, [other])
        r.reject("trust: the proof against another operator's seal key", other_operator)
        # From here on the pinned keys stand in for keys.txt.
        seal_pub_b64 = seals[0] if proof["seal"]["public_key"] not in seals else proof["seal"]["public_key"]
        log_vkey = cert["log_key"] if cert["log_key"] in logs else logs[0]

    # ---- RFC 8785 ---------------------------------------------------------
    def jcs_bytes():
        got = canonical(proof)
        require(got == canonical_file,
                f"jcs(proof.json) differs from proof.canonical.json ({len(got)} vs {len(canonical_file)} bytes)")
    r.check("RFC 8785: proof.canonical.json == jcs(proof.json) byte for byte", jcs_bytes)

    def jcs_idempotent():
        require(canonical(json.loads(canonical_file)) == canonical_file,
                "proof.canonical.json is not a JCS fixed point")
    r.check("RFC 8785: proof.canonical.json is its own canonical form", jcs_idempotent)

    # ---- seal -------------------------------------------------------------
    r.check("seal: Ed25519 (RFC 8032) signature over JCS(proof without seal) verifies",
            lambda: check_seal(proof))

    # A manual proof with the date the consent was given (`given_at`, docs/formats.md §4):
    # an ordinary sealed member; never after recorded_at, at most 3650 days before it.
    manual_path = ex / "proof-manual.json"
    if manual_path.exists():
        manual = load_json(manual_path)
        r.check("seal: the manual proof with given_at verifies", lambda: check_seal(manual))

        def given_at_bounds():
            def ms(s: str) -> int:
                t = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
                return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            require(manual.get("method") == "manual", "proof-manual.json is not manual")
            given, recorded = ms(manual["given_at"]), ms(manual["recorded_at"])
            require(given <= recorded, "given_at is after recorded_at")
            require(recorded - given <= 3650 * 86_400_000, "given_at is more than 3650 days old")
            require(manual["seal"]["public_key"] == seal_pub_b64, "another seal key")
        r.check("proof: given_at is no later than recorded_at, at most 10 years before",
                given_at_bounds)

        def given_at_moved():
            forged = dict(manual)
            forged["given_at"] = forged["recorded_at"]
            check_seal(forged)
        r.reject("seal: the manual proof with given_at changed", given_at_moved)

    def seal_key_id():
        pub = b64d(proof["seal"]["public_key"])
        require(proof["seal"]["key_id"] == hashlib.sha256(pub).hexdigest()[:16], "key_id mismatch")
    r.check("seal: key_id == first 16 hex of SHA-256(public key)", seal_key_id)

    def seal_matches_keys_txt():
        pub = b64d(proof["seal"]["public_key"])
        require(proof["seal"]["public_key"] == seal_pub_b64, "seal.public_key != keys.txt seal public key")
        require(hashlib.sha256(pub).hexdigest() == seal_fpr, "keys.txt fingerprint != SHA-256(public key)")
    r.check("seal: public key and fingerprint match keys.txt", seal_matches_keys_txt)

    # ---- certificate ------------------------------------------------------
    def cert_shape():
        require(cert.get("type") == "consentry.certificate/v1", f"type is {cert.get('type')!r}")
        want = {"type", "proof", "leaf_index", "inclusion", "checkpoint", "log_key", "anchors"}
        require(set(cert) == want, f"members {sorted(set(cert) ^ want)} unexpected/missing")
        require(isinstance(cert["anchors"], list), "anchors must be a list")
        require(isinstance(cert["leaf_index"], int) and cert["leaf_index"] >= 0, "bad leaf_index")
    r.check("certificate: type consentry.certificate/v1 with the documented members", cert_shape)

    def cert_proof_equal():
        require(cert["proof"] == proof, "certificate.proof != proof.json")
        require(canonical(cert["proof"]) == canonical_file, "JCS(certificate.proof) != proof.canonical.json")
    r.check("certificate: proof equals proof.json (as JSON and as JCS bytes)", cert_proof_equal)

    r.check("certificate: embedded proof's seal verifies", lambda: check_seal(cert["proof"]))

    def cert_index_consistent():
        require(cert["leaf_index"] == proof["log_index"], "leaf_index != proof.log_index")
    r.check("certificate: leaf_index == proof.log_index", cert_index_consistent)

    lh = leaf_hash(proof)

    def leaf_hash_check():
        require(lh == sha256(b"\x00" + canonical_file), "leaf hash mismatch")
    r.check(f"leaf hash = SHA-256(0x00 || JCS(proof)) = {lh.hex()}", leaf_hash_check)

    # ---- signed note checkpoint -------------------------------------------
    def vkey_check():
        require(cert["log_key"] == log_vkey, "certificate.log_key != keys.txt log verifier key")
        parse_verifier_key(log_vkey)
    r.check("log key: certificate.log_key == keys.txt, key id == SHA-256(name||\\n||0x01||pk)[:4]", vkey_check)

    def checkpoint_same():
        require(cert["checkpoint"] == checkpoint_txt, "certificate.checkpoint != checkpoint.txt")
    r.check("checkpoint: certificate.checkpoint == checkpoint.txt byte for byte", checkpoint_same)

    r.check("checkpoint: C2SP signed-note Ed25519 signature verifies under keys.txt log key",
            lambda: verify_checkpoint(checkpoint_txt, log_vkey))

    def checkpoint_origin():
        origin, size, _ = verify_checkpoint(checkpoint_txt, log_vkey)
        name = log_vkey.split("+")[0]
        require(origin == name, f"origin {origin!r} != key name {name!r}")
        require(origin == proof["log"], f"origin {origin!r} != proof.log {proof['log']!r}")
        require(cert["leaf_index"] < size, "leaf_index outside checkpointed tree")
    r.check("checkpoint: origin == key name == proof.log; leaf_index < size", checkpoint_origin)

    # ---- RFC 9162 inclusion -----------------------------------------------
    r.check("RFC 9162 §2.1.3.2 verifier self-test against §2.1.1/§2.1.3.1 trees (n=1..69)",
            check_rfc9162_selftest)

    def inclusion_check(c):
        """Certificate c: leaf hash of c.proof, c.inclusion, c.leaf_index -> checkpoint root."""
        _, size, root = verify_checkpoint(c["checkpoint"], log_vkey)
        path = [b64d(h) for h in c["inclusion"]]
        require(verify_inclusion_rfc9162(c["leaf_index"], size, leaf_hash(c["proof"]), path, root),
                "inclusion proof does not verify to checkpoint root")
    r.check("inclusion: RFC 9162 §2.1.3.2 path verifies leaf to checkpoint root",
            lambda: inclusion_check(cert))

    # ---- tlog-proof@v1 ----------------------------------------------------
    def tlog_proof_check():
        extra, index, hashes, note = parse_tlog_proof(tlog_proof_txt)
        require(extra == canonical_file, "extra != proof.canonical.json")
        require(index == cert["leaf_index"], f"index {index} != leaf_index {cert['leaf_index']}")
        require(hashes == [b64d(h) for h in cert["inclusion"]], "hashes != certificate inclusion")
        require(note == cert["checkpoint"], "checkpoint note != certificate checkpoint")
    r.check("tlog-proof@v1: parses; extra, index, hashes, note match certificate", tlog_proof_check)

    def tlog_proof_verifies(text=tlog_proof_txt):
        extra, index, hashes, note = parse_tlog_proof(text)
        _, size, root = verify_checkpoint(note, log_vkey)
        require(extra is not None, "no extra")
        entry = strict_loads(extra, "extra")
        require(canonical(entry) == extra, "extra is not in RFC 8785 canonical form")
        check_seal(entry)
        require(verify_inclusion_rfc9162(index, size, sha256(b"\x00" + canonical(entry)), hashes, root),
                "tlog-proof inclusion does not verify")
    r.check("tlog-proof@v1: standalone verification (seal of extra, note, inclusion)", tlog_proof_verifies)

    # ---- negative checks --------------------------------------------------
    for i in range(len(cert["inclusion"])):
        def tamper_hash(i=i):
            c = copy.deepcopy(cert)
            c["inclusion"][i] = flip_bit_b64(c["inclusion"][i], 31 - (i % 32), i % 8)
            inclusion_check(c)
        r.reject(f"inclusion hash #{i} with one bit flipped", tamper_hash)

    def tamper_index():
        c = copy.deepcopy(cert)
        c["leaf_index"] += 1
        inclusion_check(c)
    r.reject("inclusion with leaf_index + 1", tamper_index)

    def tamper_path_len():
        c = copy.deepcopy(cert)
        c["inclusion"] = c["inclusion"][:-1]
        inclusion_check(c)
    r.reject("inclusion with last hash dropped", tamper_path_len)

    for byte_i, bit in ((0, 0), (31, 7), (63, 3)):
        def tamper_sig(byte_i=byte_i, bit=bit):
            p = copy.deepcopy(proof)
            p["seal"]["signature"] = flip_bit_b64(p["seal"]["signature"], byte_i, bit)
            check_seal(p)
        r.reject(f"seal signature with bit {bit} of byte {byte_i} flipped", tamper_sig)

    def tamper_decision_seal():
        p = copy.deepcopy(proof)
        require(p["decision"] == "granted", "example decision is not 'granted'")
        p["decision"] = "denied"
        check_seal(p)
    r.reject("proof with decision changed: seal", tamper_decision_seal)

    # A document that could be read two ways is refused before any check: the genuine
    # proof with a second "decision" member inserted before the real one (a first-wins
    # reader would see "granted", Python's json and serde_json the real value), with a
    # lone surrogate, with an integer beyond 2^53 - 1.
    proof_bytes = (ex / "proof.json").read_bytes()

    def duplicate_member():
        # The duplicate repeats the real value, so a lenient parse would verify the seal:
        # only the strict parse refuses it.
        forged = proof_bytes.replace(b'"decision":', b'"decision": "granted", "decision":', 1)
        require(forged != proof_bytes, "proof.json has no decision member")
        check_seal(strict_loads(forged, "forged proof"))
    r.reject("proof with a duplicate 'decision' member", duplicate_member)

    def lone_surrogate():
        forged = proof_bytes.replace(b'"purpose": "', b'"purpose": "\\ud800', 1)
        require(forged != proof_bytes, "proof.json has no purpose member")
        strict_loads(forged, "forged proof")  # the parse alone must refuse it
    r.reject("proof with a lone surrogate in a string", lone_surrogate)

    def huge_integer():
        forged = proof_bytes.replace(b'"log_index": ', b'"log_index": 9007199254740992', 1)
        forged = forged.replace(b'9007199254740992' + str(proof["log_index"]).encode(), b'9007199254740992', 1)
        strict_loads(forged, "forged proof")  # the parse alone must refuse it
    r.reject("proof with an integer beyond 2^53 - 1", huge_integer)

    def tlog_extra_not_canonical(text=tlog_proof_txt):
        extra, index, hashes, note = parse_tlog_proof(text)
        spaced = json.dumps(strict_loads(extra, "extra"), indent=1).encode()
        entry = strict_loads(spaced, "extra")
        require(canonical(entry) == spaced, "extra is not in RFC 8785 canonical form")
    r.reject("tlog-proof whose extra is re-indented (same value, not canonical)", tlog_extra_not_canonical)

    def tamper_decision_inclusion():
        c = copy.deepcopy(cert)
        c["proof"]["decision"] = "denied"
        inclusion_check(c)
    r.reject("proof with decision changed: inclusion of leaf hash", tamper_decision_inclusion)

    def tamper_decision_canonical():
        p = copy.deepcopy(proof)
        p["decision"] = "denied"
        require(canonical(p) == canonical_file, "canonical bytes differ")
    r.reject("proof with decision changed: canonical bytes", tamper_decision_canonical)

    def tamper_key_id():
        p = copy.deepcopy(proof)
        kid = p["seal"]["key_id"]
        p["seal"]["key_id"] = kid[:-1] + ("0" if kid[-1] != "0" else "1")
        check_seal(p)
    r.reject("seal with altered key_id", tamper_key_id)

    def tamper_note_sig():
        text, rest = checkpoint_txt.split("\n\n", 1)
        name, sig = rest[2:-1].split(" ")
        bad = f"{text}\n\n{EM_DASH} {name} {flip_bit_b64(sig, 10, 2)}\n"
        verify_checkpoint(bad, log_vkey)
    r.reject("checkpoint with one signature bit flipped", tamper_note_sig)

    def tamper_note_size():
        lines = checkpoint_txt.split("\n")
        lines[1] = str(int(lines[1]) + 1)
        verify_checkpoint("\n".join(lines), log_vkey)
    r.reject("checkpoint with tree size changed", tamper_note_size)

    def tamper_note_dash():
        verify_checkpoint(checkpoint_txt.replace(EM_DASH, "-"), log_vkey)
    r.reject("checkpoint with ASCII '-' instead of U+2014", tamper_note_dash)

    def tamper_vkey_id():
        name, kid, key = log_vkey.split("+")
        bad_kid = format(int(kid, 16) ^ 1, "08x")
        verify_checkpoint(checkpoint_txt, f"{name}+{bad_kid}+{key}")
    r.reject("log verifier key with wrong key id", tamper_vkey_id)

    def tamper_tlog_extra():
        p = json.loads(canonical_file)
        p["decision"] = "denied"
        bad_extra = base64.b64encode(canonical(p)).decode("ascii")
        lines = tlog_proof_txt.split("\n")
        lines[1] = "extra " + bad_extra
        tlog_proof_verifies("\n".join(lines))
    r.reject("tlog-proof with decision changed in extra", tamper_tlog_extra)

    def tamper_tlog_header():
        parse_tlog_proof(tlog_proof_txt.replace("tlog-proof@v1", "tlog-proof@v2", 1))
    r.reject("tlog-proof with wrong header line", tamper_tlog_header)

    # ---- disclosure (docs/formats.md section 8) ---------------------------
    disclosure_path = ex / "disclosure.json"
    if disclosure_path.exists():
        disclosure = load_json(disclosure_path)

        def commitment(key: bytes, label: str, data: bytes) -> str:
            # HMAC-SHA256(key, label || 0x00 || data), lowercase hex (RFC 2104, hashlib).
            return hmac.new(key, label.encode() + b"\x00" + data, hashlib.sha256).hexdigest()

        def disclosure_opens(d=disclosure, p=proof):
            require(d["type"] == "consentry.disclosure/v1", "not a disclosure")
            require(d["proof"] == p["id"] and d["subject"] == p["subject"] and d["log"] == p["log"],
                    "the disclosure names another proof")
            require(d["proof_leaf_hash"] == leaf_hash(p).hex(), "proof_leaf_hash is not the proof's leaf")
            key_hex = d["opening"]["commitment_key"]
            require(key_hex == key_hex.lower() and len(key_hex) == 64, "the opening is not 32 bytes of lowercase hex")
            got = commitment(bytes.fromhex(key_hex), "address", d["address"].encode())
            require(got == p["recipient"]["address_commitment"],
                    f"the opening gives {got}, not the proof's address_commitment")
        r.check("disclosure: HMAC-SHA256(opening, 'address' 0x00 address) == the proof's address_commitment",
                disclosure_opens)

        def disclosure_seal(d=disclosure):
            check_seal(d)
            require(d["seal"]["public_key"] == seal_pub_b64, "disclosure sealed by another key")
        r.check("disclosure: Ed25519 seal over JCS(disclosure without seal), by the seal key", disclosure_seal)

        def other_address():
            d = copy.deepcopy(disclosure)
            d["address"] = "marie.durand@example.fr"
            disclosure_opens(d)
        r.reject("disclosure with another address", other_address)

        def other_key():
            d = copy.deepcopy(disclosure)
            d["opening"]["commitment_key"] = "00" * 32
            disclosure_opens(d)
        r.reject("disclosure with another opening", other_key)

        def tampered_sealed():
            d = copy.deepcopy(disclosure)
            d["ground"] = "subject-request"
            check_seal(d)
        r.reject("disclosure with its ground changed: seal", tampered_sealed)

    # ---- key rotation statement (docs/formats.md section 7.1) -------------
    rotation_path = ex / "key-rotation.json"
    if rotation_path.exists():
        rotation = load_json(rotation_path)

        def rotation_verifies(st=rotation):
            require(st["type"] == "consentry.key-rotation/v1", "not a key rotation statement")
            require(st["role"] == "seal", "the example rotates the seal key")
            require(st["old"] == seal_pub_b64, "the old key is not the example's seal key")
            require(len(b64d(st["new"])) == 32, "the new key is not 32 bytes")
            body = {k: v for k, v in st.items() if k != "signature"}
            ed25519_verify(b64d(st["old"]), b64d(st["signature"]), canonical(body))
        r.check("key rotation: Ed25519 by the old seal key over JCS(statement without signature)",
                rotation_verifies)

        def rotation_to_another_key():
            st = copy.deepcopy(rotation)
            st["new"] = base64.b64encode(bytes(32)).decode()
            rotation_verifies(st)
        r.reject("key rotation naming another new key", rotation_to_another_key)

    # ---- event (docs/formats.md section 3.1) ------------------------------
    event_path = ex / "event.json"
    if event_path.exists():
        event = load_json(event_path)

        def event_shape():
            require(event.get("type") in ("data.access", "data.access_denied", "data.amended", "data.erased"),
                    f"type is {event.get('type')!r}")
            required = {"type", "log", "id", "tenant", "subject", "actor", "fields", "recorded_at", "log_index", "seal"}
            optional = {"purpose", "proof", "consent", "reason_commitment"}
            require(required <= set(event) <= required | optional,
                    f"members {sorted(set(event) ^ required)} unexpected/missing")
            require(all(f in ("email", "name", "address", "phone", "attributes") for f in event["fields"]),
                    "a field name outside the documented set")
        r.check("event: a data.* type with the documented members, field names only", event_shape)
        r.check("event: Ed25519 seal over JCS(event without seal) verifies", lambda: check_seal(event))

        def event_seal_key():
            require(event["seal"]["public_key"] == seal_pub_b64, "event seal key != keys.txt seal public key")
        r.check("event: sealed by the seal key of keys.txt", event_seal_key)

        def tamper_event_fields():
            e = copy.deepcopy(event)
            e["fields"] = e["fields"] + ["phone"]
            check_seal(e)
        r.reject("event with a field name added", tamper_event_fields)

        def tamper_event_type():
            e = copy.deepcopy(event)
            e["type"] = "data.access_denied" if e["type"] != "data.access_denied" else "data.access"
            check_seal(e)
        r.reject("event with its type changed", tamper_event_type)

    print(f"{r.passed} passed, {r.failed} failed")
    return 0 if r.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
