"""The pure AT interpreter: command lines in, replies and state changes out."""

from __future__ import annotations

import pytest

from modem.sim import responder
from modem.sim.profiles import get_profile
from modem.sim.state import MessageStat, PinState, Registration, SimState

NOW = 1_795_801_318.0
NUMBER = "+15550100001"
# An SMS-DELIVER as gammu-smsd read it from a modem (SMSC field first), 28 TPDU octets.
DELIVER_HEX = "07915155000000F0040A9194710000100000621172714401000B49B7F85D7793416F7719"
# gammu's "Hello single" SMS-SUBMIT with the SMSC from AT+CSCA?, 26 TPDU octets.
SUBMIT_HEX = "07915155000000F011000D91945111325476F80000FF0CC8329BFD06CDD3EE33BB0C"
SUBMIT_NO_SMSC_HEX = "0011000D91945111325476F80000FF0CC8329BFD06CDD3EE33BB0C"


def make_state(profile: str = "generic", *, pin: str | None = None) -> SimState:
    return SimState.for_profile(get_profile(profile), NUMBER, pin=pin)


def run(state: SimState, line: str) -> tuple[str, ...]:
    return responder.handle(line, state, NOW).lines


def store(
    state: SimState, mem: str = "SM", stat: MessageStat = MessageStat.REC_UNREAD
) -> int:
    return state.storage(mem).store(bytes.fromhex(DELIVER_HEX), 28, stat)


# What gammu and smstools send and the replies they parse (peers/README.md section 4).
PEER_EXPECTATIONS = [
    ("AT", ("OK",)),
    ("ATE1", ("OK",)),
    ("ATE0", ("OK",)),
    ("AT+MODE=2", ("ERROR",)),
    ("AT+CMEE=1", ("OK",)),
    ("AT+CSCS?", ('+CSCS: "IRA"', "OK")),
    ("AT+CSCS=?", ('+CSCS: ("IRA","GSM","UCS2","HEX","8859-1","PCCP437")', "OK")),
    ('AT+CSCS="HEX"', ("OK",)),
    ("AT+CGMM", ("SIM-27005", "OK")),
    ("AT+CGMI", ("SmsGw", "OK")),
    ("AT+CGMR", ("1.0.0", "OK")),
    ("AT+CGSN", ("490154203237518", "OK")),
    ("AT+CIMI", ("001010123456789", "OK")),
    ("AT+CPROT=?", ("ERROR",)),
    ("AT+SYNCML=?", ("ERROR",)),
    ("AT$TSSPCSW=?", ("ERROR",)),
    ("AT+CHUP=?", ("OK",)),
    ("AT+CFUN=1", ("OK",)),
    ("AT+CPIN?", ("+CPIN: READY", "OK")),
    ("AT+CPMS=?", ('+CPMS: ("SM","ME","SR"),("SM","ME"),("SM","ME")', "OK")),
    ('AT+CPMS="ME"', ("+CPMS: 0,100,0,30,0,30", "OK")),
    ('AT+CPMS="SM","SM"', ("+CPMS: 0,30,0,30,0,30", "OK")),
    ("AT+CPMS?", ('+CPMS: "SM",0,30,"SM",0,30,"SM",0,30', "OK")),
    ("AT+CNMI=?", ("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)", "OK")),
    ("AT+CNMI=2,1,0,2,0", ("OK",)),
    ("AT+CUSD=1", ("OK",)),
    ("AT+CMMS=2", ("OK",)),
    ("AT+CBC", ("+CBC: 0,100", "OK")),
    ("AT+CSQ", ("+CSQ: 20,99", "OK")),
    ("AT+CREG=2", ("OK",)),
    ("AT+CGREG=2", ("OK",)),
    ("AT+CGATT?", ("+CGATT: 1", "OK")),
    ("AT+CREG?", ("+CREG: 0,1", "OK")),
    ("AT+COPS=3,2", ("OK",)),
    ("AT+CSCA?", ('+CSCA: "+15550000000",145', "OK")),
    ("AT+CMGF=0", ("OK",)),
    ("AT+CMEE=1;+CREG=2", ("OK",)),
    ("AT+CMGL=4", ("OK",)),
]


