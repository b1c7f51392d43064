"""Contact CSV import and export: a round trip, bad rows named by row and field, the rest
still imported; duplicates update; formula injection defused both ways."""

from __future__ import annotations

import csv
import io

import pytest
from inboxhelpers import CUSTOMER, Inbox

from gateway.domain import ConsentKind, ConsentSource
from gateway.errors import InvalidInput
from gateway.inbox import contacts as contacts_module
from gateway.inbox import csvio
from gateway.inbox.records import SYSTEM, ImportProblem
from gateway.storage import queries
from gateway.storage.models import AuditEvent, Contact


async def _export(rig: Inbox) -> str:
    return "".join([chunk async for chunk in rig.contacts.export_csv()])


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


async def test_import_creates_and_updates(rig: Inbox) -> None:
    await rig.contacts.create(
        CUSTOMER, name="Ada", attributes={"tier": 1}, actor=SYSTEM
    )
    data = (
        "Number,Name,region,vip,tier\r\n"
        "07700 900123,,north,true,2\r\n"  # known: name kept, attributes merged
        "+447700900456,Grace Hopper,south,false,\r\n"
        "\r\n"  # blank lines are skipped
        "+44 7700 900789,Alan,,, \r\n"
    )
    report = await rig.contacts.import_csv(data.encode(), actor=SYSTEM)
    assert (report.rows, report.created, report.updated, report.unchanged) == (
        3,
        2,
        1,
        0,
    )
    assert report.ok
    ada = (await rig.contacts.lookup(CUSTOMER)).contact
    assert ada.name == "Ada"
    assert ada.attributes == {"region": "north", "vip": True, "tier": 2}
    grace = (await rig.contacts.lookup("+447700900456")).contact
    assert grace.attributes == {"region": "south", "vip": False}
    alan = (await rig.contacts.lookup("+447700900789")).contact
    assert (alan.name, alan.attributes) == ("Alan", {})
    again = await rig.contacts.import_csv(data, actor=SYSTEM)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    audit = await rig.store.run(queries.list_audit, subject="contacts")
    assert [a.detail["created"] for a in audit] == [0, 2]


async def test_bad_rows_are_named_and_the_rest_imported(rig: Inbox) -> None:
    data = (
        "number,name,vip\n"
        "+447700900101,Good One,true\n"
        "not a phone,Bad Number,\n"
        ",No Number,\n"
        "+447700900102,\x07bell,\n"
        "+447700900103,Too,many,cells\n"
        f"+447700900104,,{'x' * 1001}\n"
        "+447700900105,Good Two,\n"
    )
    report = await rig.contacts.import_csv(data, actor=SYSTEM)
    assert (report.rows, report.created) == (7, 2)
    assert [(p.row, p.field) for p in report.problems] == [
        (3, "number"),
        (4, "number"),
        (5, "name"),
        (6, "row"),
        (7, "vip"),
    ]
    assert not report.ok
    assert "not a phone number" in report.problems[0].reason
    numbers = await rig.store.run(lambda: [c.number for c in Contact.select()])
    assert sorted(numbers) == ["+447700900101", "+447700900105"]


