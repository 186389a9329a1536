"""Passwords in database and MLflow URLs are found and masked whatever characters they hold."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.url_credentials import masked_url, url_passwords

#: Passwords as people paste them, unencoded: urlsplit misreads every one after the first.
PASSWORDS = ["s3cret-pass", "p#a/ss", "p@ss", "pa:ss", "p?ss", "p/@#:?&=ss", "pä ss€"]


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize(
    "template",
    [
        "postgresql://promobot:{}@db.internal:5432/promobot",
        "postgresql+psycopg://promobot:{}@db/promobot?sslmode=require",
        "https://alice:{}@mlflow.example.com/",
        "postgresql:promobot:{}@db/promobot",
    ],
)
def test_the_password_is_masked_and_found_whatever_it_holds(template: str, password: str) -> None:
    url = template.format(password)

    masked = masked_url(url)

    assert password not in masked
    assert ":****@" in masked
    assert masked.split(":****@")[1] == url.rsplit("@", 1)[1]  # host and database readable
    assert masked.startswith(template.split("{}")[0])  # scheme and user readable
    assert password in url_passwords(url)


def test_a_percent_encoded_password_is_found_in_both_forms() -> None:
    url = "postgresql://promobot:p%40ss%23word@db/promobot"
    assert masked_url(url) == "postgresql://promobot:****@db/promobot"
    assert set(url_passwords(url)) == {"p%40ss%23word", "p@ss#word"}


def test_a_password_in_the_query_string_is_masked_and_found() -> None:
    url = "postgresql://promobot@db/promobot?sslmode=require&password=q#u/e:ry&x=1"
    assert masked_url(url) == "postgresql://promobot@db/promobot?sslmode=require&password=****&x=1"
    assert url_passwords(url) == ["q#u/e:ry"]


@pytest.mark.parametrize(
    "url",
    ["sqlite:///promobot.db", "sqlite:////data/promobot.db", "http://mlflow:5000", "file:///x"],
)
def test_urls_without_a_password_are_shown_unchanged(url: str) -> None:
    assert masked_url(url) == url
    assert url_passwords(url) == []


@settings(max_examples=300, deadline=None, database=None)
@given(
    password=st.text(alphabet=st.sampled_from("ab9#/@:?&=%! ._-ä"), min_size=4, max_size=20).filter(
        lambda p: p.strip() and "%" not in p
    ),
    user=st.sampled_from(["promobot", "u", ""]),
)
def test_no_password_survives_masking(password: str, user: str) -> None:
    url = f"postgresql://{user}:{password}@db.example:5432/promobot"
    assert password not in masked_url(url)
    assert password in url_passwords(url)