@pytest.mark.parametrize(
    ("line", "expected"), PEER_EXPECTATIONS, ids=[p[0] for p in PEER_EXPECTATIONS]
)
def test_replies_the_peers_parse(line: str, expected: tuple[str, ...]) -> None:
    assert run(make_state(), line) == expected


def test_registration_and_operator_formats_follow_the_host_settings() -> None:
    state = make_state()
    assert run(state, "AT+CREG=2;+CGREG=2") == ("OK",)
    assert run(state, "AT+CREG?") == ('+CREG: 2,1,"1A2B","00C3D4"', "OK")
    assert run(state, "AT+CGREG?") == ('+CGREG: 2,1,"1A2B","00C3D4"', "OK")
    assert run(state, "AT+COPS=3,2;+COPS?") == ('+COPS: 0,2,"00101",2', "OK")
    assert run(state, "AT+COPS=3,0;+COPS?") == ('+COPS: 0,0,"SimNet",2', "OK")
    state.registration = Registration.NOT_REGISTERED
    assert run(state, "AT+CREG?") == ("+CREG: 2,0", "OK")
    assert run(state, "AT+COPS?") == ("+COPS: 0", "OK")
    assert run(state, "AT+CSQ") == ("+CSQ: 99,99", "OK")
    assert run(state, "AT+CGATT?") == ("+CGATT: 0", "OK")


def test_identity_commands() -> None:
    state = make_state()
    assert run(state, "ATI") == (
        "Manufacturer: SmsGw",
        "Model: SIM-27005",
        "Revision: 1.0.0",
        "IMEI: 490154203237518",
        "OK",
    )
    assert run(state, "AT+CNUM") == (f'+CNUM: "","{NUMBER}",145', "OK")
    assert run(state, "AT+CCID") == ("+CCID: 8901260000000000017", "OK")
    assert run(state, "AT+GCAP") == ("+GCAP: +CGSM", "OK")


@pytest.mark.parametrize(
    ("profile", "line", "expected"),
    [
        ("simcom", "AT+CCID", "8901260000000000017"),
        ("simcom", "AT+CICCID", "+ICCID: 8901260000000000017"),
        ("quectel", "AT+QCCID", "+QCCID: 8901260000000000017"),
        ("huawei", "AT^ICCID?", "^ICCID: 8901260000000000017"),
    ],
)
def test_vendor_iccid_commands(profile: str, line: str, expected: str) -> None:
    assert run(make_state(profile), line) == (expected, "OK")


def test_unknown_commands_get_the_family_error() -> None:
    assert run(make_state(), "AT+WIND?") == ("ERROR",)
    assert run(make_state("huawei"), "AT+WIND?") == ("COMMAND NOT SUPPORT",)
    assert run(make_state("generic"), "AT^CURC=0") == ("ERROR",)
    assert run(make_state("huawei"), "AT^CURC=0") == ("OK",)
    assert run(make_state("quectel"), 'AT+QURCCFG="urcport","usbat"') == ("OK",)


@pytest.mark.parametrize(
    ("cmee", "expected"),
    [(0, "ERROR"), (1, "+CMS ERROR: 321"), (2, "+CMS ERROR: invalid memory index")],
)
def test_errors_honour_cmee(cmee: int, expected: str) -> None:
    state = make_state()
    assert run(state, f"AT+CMEE={cmee}") == ("OK",)
    assert run(state, "AT+CMGR=5") == (expected,)


def test_cme_errors_honour_cmee() -> None:
    state = make_state(pin="1234")
    assert run(state, "AT+CIMI") == ("ERROR",)
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CIMI") == ("+CME ERROR: 11",)
    run(state, "AT+CMEE=2")
    assert run(state, "AT+CIMI") == ("+CME ERROR: SIM PIN required",)


