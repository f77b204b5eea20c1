"""Reading a rendered report page back (stdlib ``html.parser``): elements by id or attribute with their
text and ancestors, for checking the pages against the scoring output."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HIDDEN = {"style", "script", "title", "head"}


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text content, whitespace collapsed."""
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()

    def get(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    def inside(self, other: Element) -> bool:
        p = self.parent
        while p is not None:
            if p is other:
                return True
            p = p.parent
        return False


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.body: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: (v or "") for k, v in attrs}, self.stack[-1] if self.stack else None)
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if any(el.tag in HIDDEN for el in self.stack):
            return
        for el in self.stack:
            el.parts.append(data)
        self.body.append(data)


class Page:
    """A parsed page: ``page["pd"]`` is the element with id ``pd``; ``page.text`` the visible text."""

    def __init__(self, html: str) -> None:
        parser = _Parser()
        parser.feed(html)
        parser.close()
        self.html = html
        self.elements = parser.elements
        self.text = re.sub(r"\s+", " ", "".join(parser.body)).strip()
        self.ids = {el.attrs["id"]: el for el in self.elements if "id" in el.attrs}

    def __getitem__(self, element_id: str) -> Element:
        return self.ids[element_id]

    def __contains__(self, element_id: str) -> bool:
        return element_id in self.ids

    def find_all(self, tag: str | None = None, within: str | None = None, **attrs: str) -> list[Element]:
        """Elements of ``tag`` (any when None), inside the element with id ``within`` when given, having
        every attribute given (``data_x`` means ``data-x``; the value ``"*"`` matches any value)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        root = self.ids[within] if within is not None else None
        return [el for el in self.elements if (tag is None or el.tag == tag)
                and (root is None or el.inside(root))
                and all(k in el.attrs and (v == "*" or el.attrs[k] == v) for k, v in want.items())]