async def test_a_duplicate_number_in_the_file_updates(rig: Inbox) -> None:
    data = "number,name,region\n+447700900201,First,north\n07700900201,Second,\n"
    dry = await rig.contacts.import_csv(data, actor=SYSTEM, dry_run=True)
    assert (dry.created, dry.updated, dry.dry_run) == (1, 1, True)
    assert await rig.store.run(lambda: Contact.select().count()) == 0  # nothing written
    real = await rig.contacts.import_csv(data, actor=SYSTEM)
    assert (real.created, real.updated) == (dry.created, dry.updated)
    contact = (await rig.contacts.lookup("+447700900201")).contact
    assert (contact.name, contact.attributes) == ("Second", {"region": "north"})


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"name,region\nAda,north\n", "no 'number' column"),
        (b"number,Bad Key\n+447700900123,x\n", "lower-case"),
        (b"number,name,name\n", "twice"),
        (b"number,,x\n", "empty"),
        (b"number,name\n\xff\xfe\n", "UTF-8"),
        (b"number\x00,name\n", "NUL"),
    ],
)
async def test_a_bad_file_is_refused_whole(
    rig: Inbox, data: bytes, reason: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        await rig.contacts.import_csv(data, actor=SYSTEM)
    assert info.value.field == "file"
    assert reason in info.value.reason
    assert await rig.store.run(
        lambda: (Contact.select().count(), AuditEvent.select().count())
    ) == (0, 0)


async def test_too_many_rows_are_refused(
    rig: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvio, "MAX_IMPORT_ROWS", 2)
    with pytest.raises(InvalidInput):
        csvio.parse_import(
            "number\n+447700900001\n+447700900002\n+447700900003\n", max_rows=2
        )
    monkeypatch.setattr(contacts_module, "IMPORT_BATCH_ROWS", 1)  # many units
    report = await rig.contacts.import_csv(
        "number\n+447700900001\n+447700900002\n+447700900003\n", actor=SYSTEM
    )
    assert report.created == 3


async def test_export_then_import_is_a_round_trip(rig: Inbox) -> None:
    await rig.contacts.create(
        CUSTOMER,
        name='=HYPERLINK("http://evil.example","click")',
        attributes={
            "region": "north",
            "vip": True,
            "tier": 3,
            "score": 2.5,
            "code": "007",
        },
        actor=SYSTEM,
    )
    await rig.contacts.create(
        "+447700900456",
        name='Grace, "Amazing" Hopper',
        attributes={"note": "@admin -1 +1 '=x", "region": "line\nbreak"},
        actor=SYSTEM,
    )
    await rig.inbound("promo", sender="SHOPNAME")  # a sender that is not a number
    await rig.store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.AGENT,
        now=rig.clock(),
    )
    before = await rig.store.run(
        lambda: sorted((c.number, c.name, c.attributes) for c in Contact.select())
    )

    text = await _export(rig)
    rows = _rows(text)
    assert rows[0] == [
        "number",
        "name",
        "opted_out",
        "code",
        "note",
        "region",
        "score",
        "tier",
        "vip",
    ]
    by_number = {row[0]: row for row in rows[1:]}
    ada = by_number["'+447700900123"]  # a cell starting with + is guarded
    assert ada[1].startswith("'=HYPERLINK")  # a formula is never live
    assert ada[2] == "true"  # opted out, shown
    assert ada[3:] == ["007", "", "north", "2.5", "3", "true"]
    grace = by_number["'+447700900456"]
    assert grace[1] == 'Grace, "Amazing" Hopper'
    assert grace[4] == "'@admin -1 +1 '=x"
    assert "SHOPNAME" in by_number
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell

    # back in: nothing changes (opted_out is read-only and ignored)
    report = await rig.contacts.import_csv(text.encode("utf-8-sig"), actor=SYSTEM)
    assert report.ok, report.problems
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    after = await rig.store.run(
        lambda: sorted((c.number, c.name, c.attributes) for c in Contact.select())
    )
    assert after == before
    profile = await rig.contacts.lookup(CUSTOMER)
    assert profile.opted_out  # consent untouched by imports


async def test_an_unknown_sender_name_in_a_file_is_a_problem(rig: Inbox) -> None:
    report = await rig.contacts.import_csv("number,name\nNOTKNOWN,x\n", actor=SYSTEM)
    assert report.problems == (ImportProblem(2, "number", report.problems[0].reason),)
    assert report.created == 0


async def test_export_streams_in_batches(
    rig: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contacts_module, "EXPORT_BATCH_ROWS", 2)
    for n in range(5):
        await rig.contacts.create(f"+4477009008{n:02d}", actor=SYSTEM)
    chunks = [chunk async for chunk in rig.contacts.export_csv()]
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
    assert len(_rows("".join(chunks))) == 6


def test_semicolon_files_from_spreadsheets() -> None:
    good, problems, count = csvio.parse_import(
        "number;name;region\n+447700900123;Ada;north\n"
    )
    assert count == 1
    assert not problems
    assert good[0].name == "Ada"
    assert good[0].attributes == {"region": "north"}


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        ("true", True),
        ("false", False),
        ("42", 42),
        ("-7", -7),
        ("2.5", 2.5),
        ("007", "007"),
        ("1e5", "1e5"),
        ("2.50", "2.50"),
        ("TRUE", "TRUE"),
        ("x", "x"),
        ("12345678901234567", "12345678901234567"),
    ],
)
def test_cells_become_values(cell: str, value: object) -> None:
    assert csvio.coerce(cell) == value
    assert type(csvio.coerce(cell)) is type(value)


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+44", "-5", "@cmd", "\tx", "\rx", "'=x", "''=x", "plain", "'quoted"],
)
def test_guarded_cells_come_back(text: str) -> None:
    guarded = csvio.safe_cell(text)
    assert not guarded.startswith(csvio.FORMULA_STARTS)
    assert csvio.unsafe_cell(guarded) == text
