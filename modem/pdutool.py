"""`smsgw pdu`: decode PDU dumps from a modem and encode SMS-SUBMIT PDUs, as JSON on stdout."""

from __future__ import annotations

import argparse
import json
import math
import string
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from modem.errors import PduDecodeError, PduEncodeError
from modem.pdu import (
    Address,
    Encoding,
    Expired,
    Message,
    Part,
    Pdu,
    Reassembler,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    choose_encoding,
    decode_hex,
    encode_submit,
)

EXIT_OK = 0
EXIT_BAD_PDU = 1  # printed what it could; at least one PDU did not decode
EXIT_USAGE = 2  # bad arguments or input that cannot be encoded
_HEX_DIGITS = frozenset(string.hexdigits)

_DECODE_HELP = """\
Decode PDUs as a modem prints them in PDU mode (+CMGL, +CMGR, +CMT, +CDS) and print JSON:
{"pdus": [...], "messages": [...]}. Each PDU entry has its type, number, text, timestamps
(ISO 8601 with the SCTS offset) and concatenation info, or an "error" naming the field and the
octet offset. "messages" joins the parts that belong together; a group with parts missing has
"complete": false and lists "missing".

Input: every HEX argument is split on whitespace and each word is one PDU. The argument "-"
reads stdin instead, for pasted modem dumps: there, words containing anything but hex digits
(AT commands, "+CMGL: 1,0,,23", "OK") are skipped, and every all-hex word is one PDU.

Exit status: 0 when every PDU decoded, 1 when some did not (the rest are still printed),
2 for bad arguments."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsgw pdu",
        description="Decode modem PDU dumps, or encode SMS-SUBMIT PDUs for AT+CMGS.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dec = sub.add_parser(
        "decode",
        help="decode PDUs (hex) to JSON",
        description=_DECODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    dec.add_argument(
        "--no-smsc",
        action="store_true",
        help="the hex is a bare TPDU without the SMSC field (the default expects it)",
    )
    dec.add_argument("hex", nargs="+", metavar="HEX", help='PDU hex, or "-" for stdin')
    enc = sub.add_parser(
        "encode",
        help="encode a text as SMS-SUBMIT PDUs",
        description="Print the SMS-SUBMIT PDUs for a text as JSON: hex and the AT+CMGS "
        "length of each part. Exit status 2 when the input cannot be encoded.",
    )
    enc.add_argument(
        "--to", required=True, metavar="NUMBER", help="+<digits> or <digits>"
    )
    enc.add_argument("--report", action="store_true", help="request a status report")
    enc.add_argument(
        "--smsc", metavar="NUMBER", help="SMSC to use (default: the SIM's)"
    )
    enc.add_argument(
        "--ref",
        type=int,
        metavar="N",
        help="concatenation reference 0-255, needed when the text takes several parts",
    )
    enc.add_argument(
        "--validity", type=int, metavar="SECONDS", help="relative validity period"
    )
    enc.add_argument(
        "--ucs2", action="store_true", help="send as UCS-2 even if GSM-7 would do"
    )
    enc.add_argument("text", metavar="TEXT")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `smsgw pdu ARGS`; returns the exit status."""
    try:
        args = _parser().parse_args(list(argv))
    except SystemExit as exc:  # argparse has printed usage or help already
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command == "decode":
        return _decode(args.hex, has_smsc=not args.no_smsc)
    return _encode(args)


def _tokens(arguments: Iterable[str]) -> list[str]:
    tokens: list[str] = []
    for argument in arguments:
        if argument == "-":
            tokens += [
                word
                for word in sys.stdin.read().split()
                if all(ch in _HEX_DIGITS for ch in word)
            ]
        else:
            tokens += argument.split()
    return tokens