def test_a_chain_runs_in_order_and_stops_at_the_first_error() -> None:
    state = make_state()
    assert run(state, "AT+CMEE=1;+CREG=2") == ("OK",)
    assert (state.cmee, state.creg_n) == (1, 2)
    assert run(state, "AT+CMEE=0;+NOPE;+CREG=0") == ("ERROR",)
    assert (state.cmee, state.creg_n) == (0, 2)
    assert run(state, "AT+CSQ;+CBC") == ("+CSQ: 20,99", "+CBC: 0,100", "OK")
    assert run(state, "ATE0V1Q0") == ("OK",)
    assert state.echo is False


def test_basic_commands() -> None:
    state = make_state()
    assert run(state, "ATV0") == ("ERROR",)
    assert run(state, "ATS0=0") == ("OK",)
    assert run(state, "ATS3?") == ("000", "OK")
    assert run(state, "AT&FE0") == ("OK",)
    assert run(state, "AT&") == ("ERROR",)
    state.cmee = 2
    state.cnmi = state.cnmi.__class__(0, 0, 0, 0, 0)
    assert run(state, "ATZ") == ("OK",)
    assert state.cmee == 0
    assert state.cnmi.as_tuple() == (2, 1, 0, 0, 0)


def test_lines_without_the_at_prefix_get_no_answer() -> None:
    reply = responder.handle("hello", make_state(), NOW)
    assert reply.ignored
    assert responder.frame(reply) == b""


def test_commands_are_counted() -> None:
    state = make_state()
    run(state, "AT+CSQ")
    run(state, "AT+CSQ;+CBC")
    run(state, "ATE0")
    assert state.command_counts["AT+CSQ"] == 2
    assert state.command_counts["AT+CBC"] == 1
    assert state.command_counts["ATE"] == 1


def test_pin_unlock_and_lockout() -> None:
    state = make_state(pin="1234")
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CPIN?") == ("+CPIN: SIM PIN", "OK")
    assert run(state, "AT+CMGL=4") == ("+CMS ERROR: 311",)
    assert run(state, "AT+CREG?") == ("+CREG: 0,0", "OK")
    assert run(state, 'AT+CPIN="0000"') == ("+CME ERROR: 16",)
    reply = responder.handle('AT+CPIN="1234"', state, NOW)
    assert reply.lines == ("OK",)
    assert state.pin_state is PinState.READY
    assert run(state, "AT+CPIN=1234") == ("+CME ERROR: 3",)
    assert run(state, "AT+CMGL=4") == ("OK",)


def test_three_wrong_pins_need_the_puk() -> None:
    state = make_state(pin="1234")
    run(state, "AT+CMEE=1")
    for _ in range(3):
        assert run(state, "AT+CPIN=9999") == ("+CME ERROR: 16",)
    assert run(state, "AT+CPIN?") == ("+CPIN: SIM PUK", "OK")
    assert run(state, "AT+CIMI") == ("+CME ERROR: 12",)
    assert run(state, 'AT+CPIN="00000000","4321"') == ("+CME ERROR: 16",)
    assert run(state, 'AT+CPIN="12345678","4321"') == ("OK",)
    assert state.pin == "4321"
    assert state.sim_ready


def test_unlocking_a_simcom_prints_the_rest_of_its_boot_banners() -> None:
    state = make_state("simcom", pin="1234")
    reply = responder.handle("AT+CPIN=1234", state, NOW)
    assert reply.urcs_after == ("+CPIN: READY", "Call Ready", "SMS Ready")


def test_cpms_selects_storages_and_counts() -> None:
    state = make_state()
    store(state, "SM")
    store(state, "SM")
    store(state, "ME")
    assert run(state, 'AT+CPMS="ME","SM","ME"') == ("+CPMS: 1,100,2,30,1,100", "OK")
    assert state.cpms == ("ME", "SM", "ME")
    assert run(state, "AT+CPMS?") == ('+CPMS: "ME",1,100,"SM",2,30,"ME",1,100', "OK")
    run(state, "AT+CMEE=1")
    assert run(state, 'AT+CPMS="XX"') == ("+CMS ERROR: 302",)
    assert run(state, 'AT+CPMS="SM","SR"') == ("+CMS ERROR: 302",)
    assert run(state, 'AT+CPMS="SR"') == ("+CPMS: 0,20,2,30,1,100", "OK")


