"""JSON Lines written as numbered parts: the quarantine of rejected rows and duplicates.

WHY: quarantined rows must never be lost and never held all in memory; they are
buffered up to a part size, then put as `<stem>-NNNNN.jsonl`. Part boundaries only
depend on the records, so a rerun writes the same keys with the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

from include.ingest.keys import part_key
from include.ingest.store import ObjectSink

PART_BYTES = 8 * 1024 * 1024
CONTENT_TYPE = "application/x-ndjson; charset=utf-8"


class JsonLinesParts:
    def __init__(self, sink: ObjectSink, prefix: str, stem: str, part_bytes: int = PART_BYTES):
        self.sink = sink
        self.prefix = prefix
        self.stem = stem
        self.part_bytes = part_bytes
        self.keys: list[str] = []
        self._lines: list[bytes] = []
        self._size = 0

    def add(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.part_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        key = part_key(self.prefix, self.stem, len(self.keys) + 1, "jsonl")
        self.sink.put(key, b"".join(self._lines), CONTENT_TYPE)
        self.keys.append(key)
        self._lines.clear()
        self._size = 0
