"""Reply text that renders well as Markdown and reads well as plain text.

Rasa clients (rasa-webchat, chat apps, terminals) show a reply's `text` either as Markdown or as it is. So
every reply is built from blocks: a bold title, paragraphs and `-` lists, separated by blank lines (Markdown
joins lines into one paragraph unless a blank line parts them); and every piece of catalogue text put into it is escaped, so
that no character in it becomes markup. Plain-text readers see the same lines with `-` bullets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

INLINE = re.compile(r"([\\`*_\[\]<>~])")  # emphasis, code, links, HTML, strike-through
BLOCK_START = re.compile(r"^(\s*\d*)([#>+\-=|.)])")  # a heading, quote, list or rule at the start of a line


def escape(text: object) -> str:
    """Text from the catalogue or the citizen, shown as written in Markdown (a backslash before markup)."""
    text = INLINE.sub(r"\\\1", str(text))
    return "\n".join(BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), line) for line in text.split("\n"))


def title(text: str) -> str:
    return f"**{escape(text)}**"


def bullets(lines: Iterable[str]) -> str:
    """A `-` list; each line is already escaped."""
    return "\n".join(f"- {line}" for line in lines)


# Rasa's REST and socket.io channels cut a text at every "\n\n" into separate messages (one bubble each). A line
# holding one space is a blank line to Markdown (CommonMark 4.9) and to a reader, and keeps the reply one message.
BLANK_LINE = "\n \n"


def blocks(*parts: str | None) -> str:
    """Blocks (paragraphs, lists, a title) joined by blank lines; empty ones left out."""
    return BLANK_LINE.join(part for part in parts if part)

