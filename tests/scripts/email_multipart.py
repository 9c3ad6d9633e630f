#!/usr/bin/env python3
"""Parses a multipart/form-data body with Python's own email package, a parser written
apart from the crate's encoder, and prints its parts as JSON, for tests/it/forms.rs.

    python3 tests/scripts/email_multipart.py BODY_FILE "multipart/form-data; boundary=..."

Prints a list of {"name", "filename", "content_type", "data"} (data in base64;
content_type null when the part has none), and exits 1 if the parser found any defect
in the body or the body is not multipart.
"""

import base64
import email.parser
import email.policy
import json
import sys


def main():
    body_file, content_type = sys.argv[1], sys.argv[2]
    with open(body_file, "rb") as f:
        body = f.read()
    head = b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n"
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(head + body)
    if not message.is_multipart():
        sys.exit("not multipart")
    parts = []
    for part in message.iter_parts():
        if part.defects:
            sys.exit(f"defects in a part: {part.defects}")
        content_type = part.get("content-type")
        parts.append(
            {
                "name": part.get_param("name", header="content-disposition"),
                "filename": part.get_filename(),
                "content_type": None if content_type is None else str(content_type),
                "data": base64.b64encode(part.get_payload(decode=True)).decode("ascii"),
            }
        )
    if message.defects:
        sys.exit(f"defects in the body: {message.defects}")
    json.dump(parts, sys.stdout)


main()
