#!/usr/bin/env python3
"""Validates every podcast:* element of an RSS feed against the Podcasting 2.0 namespace XSD.

The namespace's schema (feeds/schema/, CC0, from the podcast-namespace repository) declares the
elements of phases 1 and 2 and a `test-wrapper` element to hold them: the podcast elements of the
channel and of each item that the schema declares are copied into one wrapper document, which
xmllint validates. The others (later phases: guid, medium, license, txt...) are listed on stderr
as not covered. Exits with xmllint's status. Usage: check_namespace.py FEED.xml SCHEMA_DIR
"""
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

NS = "https://podcastindex.org/namespace/1.0"
feed, schema_dir = sys.argv[1], sys.argv[2]
ET.register_namespace("podcast", NS)
XS = "{http://www.w3.org/2001/XMLSchema}"
declared = {
    e.get("name")
    for e in ET.parse(f"{schema_dir}/podcast.xsd").getroot().findall(f"{XS}element")
}
root = ET.parse(feed).getroot()
wrapper = ET.Element(f"{{{NS}}}test-wrapper")
count = 0
uncovered = set()
for element in list(root.iter()):
    if not element.tag.startswith(f"{{{NS}}}"):
        continue
    name = element.tag.split("}", 1)[1]
    if name in declared:
        wrapper.append(element)
        count += 1
    else:
        uncovered.add(name)
if uncovered:
    print("not in this XSD: " + ", ".join(sorted(uncovered)), file=sys.stderr)
with tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as out:
    ET.ElementTree(wrapper).write(out, encoding="utf-8", xml_declaration=True)
    path = out.name
result = subprocess.run(
    ["xmllint", "--noout", "--schema", f"{schema_dir}/podcast-wrapper.xsd", path],
    capture_output=True,
    text=True,
)
print(f"{count} podcast elements", file=sys.stderr)
sys.stderr.write(result.stderr)
sys.exit(result.returncode)
