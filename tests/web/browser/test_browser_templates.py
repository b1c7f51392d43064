"""Templates in real headless Chromium over the real daemon: an admin writes one on the
Templates page with a live preview (and sees a syntax error as they type); in a
conversation, "/" at the start of the reply box opens the picker, typing filters it, the
arrows and Enter pick, and the server fills the template in for THIS customer (their
name, the order in the notification's context) with the segment count; a template whose
variable has no value here says so and inserts nothing; Esc closes the picker; the
filled-in text reaches the phone; an escalation shows in the open inbox at once; the
page and the picker fit a 360 px phone."""

from __future__ import annotations

from typing import Any

import pytest
from browserhelpers import PHONE, Box, eventually, new_page, screenshot, sign_in

from gateway.inbox.records import SYSTEM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
]

JAMIE = "+447700900311"
LATE = (
    'Hi {{ contact.first_name | default("there") }}, order '
    "{{ conversation.context.order_id }} is running late: new ETA 4-6pm."
)
FILLED = "Hi Jamie, order 4839201 is running late: new ETA 4-6pm."


async def test_an_admin_writes_a_template_with_a_live_preview(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    await page.goto("/templates")
    await expect(
        page.get_by_role("heading", name="Templates", exact=True)
    ).to_be_visible()
    form = page.locator("[data-template-form]")
    await form.get_by_label("Name").fill("Delivery late")
    await form.get_by_label("Shortcut").fill("late")
    body = form.get_by_label("Text")
    await body.fill("Hi {{ contact.first_name ")
    error = page.locator("[data-preview-error]")
    await expect(error).to_contain_text("line 1, column")
    await body.fill(LATE)
    await expect(page.locator("[data-preview-text]")).to_have_text(
        "Hi Jamie, order 4839201 is running late: new ETA 4-6pm."
    )
    await expect(page.locator("[data-preview-segments]")).to_have_text(
        "GSM-7 · 1 part · 105 left"
    )
    await screenshot(page, "templates-page")
    await form.get_by_role("button", name="Add template").click()
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    await expect(page.locator('[data-template-row="late"]')).to_be_visible()
    assert [t.shortcut for t in await box.services.templates.list()] == ["late"]
    assert box.dialogs == []


async def _late_template(box: Box) -> None:
    """The "late" template the first test writes through the page: each test may run on
    another pytest-xdist worker, with a box of its own, or alone."""
    if not any(t.shortcut == "late" for t in await box.services.templates.list()):
        await box.services.templates.create(
            name="Delivery late", shortcut="late", body=LATE, actor="test"
        )


async def test_the_slash_picker_inserts_a_template_rendered_for_this_customer(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    services = box.services
    await _late_template(box)
    await services.templates.create(
        name="Refund issued",
        shortcut="refund",
        body="Your refund {{ context.refund_id }} is on its way.",
        actor="test",
    )
    await services.contacts.create(JAMIE, name="Jamie Lee", actor=SYSTEM)
    await services.notifications.create(
        JAMIE,
        body="Your order 4839201 ships today.",
        context={"order_id": "4839201"},
        quiet_hours=False,
        actor="test",
    )
    await eventually(
        lambda: "Your order 4839201 ships today." in box.phone_inbox(JAMIE)
    )
    box.text_from(JAMIE, "It still hasn't come, where is it?")

    await page.goto("/")
    row = page.locator("li.row", has_text="Jamie Lee")
    await row.click()
    thread = page.locator("article.thread")
    await expect(thread).to_contain_text("where is it?")
    box_ = thread.locator("#reply-body")
    picker = thread.locator("[data-template-picker]")
    options = picker.get_by_role("option")

    # "/" opens the picker with every template; typing filters it
    await box_.click()
    await box_.press("/")
    await expect(picker).to_be_visible()
    await expect(options).to_have_count(2)
    await box_.press_sequentially("re")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("/refund")

    # a variable without a value here: the reason, and nothing inserted
    await box_.press("Enter")
    status = picker.locator("[data-picker-error]")
    await expect(status).to_contain_text(
        "Not inserted: body: context.refund_id has no value here"
    )
    await expect(box_).to_have_value("/re")

    # Esc closes; the text typed stays
    await box_.press("Escape")
    await expect(picker).to_be_hidden()
    await expect(box_).to_have_value("/re")

    # back to "/", arrows choose, Enter fills /late in for Jamie and order 4839201
    await box_.fill("")
    await box_.press("/")
    await expect(options).to_have_count(2)
    await expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    await box_.press("ArrowDown")
    await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    await box_.press("ArrowDown")  # wraps round to the first
    first = options.nth(0)
    await expect(first).to_have_attribute("aria-selected", "true")
    late_index = 0 if "/late" in (await first.text_content() or "") else 1
    for _ in range(late_index):
        await box_.press("ArrowDown")
    await screenshot(page, "composer-templates")
    await box_.press("Enter")
    await expect(box_).to_have_value(FILLED)
    await expect(picker).to_be_hidden()
    segments = thread.locator("#segments")
    await expect(segments).to_have_attribute("data-parts", "1")
    await expect(segments).to_contain_text("GSM-7")
    await screenshot(page, "composer-templates-inserted")

    await thread.get_by_role("button", name="Send").click()
    await expect(thread.locator("li.msg-out", has_text="new ETA 4-6pm")).to_be_visible()
    await eventually(lambda: FILLED in box.phone_inbox(JAMIE))
    assert box.dialogs == []


async def test_an_escalation_reaches_the_open_inbox_at_once(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900312"
    await page.goto("/")
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "live")
    box.text_from(phone, "I want to talk to a human, this is ridiculous!!!")
    toast = page.locator("[data-toast]")
    await expect(toast).to_be_visible()
    await expect(toast).to_contain_text("the automation escalated a conversation")
    await screenshot(page, "escalation-notice")
    await toast.get_by_role("link", name="Open it").click()
    thread = page.locator("article.thread")
    await expect(thread.locator("h2")).to_have_text(phone)
    await expect(toast).to_be_hidden()
    handover = thread.locator("[data-handover]")
    await expect(handover).to_contain_text("escalated")
    await expect(handover).to_contain_text("Handed over")
    assert box.dialogs == []


async def test_templates_and_the_picker_fit_a_phone(browser: Any, box: Box) -> None:
    from playwright.async_api import expect

    await _late_template(box)
    page = await new_page(browser, box, viewport=PHONE)
    try:
        await sign_in(page)
        await page.goto("/templates")
        await expect(page.locator('[data-template-row="late"]')).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # never scrolls sideways
        hostile = "<img src=x onerror=alert(1)>"
        await box.services.templates.create(
            name=hostile,
            shortcut="hostile",
            body=f"{hostile} {{{{ 1 }}}}",
            actor="test",
        )
        phone = "+447700900977"  # a conversation of its own (the test may run alone)
        box.text_from(phone, "Is my order late?")
        await page.goto("/")
        await page.locator("li.row", has_text=phone).click()
        box_ = page.locator("#reply-body")
        await box_.click()
        await box_.press("/")
        await expect(page.locator("[data-template-picker]")).to_be_visible()
        # names and texts from the server stay text in the picker
        await expect(
            page.locator('[data-template-options] li[data-shortcut="hostile"]')
        ).to_contain_text(hostile)
        assert await page.locator("[data-template-options] img").count() == 0
        await expect(page.locator("[data-template-options] li").first).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await screenshot(page, "composer-templates-phone")
        assert box.dialogs == []
    finally:
        await page.context.close()
