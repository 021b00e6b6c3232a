"""HTML to readable text for `fetch_url`: headings, paragraphs, lists and tables, no scripts.

Pure: no I/O. The standard library's `HTMLParser` does the tokenising.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_SKIPPED_TAGS = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "iframe", "object", "canvas",
     "select", "button"}
)  # fmt: skip
_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote",
     "pre", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "figure",
     "figcaption", "form", "fieldset", "address", "details", "summary", "hr", "caption",
     "center", "body", "html"}
)  # fmt: skip
_HEADINGS = {f"h{n}": n for n in range(1, 7)}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: str | None = None
        self._title_parts: list[str] | None = None
        self._out: list[str] = []
        self._skip = 0
        self._pre = 0
        self._breaks = 0  # newlines owed before the next text
        self._prefix = ""  # "## " or "- ", written before the next text
        self._line_start = True
        self._row_cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        elif tag == "title" and self.title is None and not self._skip:
            self._title_parts = []
        elif tag in _HEADINGS:
            self._break(2)
            self._prefix = "#" * _HEADINGS[tag] + " "
        elif tag == "li":
            self._break(1)
            self._prefix = "- "
        elif tag == "br":
            self._break(1)
        elif tag == "tr":
            self._break(1)
            self._row_cells = 0
        elif tag in ("td", "th"):
            if self._row_cells:
                self._prefix = " | "
            self._row_cells += 1
        elif tag in _BLOCK_TAGS:
            self._break(2)
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag == "title" and self._title_parts is not None:
            self.title = " ".join("".join(self._title_parts).split()) or None
            self._title_parts = None
        elif tag in _HEADINGS or tag in _BLOCK_TAGS:
            self._break(2)
            self._prefix = ""
        elif tag in ("li", "tr"):
            self._break(1)
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._title_parts is not None:
            self._title_parts.append(data)
            return
        text = data if self._pre else re.sub(r"\s+", " ", data)
        if not self._pre and self._line_start:
            text = text.lstrip()
        if not text:
            return
        if self._breaks:
            if self._out:
                self._out.append("\n" * self._breaks)
            self._breaks = 0
            self._line_start = True
            if not self._pre:
                text = text.lstrip()
                if not text:
                    return
        if self._prefix:
            if self._prefix != " | " or not self._line_start:
                self._append(self._prefix)
                text = text if self._pre else text.lstrip()
            self._prefix = ""
        self._append(text)
        self._line_start = text.endswith("\n")

    def _break(self, count: int) -> None:
        self._breaks = max(self._breaks, count)

    def _append(self, text: str) -> None:
        # Inline whitespace from both sides of a tag must not add up to two spaces.
        if text.startswith(" ") and not self._pre and self._out and self._out[-1].endswith(" "):
            text = text[1:]
        if text:
            self._out.append(text)

    def text(self) -> str:
        joined = "".join(self._out)
        lines = [line.rstrip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> tuple[str | None, str]:
    """Reduce an HTML document to readable text.

    Scripts, styles, navigation and other non-content elements are dropped; headings
    become `#`-prefixed lines, list items `- ` lines, table cells are joined with ` | `,
    paragraphs are separated by blank lines and other whitespace is collapsed (except in
    `<pre>`).

    Args:
        html: The document.

    Returns:
        `(title, text)`; the title is None when the page has none.
    """
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return parser.title, parser.text()
