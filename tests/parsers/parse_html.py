#!/usr/bin/env python3
"""Parses an HTML page strictly (html5lib, the WHATWG algorithm: any parse error raises) and
prints what the tests check, as JSON: the language, title, h1, every link, the meta tags, the
player's source and every element's text. Usage: parse_html.py PAGE.html
"""
import json
import sys

import html5lib

with open(sys.argv[1], "rb") as f:
    doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(f)


def text(el):
    """The words a reader sees, one space between text nodes; scripts and styles left out."""
    if el is None:
        return None
    words = []

    def walk(e):
        if e.tag in ("script", "style"):
            return
        words.append(e.text or "")
        for child in e:
            walk(child)
            words.append(child.tail or "")

    walk(el)
    return " ".join(" ".join(words).split())


player = doc.find(".//*[@id='player']")
print(
    json.dumps(
        {
            "lang": doc.get("lang"),
            "title": text(doc.find("head/title")),
            "h1": text(doc.find(".//h1")),
            "links": [
                {"href": a.get("href"), "text": text(a), "data_t": a.get("data-t")}
                for a in doc.iter("a")
            ],
            "head_links": [
                {"rel": l.get("rel"), "type": l.get("type"), "href": l.get("href")}
                for l in doc.iter("link")
            ],
            "meta": {
                (m.get("property") or m.get("name")): m.get("content")
                for m in doc.iter("meta")
                if m.get("property") or m.get("name")
            },
            "player": {"tag": player.tag, "src": player.get("src")} if player is not None else None,
            "text": text(doc.find("body")),
        },
        ensure_ascii=False,
    )
)
