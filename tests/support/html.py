"""Parse HTML into a small element tree (stdlib only), so tests assert on structure, not substrings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def visible(self) -> Iterator[Element]:
        """Like iter(), but skipping hidden subtrees (the `hidden` attribute)."""
        if "hidden" in self.attrs:
            return
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.visible()

    def find_all(self, tag: str) -> list[Element]:
        return [e for e in self.iter() if e.tag == tag]

    def by_id(self, element_id: str) -> Element:
        (found,) = [e for e in self.iter() if e.attrs.get("id") == element_id]
        return found

    def visible_text(self) -> str:
        """Text a reader sees without scripts: hidden, script, style, template and head content left out."""
        if self.tag in ("script", "style", "head", "template", "noscript") or "hidden" in self.attrs:
            return ""
        return " ".join(" ".join(c.split()) if isinstance(c, str) else c.visible_text() for c in self.children).strip()


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack[-1].tag != tag:
            raise AssertionError(f"malformed HTML: </{tag}> closes <{self.stack[-1].tag}>")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    if len(builder.stack) != 1:
        raise AssertionError(f"malformed HTML: <{builder.stack[-1].tag}> is never closed")
    return builder.root
