#!/usr/bin/env python3
"""Reads an RSS file with two independent podcast parsers and prints what each understood.

Used by the integration suite (tests/api/feed.rs): feedparser is what many aggregators use,
podcastparser is gPodder's and AntennaPod-like clients' strict reader. Output: one JSON object.
"""
import json
import sys

import feedparser
import podcastparser

path = sys.argv[1]
url = sys.argv[2]

fp = feedparser.parse(path)
with open(path, "rb") as f:
    pp = podcastparser.parse(url, f)


def fp_entry(e):
    enc = e.get("enclosures") or []
    return {
        "title": e.get("title"),
        "guid": e.get("id"),
        "description": e.get("summary"),
        "duration": e.get("itunes_duration"),
        "published": e.get("published"),
        "transcript": e.get("podcast_transcript"),
        "chapters": e.get("podcast_chapters"),
        "person": e.get("podcast_person"),
        "enclosure": {
            "url": enc[0].get("href") if enc else None,
            "length": enc[0].get("length") if enc else None,
            "type": enc[0].get("type") if enc else None,
        },
    }


def pp_entry(e):
    enc = e.get("enclosures") or []
    return {
        "title": e.get("title"),
        "guid": e.get("guid"),
        "description": e.get("description"),
        "total_time": e.get("total_time"),
        "published": e.get("published"),
        # Read only under the namespace's old GitHub URI (podcastparser 0.6.11).
        "transcript_url": e.get("transcript_url"),
        "chapters_json_url": e.get("chapters_json_url"),
        "enclosure": {
            "url": enc[0].get("url") if enc else None,
            "length": enc[0].get("file_size") if enc else None,
            "type": enc[0].get("mime_type") if enc else None,
        },
    }


print(
    json.dumps(
        {
            "feedparser": {
                "bozo": bool(fp.bozo),
                "bozo_exception": str(fp.get("bozo_exception", "")),
                "title": fp.feed.get("title"),
                "language": fp.feed.get("language"),
                "author": fp.feed.get("author"),
                "entries": [fp_entry(e) for e in fp.entries],
            },
            "podcastparser": {
                "title": pp.get("title"),
                "type": pp.get("type"),
                "episodes": [pp_entry(e) for e in pp.get("episodes", [])],
            },
        },
        ensure_ascii=False,
    )
)