def test_cmgl_in_pdu_mode_lists_and_marks_read() -> None:
    state = make_state()
    first = store(state)
    second = store(state, stat=MessageStat.REC_READ)
    assert run(state, "AT+CMGL=0") == (f"+CMGL: {first},0,,28", DELIVER_HEX, "OK")
    assert run(state, "AT+CMGL=0") == ("OK",)
    assert run(state, "AT+CMGL=4") == (
        f"+CMGL: {first},1,,28",
        DELIVER_HEX,
        f"+CMGL: {second},1,,28",
        DELIVER_HEX,
        "OK",
    )
    assert run(state, "AT+CMGL=?") == ("+CMGL: (0-4)", "OK")
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CMGL=7") == ("+CMS ERROR: 304",)


def test_cmgr_reads_a_slot_and_refuses_an_empty_one() -> None:
    state = make_state()
    index = store(state)
    assert run(state, f"AT+CMGR={index}") == ("+CMGR: 0,,28", DELIVER_HEX, "OK")
    assert run(state, f"AT+CMGR={index}") == ("+CMGR: 1,,28", DELIVER_HEX, "OK")
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CMGR=2") == ("+CMS ERROR: 321",)
    assert run(state, "AT+CMGR=x") == ("+CMS ERROR: 304",)


def test_cmgd_deletes_by_index_and_by_flag() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    a = store(state)
    b = store(state, stat=MessageStat.REC_READ)
    c = store(state, stat=MessageStat.STO_SENT)
    assert run(state, "AT+CMGD=?") == (f"+CMGD: ({a},{b},{c}),(0-4)", "OK")
    reply = responder.handle(f"AT+CMGD={a}", state, NOW)
    assert reply.lines == ("OK",)
    assert reply.storage_changed
    assert run(state, f"AT+CMGD={a}") == ("OK",)  # an empty slot deletes quietly
    assert run(state, "AT+CMGD=31") == ("+CMS ERROR: 321",)
    assert run(state, "AT+CMGD=1,1") == ("OK",)
    assert sorted(state.storage("SM").messages) == [c]
    assert run(state, "AT+CMGD=1,4") == ("OK",)
    assert state.storage("SM").used == 0
    assert run(state, "AT+CMGD=1,9") == ("+CMS ERROR: 304",)


def test_quectel_and_huawei_count_slots_from_zero() -> None:
    state = make_state("quectel")
    assert store(state) == 0
    assert run(state, "AT+CMGL=4")[0] == "+CMGL: 0,0,,28"


def test_cmgs_in_pdu_mode_prompts_then_submits_with_the_modems_reference() -> None:
    state = make_state()
    reply = responder.handle("AT+CMGS=26", state, NOW)
    assert reply.prompt
    assert responder.frame(reply) == b"\r\n> "
    done = responder.handle_body(SUBMIT_HEX, state, NOW + 1)
    assert done.lines == ("+CMGS: 1", "OK")
    (submitted,) = done.submitted
    assert submitted.reference == 1
    assert submitted.tpdu_length == 26
    assert submitted.at == NOW + 1
    assert state.submitted == [submitted]
    assert state.pending_submit is None
    run(state, "AT+CMGS=26")
    again = responder.handle_body(SUBMIT_NO_SMSC_HEX, state, NOW)
    assert again.lines == ("+CMGS: 2", "OK")
    # TP-MR (after the first octet) carries the modem's reference, whatever the host sent
    assert again.submitted[0].pdu[2] == 2


def test_cmgs_refuses_bad_bodies() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    for body, length in [("ZZ", 26), (SUBMIT_HEX, 25), (DELIVER_HEX, 28)]:
        run(state, f"AT+CMGS={length}")
        assert responder.handle_body(body, state, NOW).lines == ("+CMS ERROR: 304",)
    assert run(state, "AT+CMGS=0") == ("+CMS ERROR: 304",)
    assert run(state, "AT+CMGS=abc") == ("+CMS ERROR: 304",)
    assert state.submitted == []


