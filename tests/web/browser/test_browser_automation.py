"""The Automation page in real Chromium over the real daemon: an admin builds the triage
menu in the rules editor, edits an option, and a simulated phone gets the edited menu;
a refused option names its input; the rule tester answers in place and sends nothing;
the page at 360 px and from the keyboard; an agent sets themselves away."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browserhelpers import PHONE, Box, eventually, new_page, screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
]

CUSTOMER = "+447700900420"
# the screenshots: the editor and the tester whole
TALL = {"width": 1366, "height": 1200}
MENU = "Thanks for your message. Reply 1 for invoices, 2 for delivery."


async def add_option(page: Any, key: str, label: str, queue: str, words: str) -> None:
    from playwright.async_api import expect

    adder = page.locator("#option-new")
    await adder.locator("summary").click()
    await adder.get_by_label("Reply 1, 2, A").fill(key)
    await adder.get_by_label("Label shown in the menu").fill(label)
    await adder.get_by_label("Keywords").fill(words)
    await adder.get_by_label("Queue", exact=True).fill(queue)
    await adder.get_by_role("button", name="Add option").click()
    await expect(page.locator("#triage .success")).to_have_text("Saved.")


async def test_an_admin_edits_the_menu_and_the_phone_gets_it(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    await page.goto("/automation")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Automation")
    await expect(page.get_by_text("No options yet: no menu is sent.")).to_be_visible()
    await add_option(page, "1", "billing", "billing", "invoice, refund")
    await add_option(page, "2", "delivery", "delivery", "late, parcel")
    preview = page.locator("#triage .preview")
    await expect(preview).to_contain_text("Reply 1 for billing, 2 for delivery.")

    # a refused change names its input, keeps what was typed and saves nothing
    first = page.locator("li", has=page.locator("summary", has_text="billing"))
    await first.locator("summary").click()
    await first.get_by_label("Reply 1, 2, A").fill("1 2")
    await first.get_by_role("button", name="Save option 1").click()
    editor = page.locator("details[open]", has=page.get_by_role("alert"))
    await expect(editor.get_by_role("alert")).to_contain_text("key: letters and digits")
    await expect(editor.get_by_label("Reply 1, 2, A")).to_have_attribute(
        "aria-invalid", "true"
    )
    await expect(editor.get_by_label("Reply 1, 2, A")).to_have_value("1 2")
    await expect(preview).to_contain_text("Reply 1 for billing, 2 for delivery.")

    await editor.get_by_label("Reply 1, 2, A").fill("1")
    await editor.get_by_label("Label shown in the menu").fill("invoices")
    await editor.get_by_role("button", name="Save option 1").click()
    await expect(page.locator("details[open] .success")).to_have_text("Saved.")
    await expect(preview).to_contain_text("Reply 1 for invoices, 2 for delivery.")
    await page.set_viewport_size(TALL)
    await page.evaluate("window.scrollTo(0, 0)")
    await screenshot(page, "automation-rules-editor")

    # the daemon's rules are the stored ones: a new conversation gets the edited menu
    box.text_from(CUSTOMER, "Hello there")
    await eventually(lambda: MENU in box.phone_inbox(CUSTOMER))
    assert box.dialogs == []


async def test_the_rule_tester_answers_in_place_and_sends_nothing(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone_before = box.phone_inbox(CUSTOMER)
    await page.goto("/automation")
    tester = page.locator("#tester")
    await tester.get_by_label("Customer's messages").fill(
        "my parcel is late\nthis is ridiculous, I want a real person"
    )
    await tester.get_by_role("button", name="Test").click()
    result = tester.locator('[data-region="tester-result"]')
    await expect(result).to_contain_text("What would happen")
    await expect(result).to_contain_text("Nothing was sent or saved")
    await expect(result.locator(".outcome")).to_contain_text("escalations")
    await expect(result).to_contain_text("escalated, agents notified")
    await expect(result).to_contain_text(
        "Thanks - one moment while I connect you to an agent."
    )
    # in place: the page was not reloaded, what was typed is still there
    assert page.url.endswith("/automation")
    await expect(tester.get_by_label("Customer's messages")).to_have_value(
        re.compile("ridiculous")
    )
    await page.set_viewport_size(TALL)
    await page.evaluate("window.scrollTo(0, 0)")
    # the tester scrolls on its own beside the editor: down to its answer
    await page.evaluate("document.getElementById('tester').scrollTop = 330")
    await screenshot(page, "automation-rule-tester")

    # a refusal in place names its input
    await tester.get_by_label("As the contact with number").fill("+447700900999")
    await tester.get_by_role("button", name="Test").click()
    await expect(result.get_by_role("alert")).to_contain_text("number: no contact")
    await expect(tester.get_by_label("As the contact with number")).to_have_attribute(
        "aria-invalid", "true"
    )
    assert box.phone_inbox(CUSTOMER) == phone_before
    assert box.dialogs == []


async def test_the_page_on_a_phone_and_from_the_keyboard(
    browser: Any, box: Box
) -> None:
    from playwright.async_api import expect

    page = await new_page(browser, box, viewport=PHONE)
    try:
        await sign_in(page)
        await page.goto("/automation")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        # the keyboard: into the tester's box, type, Ctrl+Enter runs it
        box_ = page.locator("#tester").get_by_label("Customer's messages")
        await box_.focus()
        await page.keyboard.type("where is my parcel")
        await page.keyboard.press("Control+Enter")
        result = page.locator('[data-region="tester-result"]')
        await expect(result).to_contain_text("What would happen")
        await screenshot(page, "automation-phone")
        # a rule opens from the keyboard
        summary = page.locator("#queue-new > summary")
        await summary.focus()
        await page.keyboard.press("Enter")
        await expect(page.locator("#queue-new")).to_have_attribute("open", "")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        assert box.dialogs == []
    finally:
        await page.context.close()


async def test_an_agent_sets_themselves_away(browser: Any, box: Box) -> None:
    from playwright.async_api import expect

    page = await new_page(browser, box, viewport=PHONE)
    try:
        await sign_in(page, "bob")
        toggle = page.locator("form.availability")
        await expect(toggle).to_contain_text("Available")
        await toggle.get_by_role("button", name="Set away").click()
        await expect(toggle).to_contain_text("Away")
        await expect(toggle.get_by_role("button")).to_have_text("I'm back")
        await screenshot(page, "automation-agent-away")
        users = await box.services.auth.list_users()
        bob = next(u for u in users if u.username == "bob")
        assert await box.services.automation.is_away(bob.id)
        await toggle.get_by_role("button", name="I'm back").click()
        await expect(toggle).to_contain_text("Available")
        assert not await box.services.automation.is_away(bob.id)
        assert box.dialogs == []
    finally:
        await page.context.close()
