"""The issue's flow in headless Chromium: request, refused self-approval, approval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.playground.browser_page import (
    by_testid,
    card_with_button,
    click_and_confirm,
    messages,
    open_page,
)
from tests.playground.conftest import Served

pytestmark = pytest.mark.browser


def test_engineer_files_is_refused_her_own_approval_and_the_approver_applies_it(
    served: Served, browser: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    wait = open_page(browser, served)
    person = Select(browser.find_element(*by_testid("person")))
    assert [o.text for o in person.options] == ["Ann", "Bob", "Cat"]  # the people's names
    assert person.first_selected_option.text == "Ann"
    assert browser.find_element(By.ID, "person-role").text == "ML engineer"

    # 1. Ann files a Production request and sees the card.
    composer = browser.find_element(*by_testid("composer"))
    composer.send_keys("/promote")
    wait.until(ec.text_to_be_present_in_element((By.ID, "usage"), "/promote <model> <version>"))
    composer.send_keys(" churn-model 2 production better on the holdout set", Keys.ENTER)
    card = wait.until(lambda d: card_with_button(d, "Approve"))
    assert "churn-model" in card.text and "Staging → Production" in card.text
    assert card.find_elements(By.XPATH, ".//button[normalize-space()='Reject']")
    private = wait.until(lambda d: [m for m in messages(d) if "Only visible to you" in m.text])
    assert "The approval card is in this channel" in private[0].text

    # 2. She clicks Approve on her own request and sees the refusal.
    click_and_confirm(browser, card, "Approve")
    refusal = wait.until(lambda d: [m for m in messages(d) if "yourself" in m.text])
    assert "Only visible to you" in refusal[0].text
    assert "someone else must approve it" in refusal[0].text
    assert served.stages("churn-model")[2] == "Staging"

    # 3. The view switches to the approver, who approves; the card and registry update.
    person.select_by_visible_text("Bob")
    assert browser.find_element(By.ID, "person-role").text == "approver"
    wait.until(lambda d: not [m for m in messages(d) if "yourself" in m.text])  # Ann's only
    card = wait.until(lambda d: card_with_button(d, "Approve"))
    click_and_confirm(browser, card, "Approve")
    decided = wait.until(
        lambda d: [m for m in messages(d) if "churn-model" in m.text and "Approved" in m.text]
    )
    assert "(edited)" in decided[0].text
    assert not decided[0].find_elements(By.XPATH, ".//button")  # the buttons are gone
    registry = browser.find_element(*by_testid("registry"))
    row = wait.until(
        lambda _d: registry.find_elements(
            By.CSS_SELECTOR, '[data-model="churn-model"] tr[data-version="2"].serving'
        )
    )
    assert "Production" in row[0].text
    assert (
        "Archived"
        in registry.find_element(
            By.CSS_SELECTOR, '[data-model="churn-model"] tr[data-version="1"]'
        ).text
    )

    screenshot = tmp_path / "playground-after-approval.png"
    assert browser.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nplayground screenshot after the flow: {screenshot}")


UNNAMED_CONTROLS = """
return [...document.querySelectorAll("button, select, input, textarea")]
  .filter((e) => !e.closest("[hidden]") && !e.closest("dialog:not([open])"))
  .filter((e) => {
    const labels = [...(e.labels ?? [])].map((l) => l.textContent.trim()).join("");
    const text = e.tagName === "BUTTON" ? e.textContent.trim() : "";
    return !(e.getAttribute("aria-label") || labels || text);
  })
  .map((e) => e.tagName + "#" + e.id);
"""


def test_the_approval_can_be_made_from_the_keyboard_with_labelled_controls(
    served: Served, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    wait = open_page(browser, served)
    browser.find_element(*by_testid("composer")).send_keys(
        "/promote fraud-detector 2 production better on the holdout set", Keys.ENTER
    )
    wait.until(lambda d: card_with_button(d, "Approve"))
    Select(browser.find_element(*by_testid("person"))).select_by_visible_text("Cat")
    card = wait.until(lambda d: card_with_button(d, "Approve"))
    assert browser.execute_script(UNNAMED_CONTROLS) == []

    card.find_element(By.XPATH, ".//button[normalize-space()='Approve']").send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed())
    assert browser.switch_to.active_element.text == "Back"  # the safe choice has the focus
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.text == "Approve"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(
        lambda d: [m for m in messages(d) if "fraud-detector" in m.text and "Approved" in m.text]
    )
    assert served.stages("fraud-detector") == {1: "Archived", 2: "Production"}

    tab = browser.find_element(By.ID, "tab-channel")
    tab.send_keys(Keys.ARROW_RIGHT)
    assert browser.switch_to.active_element.get_attribute("id") == "tab-messages"
    assert browser.find_element(By.ID, "tab-messages").get_attribute("aria-selected") == "true"