def test_escape_cancels_the_submission() -> None:
    state = make_state()
    run(state, "AT+CMGS=26")
    reply = responder.handle_body(SUBMIT_HEX, state, NOW, cancel=True)
    assert reply.lines == ("OK",)
    assert state.submitted == []
    assert state.pending_submit is None
    assert responder.handle_body(SUBMIT_HEX, state, NOW).ignored


def test_cmgs_without_network_fails_with_331() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    state.registration = Registration.SEARCHING
    run(state, "AT+CMGS=26")
    assert responder.handle_body(SUBMIT_HEX, state, NOW).lines == ("+CMS ERROR: 331",)


def test_cmgw_stores_and_cmss_sends_from_storage() -> None:
    state = make_state()
    assert responder.handle("AT+CMGW=26", state, NOW).prompt
    written = responder.handle_body(SUBMIT_HEX, state, NOW)
    assert written.lines == ("+CMGW: 1", "OK")
    assert state.storage("SM").messages[1].stat is MessageStat.STO_UNSENT
    sent = responder.handle("AT+CMSS=1", state, NOW)
    assert sent.lines == ("+CMSS: 1", "OK")
    assert len(sent.submitted) == 1
    assert state.storage("SM").messages[1].stat is MessageStat.STO_SENT
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CMSS=9") == ("+CMS ERROR: 321",)


def test_cmgw_into_a_full_store_fails_with_322() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    state.storage_full = True
    run(state, "AT+CMGW=26")
    assert responder.handle_body(SUBMIT_HEX, state, NOW).lines == ("+CMS ERROR: 322",)


def test_cnmi_accepts_what_its_test_reply_offers() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CNMI?") == ("+CNMI: 2,1,0,0,0", "OK")
    assert run(state, "AT+CNMI=2,2,0,1,0") == ("OK",)
    assert state.cnmi.as_tuple() == (2, 2, 0, 1, 0)
    assert run(state, "AT+CNMI=2,1,0,3,0") == ("+CMS ERROR: 303",)
    assert run(state, "AT+CNMI=1") == ("OK",)
    assert state.cnmi.as_tuple() == (1, 2, 0, 1, 0)


def test_cnmi_mode_change_flushes_buffered_indications() -> None:
    state = make_state()
    state.cnmi = state.cnmi.__class__(0, 1, 0, 0, 0)
    state.buffered_urcs.append('+CMTI: "SM",1')
    reply = responder.handle("AT+CNMI=2,1,0,0,0", state, NOW)
    assert reply.urcs_after == ('+CMTI: "SM",1',)
    assert state.buffered_urcs == []


def test_cnma_and_csms() -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    assert run(state, "AT+CSMS=1") == ("+CSMS: 1,1,1", "OK")
    assert run(state, "AT+CSMS?") == ("+CSMS: 1,1,1,1", "OK")
    assert run(state, "AT+CNMA") == ("+CMS ERROR: 340",)
    state.awaiting_ack = 2
    reply = responder.handle("AT+CNMA", state, NOW)
    assert (reply.lines, reply.acks) == (("OK",), 1)
    reply = responder.handle("AT+CNMA=2", state, NOW)
    assert (reply.lines, reply.nacks) == (("OK",), 1)
    assert state.awaiting_ack == 0


def test_cfun_reset_asks_for_a_reboot() -> None:
    state = make_state()
    assert responder.handle("AT+CFUN=1,1", state, NOW).reboot
    assert run(state, "AT+CFUN?") == ("+CFUN: 1", "OK")
    assert run(state, "AT+CFUN=4") == ("OK",)
    assert run(state, "AT+CREG?") == ("+CREG: 0,0", "OK")


def test_ussd_answers_with_a_urc() -> None:
    state = make_state()
    reply = responder.handle('AT+CUSD=1,"*100#",15', state, NOW)
    assert reply.lines == ("OK",)
    assert reply.urcs_after == (f'+CUSD: 0,"{responder.USSD_REPLY}",15',)


