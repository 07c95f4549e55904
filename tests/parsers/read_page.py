#!/usr/bin/env python3
"""Parses the HTML page that feeds/siaran.xsl makes of a feed (with xsltproc) and prints what a
reader would see, as JSON.

html5lib implements the WHATWG parsing algorithm; in strict mode any parse error (a stray end tag,
a misnested element, a bad doctype) raises, so a page that loads here is well-formed HTML.
"""
import json
import sys

import html5lib

with open(sys.argv[1], "rb") as f:
    doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(f)


def text(el):
    return " ".join("".join(el.itertext()).split()) if el is not None else None


print(
    json.dumps(
        {
            "lang": doc.get("lang"),
            "title": text(doc.find("head/title")),
            "h1": text(doc.find(".//h1")),
            "about": text(doc.find(".//aside")),
            "feed_address": doc.find(".//aside//input").get("value"),
            "cover": (doc.find(".//header//img") if doc.find(".//header//img") is not None else {}).get("src"),
            "episodes": [
                {
                    "title": text(a.find("h3")),
                    "meta": text(a.find("p")),
                    "date": a.find(".//time").get("datetime") if a.find(".//time") is not None else None,
                    "player": next(
                        ({"tag": m.tag, "src": m.get("src")} for m in a.iter() if m.tag in ("audio", "video")),
                        None,
                    ),
                }
                for a in doc.iter("article")
            ],
        },
        ensure_ascii=False,
    )
)