def _decode(arguments: Sequence[str], *, has_smsc: bool) -> int:
    tokens = _tokens(arguments)
    if not tokens:
        sys.stderr.write("smsgw pdu decode: no PDU in the input\n")
        return EXIT_USAGE
    entries: list[dict[str, Any]] = []
    index_of: dict[int, int] = {}
    # Everything is in front of us, so nothing expires until the end.
    reassembler = Reassembler(expiry_s=math.inf)
    complete: list[Message] = []
    failed = False
    for index, token in enumerate(tokens):
        entry: dict[str, Any] = {"index": index, "hex": token.upper()}
        try:
            pdu = decode_hex(token, has_smsc=has_smsc)
        except PduDecodeError as exc:
            failed = True
            entry["error"] = {
                "field": exc.field,
                "offset": exc.offset,
                "reason": exc.reason,
            }
        else:
            entry.update(_pdu_json(pdu))
            if isinstance(pdu, SmsDeliver | SmsSubmit):
                index_of[id(pdu)] = index
                message = reassembler.add(pdu, now=0.0)
                if message is not None:
                    complete.append(message)
        entries.append(entry)
    groups: list[Message | Expired] = [*complete, *reassembler.expire(math.inf)]
    messages = sorted(
        (_message_json(group, index_of) for group in groups),
        key=lambda m: min(m["pdus"]),
    )
    _write({"pdus": entries, "messages": messages})
    return EXIT_BAD_PDU if failed else EXIT_OK


def _encode(args: argparse.Namespace) -> int:
    try:
        parts = encode_submit(
            args.to,
            args.text,
            concat_ref=args.ref,
            request_status_report=args.report,
            smsc=args.smsc,
            validity_s=args.validity,
            encoding=Encoding.UCS2 if args.ucs2 else None,
        )
    except PduEncodeError as exc:
        hint = (
            " (the text takes several parts: give --ref N)"
            if exc.field == "concat_ref"
            else ""
        )
        sys.stderr.write(f"smsgw pdu encode: {exc}{hint}\n")
        return EXIT_USAGE
    encoding = Encoding.UCS2 if args.ucs2 else choose_encoding(args.text)
    _write(
        {
            "encoding": encoding.value,
            "parts": [
                {
                    "seq": part.seq,
                    "total": part.total,
                    "cmgs_length": part.tpdu_length,
                    "hex": part.hex,
                }
                for part in parts
            ],
        }
    )
    return EXIT_OK


def _address(address: Address | None) -> str | None:
    return None if address is None else address.number


def _pdu_json(pdu: Pdu) -> dict[str, Any]:
    out: dict[str, Any] = {"type": pdu.pdu_type.value, "smsc": _address(pdu.smsc)}
    if isinstance(pdu, StatusReport):
        meaning = (
            "delivered" if pdu.delivered else "pending" if pdu.pending else "failed"
        )
        out.update(
            number=pdu.recipient.number,
            reference=pdu.reference,
            status=pdu.status,
            status_meaning=meaning,
            timestamp=pdu.sc_timestamp.isoformat(),
            discharge_time=pdu.discharge_time.isoformat(),
        )
        return out
    out["number"] = pdu.address.number
    if isinstance(pdu, SmsDeliver):
        out["timestamp"] = pdu.timestamp.isoformat()
    else:
        out["reference"] = pdu.reference
        out["status_report_request"] = pdu.status_report_request
        out["validity_s"] = pdu.validity_relative_s
    out.update(encoding=pdu.encoding.value, pid=pdu.pid, dcs=pdu.dcs, text=pdu.text)
    if pdu.encoding is Encoding.DATA8:
        out["data_hex"] = pdu.data.hex().upper()
    concat = pdu.concat
    out["concat"] = (
        None
        if concat is None
        else {
            "ref": concat.ref,
            "ref_bits": concat.ref_bits,
            "total": concat.total,
            "seq": concat.seq,
        }
    )
    return out


def _message_json(group: Message | Expired, index_of: dict[int, int]) -> dict[str, Any]:
    parts: tuple[Part, ...] = group.parts
    missing = group.missing if isinstance(group, Expired) else ()
    return {
        "number": group.address.number,
        "text": group.text,
        "pdus": [index_of[id(part)] for part in parts],
        "total": len(parts) + len(missing),
        "complete": not missing,
        "missing": list(missing),
    }


def _write(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
