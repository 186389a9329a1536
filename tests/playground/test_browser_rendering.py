"""What the page draws, in headless Chromium: markup as text, modals, threads, links."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playground.browser_page import (
    by_testid,
    messages,
    open_page,
)
from tests.playground.conftest import Served

pytestmark = pytest.mark.browser


def test_model_names_with_markup_are_shown_as_text_in_the_browser(
    served: Served, browser: Any
) -> None:
    from mlflow import MlflowClient
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    names = ["<script>", "<!channel>", "<img src=x onerror=alert(1)>"]
    client = MlflowClient(tracking_uri=served.playground.settings.mlflow_tracking_uri)
    for name in names:
        client.create_registered_model(name)

    wait = open_page(browser, served)
    browser.find_element(*by_testid("composer")).send_keys("/promote list", Keys.ENTER)
    listing = wait.until(lambda d: [m for m in messages(d) if "<script>" in m.text])[0]
    for name in names:
        assert name in listing.text
    assert "@channel" not in listing.text
    assert listing.find_elements(By.CSS_SELECTOR, "script, img, a") == []

    registry = browser.find_element(*by_testid("registry"))
    wait.until(lambda _d: "<!channel>" in registry.text)
    shown = [h.text for h in registry.find_elements(By.CSS_SELECTOR, "h3")]
    assert set(names) <= set(shown)
    assert registry.find_elements(By.CSS_SELECTOR, "script, img") == []
    assert browser.execute_script("return window.__pwned === undefined")


RENDER = """
const [text, done] = arguments;
import("/static/blockkit.js").then(({ renderBlocks }) => {
  const node = renderBlocks(
    [{ type: "section", text: { type: "mrkdwn", text } }],
    { people: { U0PLAYBOB: { name: "Bob" } } },
  );
  done({
    text: node.textContent,
    elements: [...node.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
    links: [...node.querySelectorAll("a")].map((a) => a.getAttribute("href")),
  });
});
"""


def test_renderer_turns_slack_markup_into_text_and_only_safe_links(
    served: Served, browser: Any
) -> None:
    open_page(browser, served)
    text = (
        "<!channel> &lt;script&gt;window.__pwned=1&lt;/script&gt; <javascript:alert(1)|click me> "
        "<https://mlflow.org|MLflow> *bold* _italic_ `code` <@U0PLAYBOB> "
        "<!subteam^S0PLAY|@ml-leads>"
    )
    rendered = browser.execute_async_script(RENDER, text)
    assert "@channel" in rendered["text"]
    assert "<script>window.__pwned=1</script>" in rendered["text"]
    assert "click me" in rendered["text"] and "@Bob" in rendered["text"]
    assert "@ml-leads" in rendered["text"]
    assert rendered["links"] == ["https://mlflow.org"]
    assert {"strong", "em", "code"} <= set(rendered["elements"])
    assert not {"script", "img", "iframe"} & set(rendered["elements"])
    assert browser.execute_script("return window.__pwned === undefined")


def test_the_request_form_shows_a_field_error_then_files_and_home_shows_it(
    served: Served, browser: Any
) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    def choose(label: str, starts: str) -> bool:
        """Pick the first option of the select `label` whose text starts with `starts`
        (False while its options load or the form is redrawn)."""
        try:
            select = Select(browser.find_element(By.CSS_SELECTOR, f"select[aria-label='{label}']"))
            for option in select.options:
                if option.text.startswith(starts):
                    select.select_by_visible_text(option.text)
                    return True
        except StaleElementReferenceException:
            return False
        return False

    wait = open_page(browser, served)
    browser.find_element(*by_testid("composer")).send_keys("/promote", Keys.ENTER)
    modal = wait.until(ec.visibility_of_element_located((By.ID, "modal")))
    assert "Request a promotion" in modal.text
    wait.until(lambda _d: choose("Model", "churn-model"))
    # Choosing a model rebuilds the form; the versions then load for that model.
    wait.until(lambda _d: choose("Version", "v2 · Staging"))
    wait.until(lambda _d: choose("Choose a target", "Production"))
    browser.find_element(By.ID, "modal-submit").click()
    error = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#modal-body .bk-error")))
    assert "a reason is required for Production" in error.text

    reason = browser.find_element(By.CSS_SELECTOR, "textarea[aria-label='Reason']")
    assert reason.get_attribute("aria-invalid") == "true"
    reason.send_keys("AUC +2% on the holdout set")
    browser.find_element(By.ID, "modal-submit").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "modal"), "approval card"))
    browser.find_element(By.ID, "modal-close").click()
    wait.until(ec.invisibility_of_element(modal))
    wait.until(lambda d: [m for m in messages(d) if "AUC +2% on the holdout set" in m.text])

    browser.find_element(By.ID, "tab-home").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "home-view"), "Your open requests (1)"))


def test_thread_replies_sit_under_their_message_and_direct_messages_link_back(
    served: Served, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    from bot.playground.people import CHANNEL_ID, ENGINEER

    client = served.playground.bolt.client
    parent = client.chat_postMessage(channel=CHANNEL_ID, text="*Digest* for today")
    client.chat_postMessage(
        channel=CHANNEL_ID, text="churn-model: _v2_ serving", thread_ts=parent["ts"]
    )
    link = client.chat_getPermalink(channel=CHANNEL_ID, message_ts=parent["ts"])["permalink"]
    client.chat_postMessage(
        channel=ENGINEER.id, text=f"Your request was approved: <{link}|the card>"
    )

    wait = open_page(browser, served)
    message = wait.until(lambda d: [m for m in messages(d) if "Digest for today" in m.text])[0]
    reply = message.find_element(By.CSS_SELECTOR, '[data-testid="thread-reply"]')
    assert reply.is_displayed() and "churn-model: v2 serving" in reply.text
    assert reply.find_element(By.TAG_NAME, "em").text == "v2"
    assert len(messages(browser)) == 1  # the reply is not a channel message of its own

    tab = browser.find_element(By.ID, "tab-messages")
    wait.until(lambda _d: tab.text == "promobot: Messages (1)")
    tab.click()
    dm = wait.until(lambda d: [m for m in messages(d) if "Your request was approved" in m.text])[0]
    assert tab.text == "promobot: Messages"
    dm.find_element(By.LINK_TEXT, "the card").click()
    wait.until(
        lambda d: d.find_element(By.ID, "tab-channel").get_attribute("aria-selected") == "true"
    )
    highlighted = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.highlight"))
    assert "Digest for today" in highlighted[0].text
