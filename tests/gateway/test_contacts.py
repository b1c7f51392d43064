"""One customer, one contact: numbers normalised to E.164 whichever way they arrive."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import parse_settings
from gateway.contacts import (
    ContactService,
    classify_sender,
    normalize_number,
    parse_international,
)
from gateway.domain import NumberKind
from gateway.errors import InvalidInput, NotFound
from gateway.storage.db import Store, open_database


@pytest.mark.parametrize(
    ("text", "region", "e164"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 7700 900123", "GB", "+447700900123"),
        ("+44 (0)7700 900-123", "GB", "+447700900123"),
        ("0044 7700 900123", "GB", "+447700900123"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("201.555.0123", "US", "+12015550123"),
        ("+1 201 555 0123", "GB", "+12015550123"),  # international wins over the region
        ("030 123456", "DE", "+4930123456"),
        ("0151 23456789", "DE", "+4915123456789"),
        ("+4915123456789", "US", "+4915123456789"),
    ],
)
def test_national_and_international_forms_meet(
    text: str, region: str, e164: str
) -> None:
    assert normalize_number(text, region) == e164


@pytest.mark.parametrize(
    "text", ["hello", "", "   ", "12", "+999 123", "+44 123", "0" * 60]
)
def test_garbage_is_invalid_input_naming_field_and_value(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalize_number(text, "GB", field="to")
    assert info.value.field == "to"
    assert str(info.value).startswith("to: ")
    assert repr(text.strip()[:40]) in info.value.reason


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("07700900123", NumberKind.E164, "+447700900123"),  # national form from a modem
        ("+447700900123", NumberKind.E164, "+447700900123"),
        ("447700900123", NumberKind.E164, "+447700900123"),  # international, "+" lost
        ("AMAZON", NumberKind.ALPHANUMERIC, "AMAZON"),
        ("  Royal Mail ", NumberKind.ALPHANUMERIC, "Royal Mail"),
        ("12345", NumberKind.SHORT, "12345"),  # a short code
        ("", NumberKind.SHORT, ""),
    ],
)
def test_senders_from_modems_are_filed_never_refused(
    text: str, kind: NumberKind, value: str
) -> None:
    sender = classify_sender(text, "GB")
    assert (sender.kind, sender.value) == (kind, value)
    assert sender.repliable is (kind is not NumberKind.ALPHANUMERIC)


def test_the_pdu_alphanumeric_flag_is_trusted() -> None:
    # TON 5 with a sender that happens to be digits only.
    sender = classify_sender("2020", "GB", alphanumeric=True)
    assert sender.kind is NumberKind.ALPHANUMERIC


def test_parse_international_wants_a_plus() -> None:
    assert parse_international("+44 7700 900123") == "+447700900123"
    with pytest.raises(ValueError, match="07700"):
        parse_international("07700 900123")


REGIONS = sorted(
    r
    for r in phonenumbers.SUPPORTED_REGIONS
    if phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE)
)
FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.RFC3966,
)


@given(region=st.sampled_from(REGIONS), fmt=st.sampled_from(FORMATS))
def test_every_written_form_of_a_number_is_one_e164(region: str, fmt: int) -> None:
    number = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    )
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(number, fmt).removeprefix("tel:")
    assert normalize_number(written, region) == e164
    assert classify_sender(written, region).value == e164


@given(
    text=st.text(alphabet="+0123456789 ()-.", max_size=25),
    region=st.sampled_from(REGIONS),
)
def test_normalisation_is_idempotent(text: str, region: str) -> None:
    try:
        once = normalize_number(text, region)
    except InvalidInput:
        return
    assert once.startswith("+")
    assert normalize_number(once, region) == once
    assert normalize_number(once, "US") == once  # E.164 does not depend on the region
    assert classify_sender(once, region).value == once


@given(text=st.text(max_size=30))
def test_sender_classification_never_fails(text: str) -> None:
    sender = classify_sender(text, "GB")
    assert sender.value == text.strip() or sender.kind is NumberKind.E164


# ---------------------------------------------------------------- the service


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    settings = parse_settings("[gateway]\ndefault_region = GB\n", base_dir=tmp_path)
    store = await open_database(settings)
    yield store
    await store.close()


async def test_modem_and_api_forms_are_one_contact(store: Store) -> None:
    service = ContactService(store, default_region="GB")
    from_modem = await service.for_sender("07700900123")
    from_api = await service.upsert("+44 7700 900123", name="Jamie")
    assert from_api.id == from_modem.id
    assert from_api.name == "Jamie"
    found = await service.find("07700 900 123")
    assert found is not None
    assert found.id == from_modem.id
    assert await service.find("+447700900999") is None
    assert (await service.get(from_modem.id)).number == "+447700900123"
    with pytest.raises(NotFound):
        await service.get(12345)


async def test_alphanumeric_senders_are_kept_and_flagged(store: Store) -> None:
    service = ContactService(store, default_region="GB")
    amazon = await service.for_sender("AMAZON")
    assert amazon.number == "AMAZON"
    assert amazon.kind is NumberKind.ALPHANUMERIC
    assert not amazon.repliable


async def test_the_service_refuses_bad_numbers_before_the_store(store: Store) -> None:
    service = ContactService(store, default_region="GB")
    with pytest.raises(InvalidInput) as info:
        await service.upsert("call me maybe")
    assert info.value.field == "number"
    assert await service.list() == []
    with pytest.raises(InvalidInput, match="limit"):
        await service.list(limit=0)


async def test_list_pages(store: Store) -> None:
    service = ContactService(store, default_region="US")
    for i in range(3):
        await service.upsert(f"(201) 555-01{i:02d}")
    first = await service.list(limit=2)
    rest = await service.list(limit=2, after_id=first[-1].id)
    assert [c.number for c in first + rest] == [
        "+12015550100",
        "+12015550101",
        "+12015550102",
    ]
