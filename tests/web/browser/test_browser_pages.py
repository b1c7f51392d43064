"""The console's other pages in real Chromium over the real daemon: contacts (CSV import
with its per-row report, edit, export), a test text through the simulated modem that
reaches the phone, and the admins' users and audit pages in the same layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browserhelpers import Box, eventually, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
]

CSV = (
    "number,name,plan\n"
    "+447700900301,Grace Hopper,gold\n"
    "not a number,Nobody,silver\n"
    "+447700900302,Alan Turing,\n"
)


async def test_contacts_import_edit_and_export(page: Any, box: Box) -> None:
    from playwright.async_api import expect

    await page.goto("/contacts")
    upload = {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    await page.get_by_label("File", exact=True).set_input_files(upload)
    await page.get_by_role("button", name="Import").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Checked: people.csv"
    )
    problems = page.locator(".problems tbody tr")
    await expect(problems).to_have_count(1)
    await expect(problems).to_contain_text("3")  # the spreadsheet's row (header = 1)
    await screenshot(page, "14-contacts-import-check")
    await page.get_by_label("File (choose it again)").set_input_files(upload)
    await page.get_by_role("button", name="Import the good rows").click()
    await expect(page.locator(".alert")).to_contain_text("1 row could not be imported")

    await page.goto("/contacts?q=hopper")
    await page.get_by_role("link", name="Grace Hopper").click()
    await page.get_by_label("Attributes").fill("plan = platinum\nlanguage = en")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".success")).to_have_text("Saved.")
    await expect(page.get_by_label("Attributes")).to_have_value(
        "language = en\nplan = platinum"
    )
    await screenshot(page, "15-contact-edit")

    await page.goto("/contacts")
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await download_info.value
    exported = (await download.path()).read_text(encoding="utf-8")
    assert "Grace Hopper" in exported
    assert "platinum" in exported
    assert box.dialogs == []


async def test_a_test_text_through_the_modem_reaches_the_phone(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900310"
    await page.goto("/modems")
    row = page.locator("tbody tr", has_text="sim")
    await expect(row.locator(".badge")).to_have_text("ready")
    await page.get_by_label("To", exact=True).fill(phone)
    await page.get_by_label("Text", exact=True).fill("Modem check")
    await page.get_by_role("button", name="Send test").click()
    await expect(page).to_have_url(re.compile(r"/modems\?test=\d+$"))
    await expect(page.get_by_role("status")).to_contain_text(f"to {phone} through sim")
    await eventually(lambda: "Modem check" in box.phone_inbox(phone))
    message_id = int(page.url.rsplit("=", 1)[1])
    await eventually(lambda: _delivered(box, message_id))
    await page.reload()
    await expect(page.get_by_role("status")).to_contain_text("delivered")
    await screenshot(page, "16-modems-test-text")
    assert box.dialogs == []


async def _delivered(box: Box, message_id: int) -> bool:
    message = await box.services.outbound.get(message_id)
    return message.status.value == "delivered"


async def test_users_and_audit_pages(page: Any, box: Box) -> None:
    from playwright.async_api import expect

    await page.goto("/users")
    await expect(page.get_by_role("cell", name="Bob Agent bob")).to_be_visible()
    await screenshot(page, "17-users")
    await page.goto("/audit")
    await expect(page.locator("tbody")).to_contain_text("auth.login")
    await screenshot(page, "18-audit")
    await page.keyboard.press("g")
    await page.keyboard.press("i")
    await expect(page).to_have_url(box.url + "/")
    assert box.dialogs == []
