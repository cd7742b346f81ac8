"""Random ids for rows and events, made many at a time: a batch needs thousands, and uuid4()
costs a system call and a UUID object each."""

from __future__ import annotations

import os
import secrets


def new_id() -> str:
    """A random (version 4) UUID as text, drawn from a pool filled `new_ids` at a time."""
    if not _pool:
        _pool.extend(new_ids(256))
    return _pool.pop()


_pool: list[str] = []
os.register_at_fork(after_in_child=_pool.clear)  # a worker process must never reuse its parent's ids


def new_ids(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as text, from one read of the system's randomness: a batch
    needs thousands, and uuid4() costs a system call and a UUID object each."""
    raw = bytearray(secrets.token_bytes(16 * count))
    raw[6::16] = bytes(0x40 | (byte & 0x0F) for byte in raw[6::16])  # version 4
    raw[8::16] = bytes(0x80 | (byte & 0x3F) for byte in raw[8::16])  # the RFC 4122 variant
    text = raw.hex()
    return [
        f"{text[i : i + 8]}-{text[i + 8 : i + 12]}-{text[i + 12 : i + 16]}-"
        f"{text[i + 16 : i + 20]}-{text[i + 20 : i + 32]}"
        for i in range(0, 32 * count, 32)
    ]
