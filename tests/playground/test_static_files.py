"""The page's static files: no HTML parsing of text, no build step, shipped in the wheel."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "bot" / "playground" / "static"
PAGE_FILES = {
    "index.html",
    "app.css",
    "app.js",
    "blockkit.js",
    "mrkdwn.js",
    "registry.js",
    "views.js",
}


def test_the_page_is_plain_files_that_load_nothing_from_elsewhere() -> None:
    assert {p.name for p in STATIC.iterdir()} == PAGE_FILES
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f"{path.name} loads from afar"
        assert "@import" not in text and 'fetch("http' not in text


def test_scripts_never_turn_text_into_html() -> None:
    """Text reaches the page only as text nodes and attributes (see blockkit.js)."""
    forbidden = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
        r"createContextualFragment|DOMParser|srcdoc"
    )
    for script in STATIC.glob("*.js"):
        found = forbidden.findall(script.read_text())
        assert found == [], f"{script.name} uses {found}"
    page = (STATIC / "index.html").read_text()
    assert re.findall(r"<script[^>]*>", page) == [
        '<script type="module" src="/static/app.js">'
    ]  # no inline script: the Content-Security-Policy forbids it


def test_the_page_names_the_contract_test_ids() -> None:
    page = (STATIC / "index.html").read_text()
    assert re.search(r'<select id="person" data-testid="person"[ >]', page)
    assert 'data-testid="composer"' in page and 'data-testid="registry"' in page
    assert '"data-testid": "message"' in (STATIC / "app.js").read_text()


def test_a_built_wheel_carries_the_page(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("promobot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"bot/playground/static/{name}" for name in PAGE_FILES} <= names
