"""Each fault does what it says, and fault specs are validated field by field."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from simhelpers import FakeClock, connect

from modem.sim.faults import Faults, FaultSpec, FaultSpecError, load_scenario
from modem.sim.network import SimNetwork
from modem.sim.state import MessageStat

NUMBER = "+15550100001"
DELIVER_HEX = "07915155000000F0040A9194710000100000621172714401000B49B7F85D7793416F7719"
DELIVER = bytes.fromhex(DELIVER_HEX)


@pytest.fixture
def network() -> SimNetwork:
    return SimNetwork(clock=FakeClock())


def spec(**knobs: object) -> FaultSpec:
    return FaultSpec.from_dict(knobs)


async def test_latency_delays_every_reply(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(latency_ms=80))
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await host.command("AT") == b"\r\nOK\r\n"
    assert loop.time() - started >= 0.08


async def test_chunk_size_splits_reads(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(chunk_size=3, chunk_delay_ms=1))
    host.reads.clear()
    assert await host.command("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert max(len(r) for r in host.reads) == 3
    assert len(host.reads) == 7


async def test_random_split_is_seeded_and_loses_nothing(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(random_split=True, seed=3))
    host.reads.clear()
    assert await host.command("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert len(host.reads) > 1


async def test_merge_makes_consecutive_writes_one_read(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(merge_ms=30))
    host.reads.clear()
    host.send("AT+CSQ\r")
    modem.emit_urc("RING")
    modem.emit_urc("RING")
    # the command reaches the modem a loop turn later, so the URCs go first
    out = await host.wait_for(b"OK\r\n")
    assert out == b"\r\nRING\r\n\r\nRING\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    assert len(host.reads) == 1


async def test_dropped_bytes_never_arrive(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(drop_rate=1.0))
    host.send("AT\r")
    assert await host.idle() == b""
    modem.clear_faults()
    assert await host.command("AT") == b"\r\nOK\r\n"


async def test_garbage_comes_before_the_next_replies_only(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(garbage_hex="FF00FE", garbage_count=1))
    assert await host.command("AT") == b"\xff\x00\xfe\r\nOK\r\n"
    assert await host.command("AT") == b"\r\nOK\r\n"


async def test_urc_lands_in_the_middle_of_the_next_response(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(urc_mid_response='+CMTI: "SM",1'))
    assert await host.command("AT") == b"\r\nOK\r\n"  # one line: nothing to split
    out = await host.command("AT+CSQ")
    assert out == b'\r\n+CSQ: 20,99\r\n\r\n+CMTI: "SM",1\r\n\r\nOK\r\n'
    assert modem.faults.urc_mid_response == ""


async def test_cms_error_for_the_next_k_commands_of_one_kind(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(
        spec(cms_error=42, cms_error_count=2, cms_error_command="AT+CMGS")
    )
    assert await host.command("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    for _ in range(2):
        assert await host.command("AT+CMGS=26", b"\r\n") == b"\r\n+CMS ERROR: 42\r\n"
    assert await host.command("AT+CMGS=26", b"> ") == b"\r\n> "
    host.send("\x1b")
    await host.wait_for(b"OK\r\n")
    assert modem.state.command_counts["AT+CMGS"] == 3


async def test_cms_error_for_any_command(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(cms_error=500, cms_error_count=1))
    assert await host.command("AT", b"\r\n") == b"\r\n+CMS ERROR: 500\r\n"
    assert await host.command("AT") == b"\r\nOK\r\n"


async def test_hang_swallows_replies_until_cleared(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(hang=True))
    host.send("AT\r")
    assert await host.idle() == b""
    modem.apply_faults(spec(hang=False))
    assert await host.command("AT") == b"\r\nOK\r\n"


async def test_hang_for_n_commands(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(spec(hang_commands=2))
    host.send("AT\rAT\r")
    assert await host.idle() == b""
    assert await host.command("AT+CBC") == b"\r\n+CBC: 0,100\r\n\r\nOK\r\n"
    assert not modem.faults.hanging


async def test_storage_full_holds_messages_until_cleared(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER, "huawei")
    host = await connect(modem)
    modem.apply_faults(spec(storage_full=True))
    assert await host.command("AT+CPMS?")  # still answers
    assert modem.deliver(DELIVER, 28) == "held"
    assert await host.wait_for(b"\r\n", 5) == b'\r\n^SMMEMFULL: "SM"\r\n'
    assert modem.state.storage("SM").used == 0
    modem.apply_faults(spec(storage_full=False))
    assert await host.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",0\r\n'
    assert modem.state.storage("SM").used == 1
    assert not modem.held


async def test_a_really_full_store_frees_up_after_cmgd(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    store = modem.state.storage("SM")
    for _ in range(store.capacity):
        store.store(DELIVER, 28, MessageStat.REC_READ)
    assert modem.deliver(DELIVER, 28) == "held"
    host.send("AT+CMGD=1\r")
    assert await host.wait_for(b"+CMTI") == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


async def test_no_network_loses_registration_and_fails_sends(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CREG=1;+CMEE=1")
    modem.apply_faults(spec(no_network=True))
    assert await host.wait_for(b"\r\n") == b"\r\n+CREG: 0\r\n"
    assert await host.command("AT+CREG?") == b"\r\n+CREG: 1,0\r\n\r\nOK\r\n"
    assert await host.command("AT+CMGS=26", b"> ")
    host.send("0011000D91945111325476F80000FF0CC8329BFD06CDD3EE33BB0C\x1a")
    assert await host.wait_for(b"\r\n", 5) == b"\r\n+CMS ERROR: 331\r\n"
    assert modem.deliver(DELIVER, 28) == "held"
    modem.clear_faults()
    assert await host.wait_for(b'+CMTI: "SM",1\r\n') == (
        b'\r\n+CREG: 1\r\n\r\n+CMTI: "SM",1\r\n'
    )


async def test_reboot_restores_defaults_and_prints_banners(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER, "simcom")
    host = await connect(modem)
    await host.command("AT+CNMI=2,2,0,1,0;+CMEE=2")
    modem.apply_faults(FaultSpec(reboot=True))
    out = await host.wait_for(b"SMS Ready\r\n")
    assert out == (
        b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"
    )
    assert modem.state.echo is True
    assert modem.state.cnmi.as_tuple() == (2, 1, 0, 0, 0)
    assert modem.state.cmee == 0


async def test_cfun_reset_reboots(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER, "quectel", pin="1234")
    modem.state.pin_state = modem.state.pin_state.READY
    host = await connect(modem)
    out = await host.command("AT+CFUN=1,1", b"SMS DONE\r\n")
    assert out.startswith(b"\r\nOK\r\n\r\nRDY\r\n")
    assert b"+CPIN: SIM PIN" in out
    assert not modem.state.sim_ready


async def test_inject_urc_prints_it_now(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    modem.apply_faults(FaultSpec(inject_urc="+CUSD: 0"))
    assert await host.wait_for(b"\r\n") == b"\r\n+CUSD: 0\r\n"


async def test_huawei_prints_noise_until_curc_0(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER, "huawei")
    host = await connect(modem)  # ATE0 was the first command
    for _ in range(3):
        await host.command("AT")
    assert await host.command("AT", b"^RSSI: 20\r\n") == b"\r\nOK\r\n\r\n^RSSI: 20\r\n"
    await host.command("AT^CURC=0")
    for _ in range(10):
        assert await host.command("AT") == b"\r\nOK\r\n"


def test_specs_are_validated_by_field() -> None:
    cases: list[tuple[object, str]] = [
        ([], "(body)"),
        ({"nope": 1}, "nope"),
        ({"latency_ms": "fast"}, "latency_ms"),
        ({"chunk_size": -1}, "chunk_size"),
        ({"chunk_size": True}, "chunk_size"),
        ({"drop_rate": 2.0}, "drop_rate"),
        ({"garbage_hex": "XYZ"}, "garbage_hex"),
        ({"reboot": "yes"}, "reboot"),
        ({"vanish_s": -2}, "vanish_s"),
        ({"inject_urc": 5}, "inject_urc"),
    ]
    for data, field in cases:
        with pytest.raises(FaultSpecError) as info:
            FaultSpec.from_dict(data)
        assert info.value.field == field, data


def test_specs_change_only_what_they_name() -> None:
    faults = Faults(latency_ms=5.0)
    FaultSpec.from_dict(
        {"chunk_size": 4, "cms_error": 500, "cms_error_count": 1}
    ).apply_to(faults)
    assert faults.as_dict() == {
        "latency_ms": 5.0,
        "chunk_size": 4,
        "cms_error": 500,
        "cms_error_count": 1,
    }
    assert FaultSpec.from_dict({"latency_ms": 3}).knobs == {"latency_ms": 3.0}


def test_scenario_files(tmp_path: Path) -> None:
    path = tmp_path / "flaky.json"
    path.write_text(json.dumps([{"latency_ms": 20}, {"reboot": True, "vanish_s": 1.5}]))
    first, second = load_scenario(path)
    assert first.knobs == {"latency_ms": 20.0}
    assert (second.reboot, second.vanish_s) == (True, 1.5)
    path.write_text(json.dumps({"hang": True}))
    assert load_scenario(path)[0].knobs == {"hang": True}
    path.write_text("{")
    with pytest.raises(FaultSpecError):
        load_scenario(path)
