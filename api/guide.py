"""The Neo4j Browser guide: ``queries/browser/guide.md`` read once, served as the slides ``:guide <url>`` loads.

Neo4j Browser 4.4 and 5 fetch a remote guide with ``:guide <url>``, take its title from
``<title>``, cut it into slides at its ``<slide>`` elements and turn every ``<pre class="runnable">``
into a block that a click puts in the editor; they strip scripts and event handlers, so the page
holds none. The markdown file stays the one source: a reader on GitHub sees the same text, the
Browser gets it as slides, and the tests run the very queries the slides show.

What ``guide.md`` looks like: ``# title``, an introduction (the first slide), then one
``## question`` section per slide. A fenced ``cypher`` block is one thing to run. A block holding
only ``:param {name: 'value', ...}`` sets the parameters of the queries after it, replacing the
ones before (that is what the Browser's ``:param {map}`` does); other ``:`` lines are Browser
commands, shown but not queries. A new question is a new section: nothing else needs to change.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

GUIDE_PATH = "/browser/guide.html"
STYLE_PATH = "/browser/matchgraph.grass"
DEFAULT_SERVER = "http://127.0.0.1:8000"
"""Where ``matchgraph serve`` listens by default. The guide's text names it; the served slides name
the address the guide was fetched from instead."""

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n?", re.S | re.M)
_PARAMS = re.compile(r":param \{(.*)\}")
_PAIR = re.compile(r"\s*(\w+):\s*'([^'\\]*)'\s*")


@dataclass(frozen=True)
class Query:
    """One query of the guide, with the parameters in force where it stands."""

    section: str
    index: int
    """Its place among its section's queries, from 0."""
    text: str
    params: dict[str, str]


@dataclass(frozen=True)
class Section:
    title: str
    body: str
    """The section's markdown, without its heading."""


@dataclass(frozen=True)
class Guide:
    title: str
    intro: str
    sections: tuple[Section, ...]

    @classmethod
    def parse(cls, text: str) -> Guide:
        """Split the markdown at its ``## `` headings (never inside a code block)."""
        lines = text.splitlines(keepends=True)
        if not lines or not lines[0].startswith("# "):
            raise ValueError("the guide starts with a '# title' line")
        title = lines[0][2:].strip()
        parts: list[tuple[str, list[str]]] = [("", [])]
        fenced = False
        for line in lines[1:]:
            if line.startswith("```"):
                fenced = not fenced
            if not fenced and line.startswith("## "):
                parts.append((line[3:].strip(), []))
            else:
                parts[-1][1].append(line)
        intro = "".join(parts[0][1]).strip() + "\n"
        sections = tuple(Section(name, "".join(body).strip() + "\n") for name, body in parts[1:])
        titles = [s.title for s in sections]
        if len(set(titles)) != len(titles):
            raise ValueError("two sections of the guide share a title")
        return cls(title, intro, sections)

    def queries(self) -> list[Query]:
        """Every query, in order, each with the parameters the ``:param`` blocks before it set."""
        found: list[Query] = []
        params: dict[str, str] = {}
        for section in self.sections:
            index = 0
            for info, code in _FENCE.findall(section.body):
                if info != "cypher":
                    continue
                text = code.strip()
                if text.startswith(":param"):
                    params = parse_params(text)
                elif not text.startswith(":"):
                    found.append(Query(section.title, index, text, dict(params)))
                    index += 1
        return found

    def html(self, server: str = DEFAULT_SERVER) -> str:
        """The slides, with the default server's address replaced by ``server``."""
        slides = [(self.title, self.intro), *((s.title, s.body) for s in self.sections)]
        body = "".join(
            f'<slide class="row-fluid">\n<div class="col-sm-12">\n<h3>{html.escape(title)}</h3>\n'
            f"{_render(text.replace(DEFAULT_SERVER, server))}</div>\n</slide>\n"
            for title, text in slides
        )
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(self.title)}</title>\n</head>\n<body>\n"
            f'<article class="guide">\n<carousel class="deck container-fluid">\n{body}</carousel>\n'
            "</article>\n</body>\n</html>\n"
        )


def parse_params(line: str) -> dict[str, str]:
    """``:param {a: 'x', b: 'y'}`` as a dict; only string values, the only kind the guide uses."""
    match = _PARAMS.fullmatch(line.strip())
    pairs = match.group(1).split(",") if match else []
    parsed = [_PAIR.fullmatch(p) for p in pairs]
    if not match or not all(parsed):
        raise ValueError(f"a parameter line of the guide looks like :param {{name: 'value'}}, got {line!r}")
    return {m.group(1): m.group(2) for m in parsed if m}


def _fence(_renderer: Any, tokens: Sequence[Any], idx: int, *_: Any) -> str:
    """A ``cypher`` block becomes runnable in the Browser; any other stays a plain block."""
    token = tokens[idx]
    code = html.escape(token.content.strip())
    if token.info.strip() == "cypher":
        return f'<pre class="code runnable">{code}</pre>\n'
    return f"<pre><code>{code}</code></pre>\n"


@cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    md.add_render_rule("fence", _fence)
    return md


def _render(text: str) -> str:
    rendered: str = _markdown().render(text)
    return rendered


@cache
def guide() -> Guide:
    """The shipped guide (package data of ``queries``), parsed once per process."""
    return Guide.parse(resources.files("queries").joinpath("browser", "guide.md").read_text(encoding="utf-8"))


@cache
def style() -> str:
    """The shipped ``.grass`` style."""
    return resources.files("queries").joinpath("browser", "matchgraph.grass").read_text(encoding="utf-8")
