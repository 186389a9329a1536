"""Driving the playground page in headless Chromium: shared steps for the browser tests."""

from __future__ import annotations

from typing import Any

from tests.playground.conftest import Served

WAIT_SECONDS = 30


def by_testid(testid: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR, f'[data-testid="{testid}"]'


def messages(driver: Any) -> list[Any]:
    return list(driver.find_elements(*by_testid("message")))


def card_with_button(driver: Any, label: str) -> Any:
    """The message with a button labelled `label`, or None (also while it is redrawn)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        for message in messages(driver):
            if message.find_elements(By.XPATH, f".//button[normalize-space()='{label}']"):
                return message
    except StaleElementReferenceException:
        return None
    return None


def click_and_confirm(driver: Any, message: Any, label: str) -> None:
    """Click the card's button, then the confirm dialog's button of the same name."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    message.find_element(By.XPATH, f".//button[normalize-space()='{label}']").click()
    dialog = WebDriverWait(driver, WAIT_SECONDS).until(
        ec.visibility_of_element_located((By.ID, "confirm-dialog"))
    )
    assert "Apply this change?" in dialog.text
    dialog.find_element(By.XPATH, f".//button[normalize-space()='{label}']").click()
    WebDriverWait(driver, WAIT_SECONDS).until(ec.invisibility_of_element(dialog))


def open_page(driver: Any, served: Served) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(served.url + "/")
    # A message being redrawn (a card updated in place) is retried, not a failure.
    wait = WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "body[data-ready]"))
    return wait
