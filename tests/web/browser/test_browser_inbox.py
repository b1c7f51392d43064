"""The agents' console in real headless Chromium, over the real daemon: a simulated phone
texts and the text shows up live; a reply reaches the phone and its ticks move; assign,
tag, note, resolve; the segment counter; hostile names and bodies stay text; a phone-sized
screen; the keyboard."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from browserhelpers import PHONE, Box, eventually, new_page, screenshot, sign_in

from gateway.inbox.records import Actor
from modem.pdu import segment_info

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
SVG = '"><svg onload=alert(1)>'

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
]


async def eventually_in_inbox(box: Box, phone: str, text: str) -> None:
    await eventually(lambda: text in box.phone_inbox(phone))


def row(page: Any, name: str) -> Any:
    return page.locator("li.row", has_text=name)


async def test_sign_in_and_see_the_inbox(browser: Any, box: Box) -> None:
    from playwright.async_api import expect

    page = await new_page(browser, box)
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/login"))
    await screenshot(page, "01-sign-in")
    await sign_in(page)
    await expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "live")
    await screenshot(page, "02-inbox-empty")
    assert box.dialogs == []
    await page.context.close()


async def test_a_text_shows_up_live_and_the_reply_reaches_the_phone(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900201"
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "live")
    await page.evaluate("window.__sameDocument = true")
    box.text_from(phone, "Hi, where is my parcel?")
    await expect(row(page, phone)).to_be_visible()
    await expect(row(page, phone)).to_contain_text("where is my parcel")
    await expect(row(page, phone).locator(".count")).to_have_text(re.compile("1"))
    assert await page.evaluate("window.__sameDocument === true")  # no reload
    await screenshot(page, "03-text-arrives-live")

    await row(page, phone).click()
    thread = page.locator("article.thread")
    await expect(thread.locator("h2")).to_have_text(phone)
    await expect(thread).to_contain_text("Hi, where is my parcel?")
    await thread.locator("#reply-body").fill("It left the depot this morning.")
    await thread.get_by_role("button", name="Send").click()
    reply = thread.locator("li.msg-out", has_text="It left the depot")
    await expect(reply).to_be_visible()
    await expect(thread.locator("#reply-body")).to_have_value("")
    await eventually_in_inbox(box, phone, "It left the depot this morning.")
    await expect(reply.locator(".tick")).to_have_attribute("data-status", "sent")
    await screenshot(page, "04-reply-sent")
    await expect(reply.locator(".tick")).to_have_attribute("data-status", "delivered")
    await expect(reply.locator(".ticks")).to_have_attribute(
        "data-message-status", "delivered"
    )
    await screenshot(page, "05-reply-delivered")
    assert await page.evaluate("window.__sameDocument === true")
    assert box.dialogs == []


async def test_a_text_that_lands_while_the_page_loads_is_not_missed(
    browser: Any, box: Box
) -> None:
    """The page reads its list, then opens its event stream: a text stored in between
    reached neither. The stream's first frame says so and the page fetches its list."""
    from playwright.async_api import expect

    page = await new_page(browser, box)
    try:
        await sign_in(page)
        released = asyncio.Event()

        async def hold_stream(route: Any) -> None:
            await released.wait()
            await route.continue_()

        await page.route("**/events/inbox", hold_stream)
        await page.goto("/")  # rendered; its stream waits at the route
        phone = "+447700900231"
        box.text_from(phone, "Did my refund go through?")

        async def stored() -> bool:
            page_ = await box.services.inbox.list_conversations(search=phone)
            return bool(page_.rows)

        await eventually(stored)
        assert await row(page, phone).count() == 0  # the page was rendered before it
        released.set()
        await expect(page.locator("[data-live]")).to_have_attribute(
            "data-state", "live"
        )
        await expect(row(page, phone)).to_contain_text("Did my refund go through?")
        assert box.dialogs == []
    finally:
        await page.context.close()


async def open_live_inbox(page: Any, path: str = "/") -> None:
    """The inbox at `path`, its event stream connected (so nothing is missed)."""
    from playwright.async_api import expect

    if path != "/" or not page.url.endswith("/"):
        await page.goto(path)
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "live")


