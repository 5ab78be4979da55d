"""The console's tools in a real browser: a supervisor edits the canned replies that agents use,
and an agent moves a return case on from the context panel (the shopper is told in the chat)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from redis.asyncio import Redis
from selenium.webdriver.common.by import By

from actions.shop.models import CaseRequest, Reason, Resolution
from actions.shop.sqlite_repository import SqliteShopRepository
from handoff.settings import HandoffSettings
from handoff.tickets.service import TicketService
from tests.e2e.conftest import screenshot, wait_for, wait_for_line
from tests.e2e.test_handoff_in_browser import open_chat, sign_in
from tests.test_handoff.conftest import ticket_in

pytestmark = [pytest.mark.e2e, pytest.mark.server]


def test_a_supervisors_canned_reply_reaches_the_agents(assistant, browser):
    boss, agent = browser(1360, 860), browser(1360, 860)
    sign_in(boss, assistant, "zhuguan")
    boss.find_element(By.ID, "canned-edit").click()
    boss.find_element(By.ID, "canned-add").click()
    row = boss.find_elements(By.CSS_SELECTOR, "#canned-rows .canned-row")[-1]
    row.find_element(By.CSS_SELECTOR, ".canned-row-title").send_keys("运费险")
    row.find_element(By.CSS_SELECTOR, ".canned-row-text").send_keys("您的订单有运费险，寄回的运费由保险公司赔付，不用您出。")
    screenshot(boss, "6-console-canned-editor")
    boss.find_element(By.ID, "canned-save").click()
    wait_for(boss, lambda d: not d.find_element(By.ID, "canned-editor").is_displayed(), "the editor to close")

    sign_in(agent, assistant, "kefu.li")
    assert not agent.find_element(By.ID, "canned-edit").is_displayed(), "only supervisors edit"
    chips = [chip.get_attribute("textContent") for chip in agent.find_elements(By.CSS_SELECTOR, "#canned button.canned-reply")]
    assert "运费险" in chips  # the bar shows with an open conversation


def test_an_agent_approves_the_return_and_the_shopper_is_told(assistant, browser):
    order_id = assistant.orders["caked_milk_powder"]
    ticket_id, case_id = asyncio.run(_queue_a_ticket_with_a_case(assistant, order_id))
    console, chat = browser(1360, 860), browser(420, 860)
    open_chat(chat, assistant, "u1001")
    sign_in(console, assistant, "kefu.wang")
    ticket = wait_for(console, lambda d: d.find_elements(By.CSS_SELECTOR, f"#queue li.ticket[data-ticket-id='{ticket_id}']"),
                      "the ticket in the queue")[0]
    ticket.find_element(By.CSS_SELECTOR, "button.claim").click()
    approve = wait_for(console, lambda d: next((b for b in d.find_elements(By.CSS_SELECTOR, "#case-actions button.case-action")
                                                if b.text == "审核通过，等顾客寄回"), False), "the case actions")
    console.find_element(By.ID, "case-note").send_keys("照片清楚，同意退货")
    approve.click()
    wait_for(console, lambda d: "待寄回" in d.find_element(By.ID, "case").text, "the case to show 待寄回")
    wait_for_line(chat, "#messages li.from-agent", f"您的售后单{case_id}已审核通过")
    wait_for_line(console, "#messages li.from-agent", f"您的售后单{case_id}已审核通过")  # the agent sees what was said
    screenshot(console, "7-console-case-approved")


async def _queue_a_ticket_with_a_case(assistant, order_id: str) -> tuple:
    shop = SqliteShopRepository(Path(assistant.env["SHOP_DB_PATH"]))
    order = await shop.get_order(order_id)
    case = await shop.create_case(CaseRequest(order_id=order_id, sku=order.items[0].sku, shopper_id=order.shopper_id,
                                              reason=Reason.QUALITY, resolution=Resolution.REFUND, needs_review=True))
    redis = Redis.from_url(assistant.env["REDIS_URL"])
    try:
        ticket = ticket_in("u1001", reason="policy").copy(update={"case": json.loads(case.json())})
        queued, _ = await TicketService(redis, HandoffSettings(redis_url=assistant.env["REDIS_URL"])).enqueue(ticket)
    finally:
        await redis.close()
    return queued.ticket_id, case.case_id
