"""Migrations that change data, run on a database made at the revision before them."""
import sqlite3

from baojing.migrate import upgrade


def test_nested_merges_are_flattened_to_the_last_survivor(tmp_path):
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0009")
    with sqlite3.connect(path) as db:
        # 3 was merged into 2, then 2 into 1; 5 into 4 (one level already); 6 is on its own.
        for i, into in [(1, None), (2, 1), (3, 2), (4, None), (5, 4), (6, None)]:
            db.execute("INSERT INTO incidents (id, status, priority, received_at, updated_at, merged_into) "
                       "VALUES (?, ?, 3, '2026-01-01 00:00:00', '2026-01-01 00:00:00', ?)",
                       (i, "merged" if into else "closed", into))
    upgrade(url)
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT id, merged_into FROM incidents"))
    assert rows == {1: None, 2: 1, 3: 1, 4: None, 5: 4, 6: None}
