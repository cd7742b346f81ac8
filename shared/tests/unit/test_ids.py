"""Ids made many at a time are version-4 UUIDs, never repeated, and not shared with a forked child."""

from __future__ import annotations

import os
import uuid

from linli_shared import ids


def test_ids_are_version_4_uuids_and_unique() -> None:
    made = ids.new_ids(1000) + [ids.new_id() for _ in range(1000)]
    assert len(set(made)) == 2000
    for text in made[:50] + made[-50:]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text


def test_a_forked_child_does_not_draw_its_parents_pooled_ids() -> None:
    ids.new_id()  # the pool is filled
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports the id it draws and leaves at once
        os.write(write, ids.new_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    drawn_in_child = os.read(read, 64).decode()
    os.close(read)
    assert drawn_in_child not in ids._pool and drawn_in_child != ids.new_id()
