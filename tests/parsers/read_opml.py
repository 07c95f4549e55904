#!/usr/bin/env python3
"""Reads an OPML file with Python's own XML parser and prints its outlines as JSON.

Used by the integration suite (tests/api/feed_serving.rs): an XML parser that has nothing to do
with the code that wrote the file must read every show back with its exact title.
"""
import json
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
print(
    json.dumps(
        {
            "root": root.tag,
            "version": root.get("version"),
            "title": root.findtext("head/title"),
            "outlines": [dict(o.attrib) for o in root.iter("outline")],
        },
        ensure_ascii=False,
    )
)
