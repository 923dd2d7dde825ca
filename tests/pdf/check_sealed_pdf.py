#!/usr/bin/env python3
"""Validates a sealed Consentry PDF with pyHanko, a PAdES validator this project did not write.

Usage: check_sealed_pdf.py PDF --trust CA.pem [--trust TSA-CA.pem ...] [--level B-B|B-T]
                           [--extract DIR]

Checks, with only the given certificates as trust roots: the signature is intact and valid,
its signer chains to a root given, the signed ranges cover the whole file, the PAdES level
is the one expected (B-T: a valid signature time-stamp whose TSA chains to a root given),
and the PDF/A-3 parts a reader relies on (XMP pdfaid part 3 / conformance B, an ICC output
intent, associated files with an AFRelationship). With --extract, writes each attachment to
DIR under its name. Prints a JSON report; exit 0 when everything holds, 1 otherwise, 2 for
unusable input.
"""
import argparse
import json
import sys

from asn1crypto import pem, x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def load_certs(path):
    with open(path, "rb") as f:
        data = f.read()
    if pem.detect(data):
        return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    return [x509.Certificate.load(data)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pdf")
    ap.add_argument("--trust", action="append", default=[])
    ap.add_argument("--level", choices=["B-B", "B-T"])
    ap.add_argument("--extract")
    args = ap.parse_args()
    roots = [c for path in args.trust for c in load_certs(path)]
    if not roots:
        print("no trust root given (--trust)", file=sys.stderr)
        return 2
    problems = []
    report = {}
    with open(args.pdf, "rb") as f:
        reader = PdfFileReader(f, strict=True)
        sigs = reader.embedded_signatures
        report["signatures"] = len(sigs)
        if len(sigs) != 1:
            problems.append(f"expected one signature, found {len(sigs)}")
        else:
            sig = sigs[0]
            vc = ValidationContext(trust_roots=roots, allow_fetching=False)
            status = validate_pdf_signature(sig, signer_validation_context=vc, ts_validation_context=vc)
            report.update(
                intact=status.intact,
                valid=status.valid,
                trusted=status.trusted,
                coverage=str(status.coverage),
                subfilter=str(sig.sig_object.get("/SubFilter")),
                signer=status.signing_cert.subject.human_friendly,
                timestamp=None,
            )
            if not (status.intact and status.valid):
                problems.append("the signature does not verify")
            if not status.trusted:
                problems.append("the signer does not chain to a trust root given")
            if "ENTIRE_FILE" not in str(status.coverage):
                problems.append(f"the signature does not cover the whole file: {status.coverage}")
            if report["subfilter"] != "/ETSI.CAdES.detached":
                problems.append(f"SubFilter is {report['subfilter']}, not /ETSI.CAdES.detached")
            ts = status.timestamp_validity
            if ts is not None:
                report["timestamp"] = {
                    "intact": ts.intact,
                    "valid": ts.valid,
                    "trusted": ts.trusted,
                    "time": ts.timestamp.isoformat(),
                }
            level = "B-T" if ts is not None else "B-B"
            report["level"] = level
            if ts is not None and not (ts.intact and ts.valid and ts.trusted):
                problems.append("the signature time-stamp does not validate against the roots given")
            if args.level and level != args.level:
                problems.append(f"level {level}, expected {args.level}")
        root = reader.root
        meta = root["/Metadata"].get_object().data.decode("utf-8")
        report["pdfa"] = "pdfaid:part>3<" in meta or 'pdfaid:part="3"' in meta
        if not report["pdfa"] or not ("pdfaid:conformance>B<" in meta or 'pdfaid:conformance="B"' in meta):
            problems.append("XMP metadata does not declare PDF/A-3b")
        intents = root.get("/OutputIntents")
        if not intents or "/DestOutputProfile" not in intents[0].get_object():
            problems.append("no ICC output intent")
        attachments = {}
        for spec in root.get("/AF", []):
            spec = spec.get_object()
            name = str(spec["/UF"])
            if "/AFRelationship" not in spec:
                problems.append(f"attachment {name} has no AFRelationship")
            data = spec["/EF"]["/F"].get_object().data
            attachments[name] = {"relationship": str(spec.get("/AFRelationship")), "bytes": len(data)}
            if args.extract:
                with open(f"{args.extract}/{name}", "wb") as out:
                    out.write(data)
        report["attachments"] = attachments
    report["problems"] = problems
    print(json.dumps(report, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
