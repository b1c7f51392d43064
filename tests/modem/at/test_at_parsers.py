"""Parsers: real reply lines (tests/data/at) to values; malformed ones to AtParseError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from modem.at import commands, parsers
from modem.at.parsers import (
    CnmiSupport,
    ListedPdu,
    NetworkRegistration,
    Operator,
    OwnNumber,
    PushedPdu,
    ReadPdu,
    ServiceCentre,
    SignalQuality,
    StorageStatus,
    StorageSupport,
    TextMessage,
    Ussd,
)
from modem.errors import AtParseError
from modem.events import Registration, StoredLocation

# python-gsmmodem's stored PDU (tests/data/pdu/deliver.jsonl pygsm-cmgl-1)
PDU_HEX = "07917248014000F3240B917247587706F400003110824115248012C8329BFD06C9C373B8B82C97E741F034"
PDU = bytes.fromhex(PDU_HEX)
MM_PDU_HEX = (  # ModemManager test_cmgl_response_generic
    "07914306073011F00405812261F700003130916191314095C274D96D2FBBD3E437280CB2BEC961F3DB5D"
    "76818EF2F0381D9E83E06F39A8CC2E9FD372F77BEE0249CBE37A594E0E83E2F532085E2F93CB73D0B93C"
    "A7A7DFEEB01C447F93DF7310BD3E07CDCB727B7A9C7ECF41E432C8FC96B7C32079189E26874179D0F8DD"
    "7E93C3A0B21B246AA641D637396C7EBBCB22D0FD7E77B5D376B3AB3C07"
)
PANTECH = (  # odd number of hex digits
    "079100F40D1101000F001000B917118336058F300001954747A0E4ACF41F27298CDCE83C6EF371B0402814020"
)


def rejects(
    parse: Callable[..., Any], *args: Any, match: str | None = None
) -> AtParseError:
    with pytest.raises(AtParseError, match=match) as info:
        parse(*args)
    return info.value


# -- identity ---------------------------------------------------------------------------------


def test_identity_lines() -> None:
    assert parsers.parse_cgmi(["huawei"]) == "huawei"
    assert parsers.parse_cgmi([" WAVECOM MODEM"]) == "WAVECOM MODEM"
    assert parsers.parse_cgmm(['+CGMM: "EC25"']) == "EC25"
    assert parsers.parse_cgmm(["  MULTIBAND  900E  1800 "]) == "MULTIBAND  900E  1800"
    nokia = ["V ICPR72_08w44.1", "24-11-08", "RM-348", "(c) Nokia", "11.049"]
    assert parsers.parse_cgmr(nokia) == "\n".join(nokia)
    rejects(parsers.parse_cgmr, [], match="no identification")
    rejects(parsers.parse_cgmm, ["+CGMM:"], match="no identification")


def test_imei_and_imsi() -> None:
    assert parsers.parse_cgsn(["111111111111111"]) == "111111111111111"
    assert parsers.parse_cgsn(['+CGSN: "867962041234567"']) == "867962041234567"
    assert parsers.parse_cgsn(["noise", "8679620412345671"]) == "8679620412345671"
    assert parsers.parse_cimi(["234150000000000"]) == "234150000000000"
    rejects(parsers.parse_cgsn, ["12345"], match="5 digits")
    rejects(parsers.parse_cimi, ["ERROR-ish"], match="no line of digits")


@pytest.mark.parametrize(
    ("lines", "iccid"),
    [
        (["+CCID: 89860318740214474316"], "89860318740214474316"),
        (['+CCID: "89860318740214474316"'], "89860318740214474316"),
        (["89860318740214474316"], "89860318740214474316"),
        (["8944200011231044047F"], "8944200011231044047"),
        (["+QCCID: 89860318740214474316"], "89860318740214474316"),
        (["+ICCID: 89860318740214474316"], "89860318740214474316"),
        (["^ICCID: 98444091041527180624"], "89440419405172816042"),  # nibble-swapped
        (['+CRSM: 144,0,"98681031098310024233"'], "89860113903801202433"),
    ],
)
def test_iccid_variants(lines: list[str], iccid: str) -> None:
    assert parsers.parse_ccid(lines) == iccid


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["+CCID: 1234"],
        ["+CCID: 8986031874021447431X"],
        ["+CRSM: 144,0"],
        ["+CRSM: 1,0,985"],
    ],
)
def test_iccid_rejects(lines: list[str]) -> None:
    rejects(parsers.parse_ccid, lines)


# -- SIM and network --------------------------------------------------------------------------


def test_cpin() -> None:
    assert parsers.parse_cpin(["+CPIN: READY"]) == "READY"
    assert parsers.parse_cpin(['+CPIN: "SIM PIN"']) == "SIM PIN"
    assert parsers.parse_cpin(["+CPIN: sim puk"]) == "SIM PUK"
    rejects(parsers.parse_cpin, ["+CPIN: "], match="empty")
    rejects(parsers.parse_cpin, ["READY"], match="no \\+CPIN: line")


@pytest.mark.parametrize(
    ("line", "dbm", "ber"),
    [
        ("+CSQ: 17,99", -79, None),
        ("+CSQ: 0,0", -113, 0),
        ("+CSQ: 31,7", -51, 7),
        ("+CSQ: 99,99", None, None),
        ("+CSQ: 100,99", -116, None),
        ("+CSQ: 191,99", -25, None),
        ("+CSQ: 199,99", None, None),
    ],
)
def test_csq(line: str, dbm: int | None, ber: int | None) -> None:
    quality = parsers.parse_csq([line])
    assert quality.rssi_dbm == dbm
    assert quality.ber_class == ber


@pytest.mark.parametrize(
    "line",
    [
        "+CSQ: 17",
        "+CSQ: 32,99",
        "+CSQ: 17,8",
        "+CSQ: x,99",
        "+CSQ: -1,99",
        "+CSQ: 1,2,3",
    ],
)
def test_csq_rejects(line: str) -> None:
    error = rejects(parsers.parse_csq, [line])
    assert error.command == "+CSQ"
    assert error.line == line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # gammu tests/at-creg/*.dump
        ("+CREG: 2,1,4CA,81DE445", NetworkRegistration(2, 1, "4CA", "81DE445")),
        ("+CREG: 0,0", NetworkRegistration(0, 0)),
        ('+CREG: 0,1,"5E25","605F"', NetworkRegistration(0, 1, "5E25", "605F")),
        (
            '+CREG: 2,5,"2AF5","0B88E350",2',
            NetworkRegistration(2, 5, "2AF5", "0B88E350", 2),
        ),
        ('+CREG: 0,1,"5e25","605f",', NetworkRegistration(0, 1, "5E25", "605F")),
    ],
)
def test_creg_solicited(line: str, expected: NetworkRegistration) -> None:
    assert parsers.parse_creg([line]) == expected


def test_creg_takes_the_solicited_line_written_last() -> None:
    lines = ['+CREG: 5,"00C3","0000A1B2",7', '+CREG: 2,5,"00C3","0000A1B2",7']
    assert parsers.parse_creg(lines) == NetworkRegistration(2, 5, "00C3", "0000A1B2", 7)


def test_registration_urcs() -> None:
    assert parsers.parse_creg_urc("+CREG: 1") == NetworkRegistration(None, 1)
    got = parsers.parse_creg_urc('+CREG: 5,"00C3","0000A1B2",7')
    assert got == NetworkRegistration(None, 5, "00C3", "0000A1B2", 7)
    assert got.registration is Registration.ROAMING
    assert parsers.parse_cgreg_urc("+CGREG: 2").registration is Registration.SEARCHING
    assert parsers.parse_cereg_urc('+CEREG: 1,"1A2B","00C3D4",7').lac == "1A2B"


def test_cgreg_and_cereg_solicited() -> None:
    assert parsers.parse_cgreg(["+CGREG: 0,1"]).registration is Registration.HOME
    assert parsers.parse_cereg(['+CEREG: 2,1,"1A2B","00C3D4",7']).act == 7


@pytest.mark.parametrize(
    ("stat", "registration"),
    [
        (0, Registration.NOT_REGISTERED),
        (1, Registration.HOME),
        (2, Registration.SEARCHING),
        (3, Registration.DENIED),
        (4, Registration.UNKNOWN),
        (5, Registration.ROAMING),
        (6, Registration.HOME),
        (7, Registration.ROAMING),
        (8, Registration.NOT_REGISTERED),
        (9, Registration.HOME),
        (10, Registration.ROAMING),
    ],
)
def test_registration_names(stat: int, registration: Registration) -> None:
    assert NetworkRegistration(None, stat).registration is registration


@pytest.mark.parametrize(
    "lines",
    [["+CREG: 2"], ["+CREG: 0,11"], ['+CREG: 2,1,"XYZ","1"'], ["+CGREG: 0,1"], []],
)
def test_creg_rejects(lines: list[str]) -> None:
    rejects(parsers.parse_creg, lines)


def test_cops() -> None:
    assert parsers.parse_cops(["+COPS: 0"]) == Operator(0)
    assert parsers.parse_cops(['+COPS: 0,0,"PeerNet",2']) == Operator(
        0, 0, "PeerNet", 2
    )
    assert parsers.parse_cops(['+COPS: 0,2,"00101"']) == Operator(0, 2, "00101")
    assert parsers.parse_cops(['+COPS: 1,,""']) == Operator(1)
    rejects(parsers.parse_cops, ["+COPS: 0,2"], match="without")
    rejects(parsers.parse_cops, ["+COPS: x"])


def test_cnum() -> None:
    lines = ['+CNUM: "Own","+15551234567",145', '+CNUM: ,"5550100",129,7,4']
    assert parsers.parse_cnum(lines) == [
        OwnNumber("Own", "+15551234567", 145),
        OwnNumber(None, "5550100", 129),
    ]
    assert parsers.parse_cnum([]) == []
    assert parsers.parse_cnum(['+CNUM: "x","+1"']) == [OwnNumber("x", "+1", None)]
    rejects(parsers.parse_cnum, ['+CNUM: "Own"'])
    rejects(parsers.parse_cnum, ['+CNUM: "Own",""'])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # gammu tests/at-smsc: quoted, unquoted UCS-2 hex, quoted UCS-2 hex
        ('+CSCA: "+79168999100",145', ServiceCentre("+79168999100", 145)),
        ('+CSCA: "6281100000",145', ServiceCentre("6281100000", 145)),
        (
            "+CSCA: 002B00390037003200350034003100320030003000330032,145",
            ServiceCentre("+97254120032", 145),
        ),
        (
            '+CSCA: "002B003400340037003800300032003000390032003000330035",145',
            ServiceCentre("+447802092035", 145),
        ),
        ('+CSCA: "00410042"', ServiceCentre("00410042", None)),  # hex, but not a number
        ('+CSCA: "0031"', ServiceCentre("1", None)),
    ],
)
def test_csca(line: str, expected: ServiceCentre) -> None:
    assert parsers.parse_csca([line]) == expected


def test_csca_rejects() -> None:
    rejects(parsers.parse_csca, ['+CSCA: "",145'], match="empty")


def test_cscs() -> None:
    assert parsers.parse_cscs(['+CSCS: "GSM"']) == "GSM"
    rejects(parsers.parse_cscs, ['+CSCS: ""'])
    assert parsers.parse_cscs_support(['+CSCS: ("IRA","GSM","UCS2")']) == (
        "IRA",
        "GSM",
        "UCS2",
    )
    assert parsers.parse_cscs_support(['+CSCS: "IRA"']) == ("IRA",)
    rejects(parsers.parse_cscs_support, ['+CSCS: ("IRA",(""))'])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '+CUSD: 0,"Available Balance: R 96.45 .",15',
            Ussd(0, "Available Balance: R 96.45 .", 15),
        ),
        ("+CUSD: 0, 49B41C74ACD3D161", Ussd(0, "49B41C74ACD3D161", None)),
        ("+CUSD: 2", Ussd(2, None, None)),
        ('+CUSD: 1,"Bal\n1. Top up",15', Ussd(1, "Bal\n1. Top up", 15)),
        ('+CUSD: 4,"",', Ussd(4, "", None)),
    ],
)
def test_cusd(line: str, expected: Ussd) -> None:
    assert parsers.parse_cusd(line) == expected


def test_cusd_rejects() -> None:
    rejects(parsers.parse_cusd, "+CUSD: ,x")
    rejects(parsers.parse_cusd, "+CMTI: 1")


# -- storage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '+CPMS: "SM",0,30,"SM",0,30,"SM",0,30',
            (StorageStatus("SM", 0, 30),) * 3,
        ),
        (
            '+CPMS: "MT", 0, 100, "MT", 0, 100, "MT", 0, 100',
            (StorageStatus("MT", 0, 100),) * 3,
        ),
        ("+CPMS: 14,50,14,50", (StorageStatus(None, 14, 50),) * 2),
        ("+CPMS: 1,5000", (StorageStatus(None, 1, 5000),)),
        ("+CPMS: 0,255,0,255,0,255", (StorageStatus(None, 0, 255),) * 3),
    ],
)
def test_cpms(line: str, expected: tuple[StorageStatus, ...]) -> None:
    assert parsers.parse_cpms([line]) == expected


@pytest.mark.parametrize(
    "line",
    [
        "+CPMS: ,,,,,,,,",
        "+CPMS: ",
        '+CPMS: "SM",1',
        "+CPMS: 1,2,3",
        '+CPMS: "",1,2',
        "+CPMS: a,1,b",
    ],
)
def test_cpms_rejects(line: str) -> None:
    rejects(parsers.parse_cpms, [line])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '+CPMS: ("ME","MT"),("ME","SM","MT"),("SM","MT")',  # Cinterion
            StorageSupport(("ME", "MT"), ("ME", "SM", "MT"), ("SM", "MT")),
        ),
        (
            '+CPMS: "ME","MT","SM"',
            StorageSupport(("ME",), ("MT",), ("SM",)),
        ),  # Huawei MU609
        ("+CPMS: (),(),()", StorageSupport((), (), ())),  # Nokia
        (
            '+CPMS: ("ME","MT"),"ME",("SM")',
            StorageSupport(("ME", "MT"), ("ME",), ("SM",)),
        ),
        (
            '+CPMS:     (  "ME"  ,  "MT"  )   ,  "ME" ,   (  "SM"  )',
            StorageSupport(("ME", "MT"), ("ME",), ("SM",)),
        ),
        ("+CPMS: (),,(  )", StorageSupport((), (), ())),
        ("+CPMS: ", StorageSupport((), (), ())),  # Samsung J700
        (
            '+CPMS: (("SM","BM","SR"),("SM"))',  # Wavecom: one more pair of parentheses
            StorageSupport(("SM", "BM", "SR"), ("SM",), ()),
        ),
        (
            '+CPMS: ("ME","SM","SR"),("ME","SM")',  # gammu tests/atgen get-sms.c
            StorageSupport(("ME", "SM", "SR"), ("ME", "SM"), ()),
        ),
        (
            '+CPMS: ("SM", "ME", "SM_P", "ME_P", "MT"), ("SM", "ME", "SM_P", "ME_P", "MT"), '
            '("SM", "ME", "SM_P", "ME_P", "MT")',  # Alcatel S320
            StorageSupport(*[("SM", "ME", "SM_P", "ME_P", "MT")] * 3),
        ),
    ],
)
def test_cpms_support(line: str, expected: StorageSupport) -> None:
    assert parsers.parse_cpms_support([line]) == expected


@pytest.mark.parametrize(
    "line",
    [
        '+CPMS: "A","B","C","D"',
        '+CPMS: ("SM",""),(),()',
        '+CPMS: ("S(M"),(),()',
        '+CPMS: (("SM")',
    ],
)
def test_cpms_support_rejects(line: str) -> None:
    rejects(parsers.parse_cpms_support, [line])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "+CNMI: (2),(0-1,3),(0,2),(0-1),(0)",
            CnmiSupport(
                frozenset({2}),
                frozenset({0, 1, 3}),
                frozenset({0, 2}),
                frozenset({0, 1}),
                frozenset({0}),
            ),
        ),
        (
            "+CNMI:(0-3),(0-3),(0-3),(0,1),(0,1)",
            CnmiSupport(
                *[frozenset(range(4))] * 3, frozenset({0, 1}), frozenset({0, 1})
            ),
        ),
        (
            "+CNMI: (0-2),(0-3)",
            CnmiSupport(frozenset(range(3)), frozenset(range(4)), *[frozenset()] * 3),
        ),
        ("+CNMI: (),(),(),(),()", CnmiSupport(*[frozenset()] * 5)),
    ],
)
def test_cnmi_support(line: str, expected: CnmiSupport) -> None:
    assert parsers.parse_cnmi_support([line]) == expected


@pytest.mark.parametrize(
    "line",
    ["+CNMI: (3-1)", "+CNMI: (0-999)", "+CNMI: (a)", "+CNMI: (0),(0),(0),(0),(0),(0)"],
)
def test_cnmi_support_rejects(line: str) -> None:
    rejects(parsers.parse_cnmi_support, [line])


# -- messages ---------------------------------------------------------------------------------


def test_cmgl_pdu_mode() -> None:
    lines = [
        "+CMGL: 0,1,,147",
        MM_PDU_HEX,
        "+CMGL: 1,1,,147",
        MM_PDU_HEX,
        '+CMGL: 2,0,"",35',
    ]
    lines.append(PDU_HEX)
    listed = parsers.parse_cmgl(lines)
    assert [(e.index, e.stat, e.length) for e in listed] == [
        (0, 1, 147),
        (1, 1, 147),
        (2, 0, 35),
    ]
    assert listed[2] == ListedPdu(2, 0, None, 35, PDU)
    assert parsers.parse_cmgl([]) == []


def test_cmgl_skips_noise_before_the_pdu() -> None:
    # python-gsmmodem checks that a garbage line after the first header is tolerated
    lines = ["+CMGL: 0,0,,35", "AFSDLF SDKFJSKDLFJLKSDJF SJDLKFSKLDJFKSDFS", PDU_HEX]
    assert parsers.parse_cmgl(lines)[0].pdu == PDU


def test_cmgl_pantech_without_alpha_and_with_odd_hex() -> None:
    assert parsers.parse_cmgl_header("+CMGL: 17,3,35") == (17, 3, None, "35")
    error = rejects(parsers.parse_cmgl, ["+CMGL: 17,3,35", PANTECH], match="odd number")
    assert error.line == PANTECH


def test_cmgl_entries_can_be_parsed_one_by_one() -> None:
    lines = ["noise", "+CMGL: 17,3,35", PANTECH, "+CMGL: 2,0,,35", PDU_HEX]
    entries = parsers.split_entries(lines, "+CMGL:")
    assert [h for h, _ in entries] == ["+CMGL: 17,3,35", "+CMGL: 2,0,,35"]
    rejects(parsers.parse_cmgl_entry, *entries[0])
    assert parsers.parse_cmgl_entry(*entries[1]).index == 2


@pytest.mark.parametrize(
    "lines",
    [
        ["+CMGL: 3,1,,24"],
        ["+CMGL: 3,1"],
        ["+CMGL: x,1,,24", PDU_HEX],
        ['+CMGL: 0,"REC UNREAD","+2774",,"13/01/28,14:51:42+08"', "Hello"],
        ["+CMGL: 0,1,,24", "XYZ"],
    ],
)
def test_cmgl_rejects(lines: list[str]) -> None:
    rejects(parsers.parse_cmgl, lines)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["+CMGR: 3,,29", PDU_HEX], ReadPdu(3, None, 29, PDU)),
        (['+CMGR: 0,"abc123",29', PDU_HEX], ReadPdu(0, "abc123", 29, PDU)),
        (["+CMGR: 0,Test User 123,35", PDU_HEX], ReadPdu(0, "Test User 123", 35, PDU)),
        (['+CMGR: 0,"",50', PDU_HEX], ReadPdu(0, None, 50, PDU)),  # Telit
        (["+CMGR: 0,23", PDU_HEX], ReadPdu(0, None, 23, PDU)),  # gammu at-sms/07
        (["+CMGR: 24", PDU_HEX], ReadPdu(None, None, 24, PDU)),  # gammu at-sms/38
        (["+CMGR: ,,92", PDU_HEX], ReadPdu(None, None, 92, PDU)),  # ZTE, no <stat>
        (["+CMGR: 4,1,,151", PDU_HEX], ReadPdu(1, None, 151, PDU)),  # gammu at-sms/26
        (
            [f"+CMGR: 1,,147 {MM_PDU_HEX}"],
            ReadPdu(1, None, 147, bytes.fromhex(MM_PDU_HEX)),
        ),
        (
            ["+CMGR: 1,,35", f'{PDU_HEX}"'],
            ReadPdu(1, None, 35, PDU),
        ),  # gammu at-sms/04
        (["+CMGR: 1,,35", f"  {PDU_HEX.lower()}  "], ReadPdu(1, None, 35, PDU)),
    ],
)
def test_cmgr_pdu_mode(lines: list[str], expected: ReadPdu) -> None:
    assert parsers.parse_cmgr(lines) == expected


@pytest.mark.parametrize(
    ("lines", "match"),
    [
        (["+CMGR: 0,,23"], "no PDU line"),
        (["+CMGR: 0,,23", "0BD04259303784=96p331p"], "not hex"),
        (["+CMGR: 0,,23 0791ZZ"], "not hex"),
        (["+CMGR: 1,2,3,4,23", PDU_HEX], "expected"),
        (
            ['+CMGR: "REC READ","+31625044454",,"07/07/05,09:56:03+08"', "Hi"],
            "text-mode",
        ),
        ([PDU_HEX], "no \\+CMGR: line"),
        (["+CMGR: 0,,99999999999", PDU_HEX], "not a number"),
    ],
)
def test_cmgr_rejects(lines: list[str], match: str) -> None:
    rejects(parsers.parse_cmgr, lines, match=match)


def test_cmgr_text_mode() -> None:
    lines = [
        '+CMGR: "REC READ","3473065111",,"06/05/28,18:15:41+80",129,17,0,18,"+39349",145,6',
        "hello.",
    ]
    assert parsers.parse_cmgr_text(lines) == TextMessage(
        None, "REC READ", "3473065111", None, "06/05/28,18:15:41+80", "hello."
    )
    motorola = ['+CMGR: "REC READ", "+4123456789132", "2009/8/18,19:11:45"', "a", "b"]
    got = parsers.parse_cmgr_text(motorola)
    assert (got.timestamp, got.text) == ("2009/8/18,19:11:45", "a\nb")
    unsent = [
        '+CMGR: "STO UNSENT","+10011",,145,17,0,0,167,"+8613800100500",145,4',
        "Hi",
    ]
    assert parsers.parse_cmgr_text(unsent).timestamp is None
    named = ['+CMGR: "REC UNREAD","+4470","Alice","24/03/01,10:15:00+00"', "OK thanks"]
    assert parsers.parse_cmgr_text(named).alpha == "Alice"
    rejects(parsers.parse_cmgr_text, ["Hi"])
    rejects(parsers.parse_cmgr_text, ["+CMGR: 0,,23", PDU_HEX], match="quoted")


def test_cmgl_text_mode() -> None:
    lines = [
        '+CMGL: 0,"REC UNREAD","+27748577604",,"13/01/28,14:51:42+08"',
        "Hello raspberry pi",
        '+CMGL: 1,"REC READ","+2784000153099999",,"13/02/07,01:31:44+08"',
        "New and here to stay!",
    ]
    got = parsers.parse_cmgl_text(lines)
    assert [(m.index, m.stat, m.text) for m in got] == [
        (0, "REC UNREAD", "Hello raspberry pi"),
        (1, "REC READ", "New and here to stay!"),
    ]


def test_cmgs() -> None:
    assert parsers.parse_cmgs(["+CMGS: 141"]) == 141
    assert parsers.parse_cmgs(['+CMGS: 5,"24/03/01,10:15:00+00"']) == 5
    rejects(parsers.parse_cmgs, ["+CMGS: 256"], match="range")
    rejects(parsers.parse_cmgs, ["OK"])


def test_stored_indications() -> None:
    assert parsers.parse_cmti('+CMTI: "SM",1') == StoredLocation("SM", 1)
    assert parsers.parse_cmti('+CMTI: "ME", 12') == StoredLocation("ME", 12)
    assert parsers.parse_cdsi('+CDSI: "SR",57') == StoredLocation("SR", 57)
    rejects(parsers.parse_cmti, '+CMTI: "SM"')
    rejects(parsers.parse_cmti, '+CMTI: "",1')
    rejects(parsers.parse_cdsi, '+CDSI: "SR",x')


def test_pushed_pdus() -> None:
    pdu = "07918497483252F0040B918496445078F700007121320144744004D4F29C0E"
    got = parsers.parse_cmt("+CMT: ,23", [pdu])
    assert got == PushedPdu(None, 23, bytes.fromhex(pdu))
    assert parsers.parse_cmt('+CMT: "Alice",23', [pdu]).alpha == "Alice"
    cds = "07914356060013F1065A098136395339F6219011700463802190117004638030"
    assert parsers.parse_cds("+CDS: 24", [cds]).length == 24
    assert parsers.parse_cds("+CDS:25", [cds]).pdu == bytes.fromhex(cds)


@pytest.mark.parametrize(
    ("line", "body"),
    [
        ("+CDS:25", ["BAD"]),  # gammu tests/atgen incoming-sms.c
        ("+CMT: ,23", []),
        ("+CMT: ,23", ["00", "11"]),
        ('+CMT: "+4470",,"24/03/01,10:15:00+00"', ["OK"]),  # text mode
        ("+CMT: ,x", ["00"]),
    ],
)
def test_pushed_pdu_rejects(line: str, body: list[str]) -> None:
    parse = parsers.parse_cds if line.startswith("+CDS") else parsers.parse_cmt
    rejects(parse, line, body)


# -- building blocks --------------------------------------------------------------------------


def test_split_fields_respects_quotes_and_parentheses() -> None:
    assert parsers.split_fields('1,"a,b",(1,2),,x') == ["1", '"a,b"', "(1,2)", "", "x"]
    assert parsers.split_fields("") == [""]
    assert parsers.split_fields('"open,') == ['"open,']
    assert parsers.split_fields("a),(b") == ["a)", "(b"]


def test_unquote() -> None:
    assert parsers.unquote('"x"') == "x"
    assert parsers.unquote('"') == '"'
    assert parsers.unquote("x") == "x"


def test_payload_and_find_line_errors_name_the_command() -> None:
    error = rejects(parsers.payload, "+CSQ: 1", "+CREG:", "+CREG")
    assert (error.command, error.line) == ("+CREG", "+CSQ: 1")
    error = rejects(parsers.find_line, ["a", "b"], "+CSQ:", "+CSQ")
    assert error.line == "a\nb"
    assert "AtParseError(command='+CSQ'" in repr(error)


def test_values_carry_their_fields() -> None:
    assert SignalQuality(17, 99).rssi_dbm == -79
    assert StorageStatus("SM", 1, 2).total == 2


def test_lines_around_the_one_that_matters_are_skipped() -> None:
    assert parsers.parse_ccid(["noise:", "+CCID: 89860318740214474316"]) == (
        "89860318740214474316"
    )
    assert parsers.parse_cnum(["noise", '+CNUM: ,"+1555",145']) == [
        OwnNumber(None, "+1555", 145)
    ]
    assert parsers.parse_creg(['+CREG: 2,4,"",""']) == NetworkRegistration(2, 4)


def test_parse_cnmi_in_force() -> None:
    assert parsers.parse_cnmi(["+CNMI: 2,1,0,2,0"]) == (2, 1, 0, 2, 0)
    assert parsers.parse_cnmi(["+CNMI: 0,0,0,0"]) == (0, 0, 0, 0)
    with pytest.raises(AtParseError):
        parsers.parse_cnmi(["+CNMI: 2,x"])
    with pytest.raises(AtParseError):
        parsers.parse_cnmi(["OK"])


def test_cnmi_query_command() -> None:
    cmd = commands.cnmi_query()
    assert (cmd.text, cmd.prefix) == ("AT+CNMI?", "+CNMI:")