def test_cclk_reads_the_clock_it_is_given() -> None:
    assert run(make_state(), "AT+CCLK?") == ('+CCLK: "26/11/27,17:41:58+00"', "OK")


def test_framing() -> None:
    reply = responder.Reply(lines=("+CSQ: 20,99", "OK"))
    assert responder.frame(reply) == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert responder.frame_urc('+CMTI: "SM",3') == b'\r\n+CMTI: "SM",3\r\n'
    state = make_state()
    pdu = bytes.fromhex(DELIVER_HEX)
    assert responder.cmt(pdu, 28, state) == f"+CMT: ,28\r\n{DELIVER_HEX}"
    assert responder.cds(pdu, 28, state) == f"+CDS: 28\r\n{DELIVER_HEX}"
    assert responder.boot_banners(make_state("quectel", pin="1")) == (
        "RDY",
        "+CFUN: 1",
        "+CPIN: SIM PIN",
        "+QUSIM: 1",
        "+QIND: SMS DONE",
    )


def test_info_lines_share_a_block_and_chained_commands_get_their_own() -> None:
    listing = responder.Reply(lines=("+CMGL: 1,0,,28", DELIVER_HEX, "OK"))
    # as gammu-smsd read it from a modem (peers/recorded 06-recv-single)
    assert (
        responder.frame(listing)
        == f"\r\n+CMGL: 1,0,,28\r\n{DELIVER_HEX}\r\n\r\nOK\r\n".encode()
    )
    chained = responder.handle("AT+CSQ;+CBC", make_state(), NOW)
    assert (
        responder.frame(chained) == b"\r\n+CSQ: 20,99\r\n\r\n+CBC: 0,100\r\n\r\nOK\r\n"
    )
    assert responder.frame(responder.Reply(lines=("ERROR",))) == b"\r\nERROR\r\n"


