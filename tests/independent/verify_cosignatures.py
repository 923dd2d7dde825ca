#!/usr/bin/env python3
"""Checks the witness cosignatures on a signed checkpoint, independently of the Rust code.

Usage: verify_cosignatures.py NOTE_FILE LOG_VKEY WITNESS_VKEY... [--quorum K]

Written from the C2SP specifications (signed-note, tlog-checkpoint, tlog-cosignature), with
pyca/cryptography's Ed25519:
- the log's line: key ID = SHA-256(name || "\\n" || 0x01 || key)[:4], signature over the
  note text;
- each witness line `— <name> <base64(key ID (4) || timestamp (8, big-endian) ||
  signature (64))>`: key ID = SHA-256(name || "\\n" || 0x04 || key)[:4], signature over
  "cosignature/v1\\ntime <timestamp>\\n" followed by the checkpoint body.
Prints one line per witness key given; exit 0 when the log's signature holds and at least
K witnesses (default: all given) cosigned validly, 1 otherwise, 2 for unusable input.
"""
import base64
import hashlib
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def parse_vkey(vkey, key_type):
    name, hexid, b64 = vkey.split("+", 2)
    raw = base64.b64decode(b64, validate=True)
    if len(raw) != 33 or raw[0] != key_type:
        raise ValueError(f"{vkey}: not a key of type {key_type:#04x}")
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if key_id.hex() != hexid:
        raise ValueError(f"{vkey}: key ID {hexid} is not {key_id.hex()}")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def main(argv):
    quorum = None
    if "--quorum" in argv:
        i = argv.index("--quorum")
        quorum = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        note = open(argv[1], encoding="utf-8").read()
        log = parse_vkey(argv[2], 0x01)
        witnesses = [parse_vkey(v, 0x04) for v in argv[3:]]
        text, sigs = note.rsplit("\n\n", 1)
        text += "\n"
    except (OSError, ValueError) as e:
        print(f"unusable input: {e}", file=sys.stderr)
        return 2
    lines = []
    for line in sigs.splitlines():
        if not line.startswith("\u2014 "):
            print(f"not a signature line: {line!r}", file=sys.stderr)
            return 1
        name, b64 = line[2:].rsplit(" ", 1)
        lines.append((name, base64.b64decode(b64, validate=True)))
    ok_log = False
    for name, blob in lines:
        if name == log[0] and blob[:4] == log[1]:
            try:
                log[2].verify(blob[4:], text.encode())
                ok_log = True
            except InvalidSignature:
                pass
    print(f"log {log[0]}: {'valid' if ok_log else 'NO VALID SIGNATURE'}")
    valid = 0
    for name, key_id, key in witnesses:
        status = "missing"
        for line_name, blob in lines:
            if line_name == name and blob[:4] == key_id and len(blob) == 4 + 8 + 64:
                timestamp = int.from_bytes(blob[4:12], "big")
                message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
                try:
                    key.verify(blob[12:], message)
                    status = f"valid (time {timestamp})"
                    valid += 1
                except InvalidSignature:
                    status = "INVALID"
        print(f"witness {name}: {status}")
    needed = len(witnesses) if quorum is None else quorum
    return 0 if ok_log and valid >= needed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