async def test_assign_tag_note_and_resolve(page: Any, box: Box) -> None:
    from playwright.async_api import expect

    phone = "+447700900202"
    await open_live_inbox(page)
    box.text_from(phone, "My screen is cracked")
    await row(page, phone).click()
    thread = page.locator("article.thread")
    await expect(thread.locator("h2")).to_have_text(phone)

    await thread.get_by_role("button", name="Assign to me").click()
    await expect(thread.locator("select[name=assignee]")).to_have_value("1")
    await expect(row(page, phone)).to_contain_text("Ada Admin")

    await thread.get_by_label("Add tags").fill("warranty screen")
    await thread.get_by_label("Add tags").press("Enter")
    await expect(thread.locator(".tags-bar .tag-removable")).to_have_count(2)
    await expect(row(page, phone).locator(".tag")).to_have_count(2)

    await thread.get_by_role("tab", name="Private note").click()
    await thread.get_by_label("Private note (agents only)").fill("Under warranty.")
    await thread.get_by_label("Private note (agents only)").press("Control+Enter")
    note = thread.locator(".note-item", has_text="Under warranty.")
    await expect(note).to_be_visible()
    await expect(note).to_contain_text("Ada Admin")
    await screenshot(page, "06-assigned-tagged-noted")

    await page.keyboard.press("Escape")  # leave the composer; keys are shortcuts again
    await page.keyboard.press("e")
    await expect(thread.locator("[data-conversation-status]")).to_have_text("resolved")
    await expect(row(page, phone)).to_have_count(0)  # the open tab no longer has it
    await screenshot(page, "07-resolved")

    (summary,) = (
        await box.services.inbox.list_conversations(search=phone, status="resolved")
    ).rows
    assert summary.assignee is not None
    assert summary.assignee.username == "admin"
    assert set(summary.tags) == {"warranty", "screen"}
    thread_view = await box.services.inbox.thread(summary.id)
    assert [n.body for n in thread_view.notes] == ["Under warranty."]
    assert box.dialogs == []


