#!/usr/bin/env python3
"""Uploads a file to Siaran's tus endpoint with tuspy, the tus project's Python client, unchanged.

Usage: tus_upload.py ENDPOINT TOKEN FILE CHUNK_BYTES

The upload runs in two sessions, as after a crash of the client: the first stops a third of the
way in, the second is a new uploader given only the upload's URL, which asks the server for its
offset (HEAD) and continues from there. Every chunk carries an `Upload-Checksum` in sha256.
Prints one JSON object: the upload URL, the offset each session started from and reached, and
the `Siaran-Media-Id` of the last answer.
"""

import hashlib
import json
import os
import sys

from tusclient import client
from tusclient.uploader import Uploader


class Sha256Uploader(Uploader):
    # tuspy's checksums default to sha1; Siaran answers sha256 only (Tus-Checksum-Algorithm).
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


def main() -> None:
    endpoint, token, path, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    tus = client.TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
    size = os.path.getsize(path)
    metadata = {"filename": os.path.basename(path), "filetype": "application/octet-stream"}

    first = Sha256Uploader(
        file_path=path, client=tus, chunk_size=chunk, metadata=metadata, upload_checksum=True
    )
    first.upload(stop_at=size // 3)

    second = Sha256Uploader(
        file_path=path, client=tus, url=first.url, chunk_size=chunk, upload_checksum=True
    )
    resumed_from = second.offset
    second.upload()

    print(
        json.dumps(
            {
                "url": first.url,
                "first_reached": first.offset,
                "resumed_from": resumed_from,
                "offset": second.offset,
                "size": size,
                "media_id": second.request.response_headers.get("siaran-media-id"),
            }
        )
    )


if __name__ == "__main__":
    main()