MORE_REPLIES = [
    ("AT+CSQ?", ("ERROR",)),
    ("AT+CSQ=?", ("+CSQ: (0-31,99),(0-7,99)", "OK")),
    ("AT+CGMI?", ("ERROR",)),
    ("AT+CGMI=?", ("OK",)),
    ("AT+CMEE?", ("+CMEE: 1", "OK")),
    ("AT+CMEE=?", ("+CMEE: (0-2)", "OK")),
    ("AT+CMEE", ("ERROR",)),
    ("AT+CMEE=3", ("+CME ERROR: 50",)),
    ('AT+CSCS="KOI8"', ("+CME ERROR: 4",)),
    ("AT+CSCS", ("ERROR",)),
    ("AT+CSMS=2", ("+CMS ERROR: 303",)),
    ("AT+CSMS=?", ("+CSMS: (0,1)", "OK")),
    ("AT+CSMS", ("ERROR",)),
    ("AT+CSMP?", ("+CSMP: 17,167,0,0", "OK")),
    ("AT+CSMP=?", ("OK",)),
    ("AT+CSMP", ("ERROR",)),
    ("AT+CMGF?", ("+CMGF: 0", "OK")),
    ("AT+CMGF=?", ("+CMGF: (0,1)", "OK")),
    ("AT+CMGF=2", ("+CMS ERROR: 304",)),
    ("AT+CSDH=1", ("OK",)),
    ("AT+CFUN=5", ("+CME ERROR: 50",)),
    ("AT+CFUN=?", ("+CFUN: (0,1,4),(0,1)", "OK")),
    ("AT+CFUN", ("ERROR",)),
    ("AT+CBC?", ("ERROR",)),
    ("AT+CBC=?", ("OK",)),
    ("AT+CHUP", ("OK",)),
    ("AT+CHUP?", ("ERROR",)),
    ("AT+CUSD?", ("+CUSD: 0", "OK")),
    ("AT+CUSD=?", ("+CUSD: (0-2)", "OK")),
    ("AT+CUSD=5", ("+CME ERROR: 50",)),
    ("AT+CUSD", ("ERROR",)),
    ('AT+CCLK="26/01/01,00:00:00+00"', ("OK",)),
    ("AT+CCLK", ("ERROR",)),
    ("AT+COPS=?", ('+COPS: (2,"SimNet","SimNet","00101",2),,(0-4),(0-2)', "OK")),
    ('AT+COPS=1,2,"99999"', ("+CME ERROR: 30",)),
    ('AT+COPS=1,2,"00101"', ("OK",)),
    ("AT+COPS=0", ("OK",)),
    ("AT+COPS=9", ("+CME ERROR: 50",)),
    ("AT+COPS=3,7", ("+CME ERROR: 50",)),
    ("AT+COPS", ("ERROR",)),
    ("AT+CREG=?", ("+CREG: (0-2)", "OK")),
    ("AT+CREG=5", ("+CME ERROR: 50",)),
    ("AT+CREG", ("ERROR",)),
    ("AT+CEREG?", ("+CEREG: 0,1", "OK")),
    ("AT+CGATT=?", ("+CGATT: (0,1)", "OK")),
    ("AT+CGATT=0;+CGATT?", ("+CGATT: 0", "OK")),
    ("AT+CGATT=2", ("+CME ERROR: 50",)),
    ("AT+CGATT", ("ERROR",)),
    ('AT+CSCA="+4917000000";+CSCA?', ('+CSCA: "+4917000000",145', "OK")),
    ('AT+CSCA="017000000",129', ("OK",)),
    ("AT+CSCA=?", ("OK",)),
    ("AT+CSCA=", ("+CMS ERROR: 304",)),
    ("AT+CSCA", ("ERROR",)),
    ('AT+CPMS="SM","SM","SM","SM"', ("+CMS ERROR: 302",)),
    ("AT+CNMI=1,1,0,0,0,0", ("+CMS ERROR: 302",)),
    ("AT+CNMA=?", ("+CNMA: (0-2)", "OK")),
    ("AT+CNMA?", ("ERROR",)),
    ("AT+CMGS=?", ("OK",)),
    ("AT+CMGS", ("+CMS ERROR: 304",)),
    ("AT+CMGR=?", ("OK",)),
    ("AT+CMGR", ("+CMS ERROR: 304",)),
    ("AT+CMGL?", ("ERROR",)),
    ("AT+CMGD", ("+CMS ERROR: 304",)),
    ("AT+CMSS=?", ("OK",)),
    ("AT+CMSS", ("+CMS ERROR: 304",)),
    ("AT+CPIN=?", ("OK",)),
    ("AT+CPIN", ("+CME ERROR: 50",)),
    ("AT+CNUM=?", ("OK",)),
    ("AT+CCID=?", ("OK",)),
    ("ATE2", ("ERROR",)),
    ("AT&W", ("OK",)),
    ('AT+CMEE="x"', ("+CME ERROR: 50",)),
    ("AT+CMEE=1=", ("+CME ERROR: 50",)),
    ("AT+CSQ!", ("ERROR",)),
]


@pytest.mark.parametrize(
    ("line", "expected"), MORE_REPLIES, ids=[m[0] for m in MORE_REPLIES]
)
def test_more_replies(line: str, expected: tuple[str, ...]) -> None:
    state = make_state()
    run(state, "AT+CMEE=1")
    assert run(state, line) == expected


def test_text_mode_listing_filters() -> None:
    state = make_state()
    run(state, "AT+CMGF=1;+CMEE=1")
    assert run(state, "AT+CMGL=?") == (
        '+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")',
        "OK",
    )
    store(state, stat=MessageStat.REC_READ)
    assert run(state, 'AT+CMGL="REC UNREAD"') == ("OK",)
    assert run(state, 'AT+CMGL="REC READ"')[0].startswith('+CMGL: 1,"REC READ",')
    assert run(state, 'AT+CMGL="BOGUS"') == ("+CMS ERROR: 305",)
    assert run(state, "AT+CMGD=1,7") == ("+CMS ERROR: 305",)


def test_unknown_profiles_are_named() -> None:
    from modem.sim.profiles import UnknownProfile, get_profile

    with pytest.raises(UnknownProfile, match="generic") as info:
        get_profile("nokia")
    assert info.value.name == "nokia"
    assert get_profile("SIMCOM").name == "simcom"