async def test_the_segment_counter_for_a_200_character_emoji_text(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900203"
    await open_live_inbox(page)
    box.text_from(phone, "Can you text me the code?")
    await row(page, phone).click()
    composer = page.locator("#reply-body")
    counter = page.locator("#segments")

    await composer.fill("Your code is 4711.")
    await expect(counter).to_have_attribute("data-encoding", "gsm7")
    await expect(counter).to_have_attribute("data-parts", "1")
    await expect(counter).to_contain_text("GSM-7 · 1 part · 142 left")

    text = "😀" * 200
    expected = segment_info(text)
    assert expected.encoding.value == "ucs2"
    assert expected.parts > 1
    await composer.fill(text)
    await expect(counter).to_have_attribute("data-encoding", "ucs2")
    await expect(counter).to_have_attribute("data-parts", str(expected.parts))
    await expect(counter).to_contain_text(
        f"UCS-2 · {expected.parts} parts · {expected.units_left} left"
    )
    await expect(counter.locator("[data-forced]")).to_contain_text("😀")
    await screenshot(page, "08-segment-counter-emoji")
    await composer.fill("")
    await expect(counter).not_to_have_attribute("data-encoding", "ucs2")
    assert box.dialogs == []


async def test_html_and_script_in_names_and_texts_stay_text(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900204"
    name = f"{IMG} {SCRIPT}"
    body = f'{SVG} {SCRIPT} {IMG} "quotes" & ampersands'
    contact = await box.services.contacts.upsert(phone, name=name)
    await box.services.contacts.update(
        contact.id, attributes={"note": SVG}, actor=Actor("test")
    )
    await open_live_inbox(page)
    box.text_from(phone, body)  # arrives live: the list fragment path
    hostile = page.locator("li.row", has_text="<img src=x")
    await expect(hostile).to_be_visible()
    await expect(hostile.locator(".row-name")).to_have_text(name)
    await expect(hostile.locator(".row-preview")).to_contain_text(body)
    await hostile.click()  # the thread fragment path
    thread = page.locator("article.thread")
    await expect(thread.locator("h2")).to_have_text(name)
    await expect(thread.locator(".msg-body")).to_have_text(body)
    await expect(thread.locator(".facts")).to_contain_text(SVG)
    await thread.get_by_role("tab", name="Private note").click()
    await thread.get_by_label("Private note (agents only)").fill(SCRIPT + IMG)
    await thread.get_by_role("button", name="Add note").click()
    await expect(thread.locator(".note-body")).to_have_text(SCRIPT + IMG)
    await _nothing_ran(page)
    await screenshot(page, "09-hostile-text-stays-text")

    await page.reload()  # the whole page, rendered on the server
    await expect(page.locator("article.thread .msg-body")).to_have_text(body)
    await _nothing_ran(page)
    await page.goto(f"/contacts/{contact.id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)
    await page.goto("/contacts?q=onerror")
    await expect(page.locator("td a.name")).to_have_text(name)
    await _nothing_ran(page)
    assert box.dialogs == []


async def _nothing_ran(page: Any) -> None:
    """No element came from the payloads, and the only scripts are ours."""
    assert await page.locator("img").count() == 0
    assert await page.locator("svg").count() == 0
    sources = await page.eval_on_selector_all(
        "script", "nodes => nodes.map(n => n.getAttribute('src'))"
    )
    assert sources
    assert all(src and src.startswith("/static/") for src in sources), sources


async def test_a_phone_sized_screen_shows_list_then_thread(
    browser: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900205"
    box.dialogs.clear()
    page = await new_page(browser, box, viewport=PHONE)
    await sign_in(page)
    await open_live_inbox(page)
    box.text_from(phone, "Is the shop open on Sunday? I need to pick up my order.")
    await expect(row(page, phone)).to_be_visible()
    await expect(page.locator("#thread-pane")).to_be_hidden()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "10-phone-inbox")

    await row(page, phone).click()
    thread = page.locator("article.thread")
    await expect(thread.locator("h2")).to_have_text(phone)
    await expect(page.locator(".list-pane")).to_be_hidden()
    await expect(thread.locator("#reply-body")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await screenshot(page, "11-phone-thread")

    await thread.get_by_role("link", name="Inbox").click()
    await expect(page.locator(".list-pane")).to_be_visible()
    await expect(page).to_have_url(box.url + "/")
    assert box.dialogs == []
    await page.context.close()


async def test_keyboard_moves_opens_and_replies(page: Any, box: Box) -> None:
    from playwright.async_api import expect

    for i, phone in enumerate(("+447700900206", "+447700900207", "+447700900208")):
        box.text_from(phone, f"kumquat question {i}")
        await eventually(lambda n=i + 1: _kumquats(box, n))
    await open_live_inbox(page, "/?q=kumquat")
    rows = page.locator("li.row")
    await expect(rows).to_have_count(3)
    ids = [await r.get_attribute("data-id") for r in await rows.all()]

    await page.keyboard.press("j")
    await expect(page.locator("li.row.selected")).to_have_attribute("data-id", ids[0])
    await page.keyboard.press("j")
    await expect(page.locator("li.row.selected")).to_have_attribute("data-id", ids[1])
    await page.keyboard.press("j")
    await page.keyboard.press("k")
    await expect(page.locator("li.row.selected")).to_have_attribute("data-id", ids[1])
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(rf"/conversations/{ids[1]}\?q=kumquat$"))
    thread = page.locator("article.thread")
    await expect(thread).to_have_attribute("data-thread", ids[1])

    await page.keyboard.press("r")
    composer = thread.locator("#reply-body")
    await expect(composer).to_be_focused()
    await page.keyboard.type("jar")  # typing, not shortcuts
    await expect(composer).to_have_value("jar")
    await expect(thread).to_have_attribute("data-thread", ids[1])
    await page.keyboard.press("Escape")
    await expect(composer).not_to_be_focused()
    await page.keyboard.press("n")
    await expect(thread.locator("#note-body")).to_be_focused()
    await page.keyboard.press("Escape")
    await page.keyboard.press("k")
    await page.keyboard.press("o")
    await expect(thread).to_have_attribute("data-thread", ids[0])
    await page.keyboard.press("Shift+P")
    await expect(thread.locator("[data-conversation-status]")).to_have_text("pending")
    await page.keyboard.press("?")
    await expect(page.locator("#shortcuts")).to_be_visible()
    await screenshot(page, "12-shortcuts-help")
    await page.keyboard.press("Escape")
    await expect(page.locator("#shortcuts")).to_be_hidden()
    await page.keyboard.press("/")
    await expect(page.locator("#search")).to_be_focused()
    assert box.dialogs == []


async def _kumquats(box: Box, count: int) -> bool:
    """Whether `count` kumquat questions have arrived (in order, so the list's order
    is the order they were sent in)."""
    page = await box.services.inbox.list_conversations(search="kumquat")
    return len(page.rows) >= count


async def test_a_reply_to_an_opted_out_customer_is_refused_with_the_reason(
    page: Any, box: Box
) -> None:
    from playwright.async_api import expect

    phone = "+447700900209"
    await open_live_inbox(page)
    box.text_from(phone, "STOP")
    await row(page, phone).click()
    thread = page.locator("article.thread")
    await expect(thread.locator("[data-opted-out]")).to_be_visible()
    await thread.locator("#reply-body").fill("One last thing...")
    await thread.get_by_role("button", name="Send").click()
    error = thread.locator("[data-composer-error]")
    await expect(error).to_contain_text("has opted out")
    await expect(thread.locator("#reply-body")).to_have_value("One last thing...")
    await screenshot(page, "13-opted-out-refused")
    assert "One last thing..." not in box.phone_inbox(phone)
    assert box.dialogs == []
