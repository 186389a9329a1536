"""Word-level pieces of command text: quoted names, and splitting off the words after them."""

from __future__ import annotations

#: Opening quote -> closing quote, for model names typed in quotes.
QUOTES = {'"': '"', "'": "'", "`": "`", "“": "”", "‘": "’"}


def quoted_head(text: str) -> tuple[str, str] | None:
    """A model name in quotes at the start of `text`, and what follows it."""
    text = text.strip()
    closing = QUOTES.get(text[:1])
    if closing is None:
        return None
    end = text.find(closing, 1)
    if end <= 1 or (end + 1 < len(text) and not text[end + 1].isspace()):
        return None
    name = text[1:end].strip()
    return (name, text[end + 1 :]) if name else None


def split_at(text: str, index: int, count: int) -> tuple[str, ...]:
    """The words before word `index`, the `count - 1` words from it, and the rest as typed."""
    head_words = text.split()[:index]
    position = 0
    for word in head_words:
        position = text.index(word, position) + len(word)
    head, tail = text[:position], text[position:]
    pieces = tail.split(maxsplit=count - 1)
    while len(pieces) < count:
        pieces.append("")
    return (head, *pieces)
