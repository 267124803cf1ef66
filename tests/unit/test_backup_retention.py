"""The backup profile keeps the newest backups of a folder and deletes the older ones; a folder
without a manifest is not a backup and is left alone."""
from ops import backup


def test_only_the_newest_backups_are_kept(tmp_path):
    for day in ("20270301", "20270302", "20270303", "20270304"):
        folder = tmp_path / f"palace-{day}T020000Z"
        folder.mkdir()
        (folder / "manifest.json").write_text("{}")
    (tmp_path / "notes").mkdir()
    kept = backup.prune(tmp_path, 2)
    assert kept == ["palace-20270303T020000Z", "palace-20270304T020000Z"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", *kept]


def test_the_code_head_is_the_newest_numbered_migration():
    assert backup.code_head("welfare").startswith("01")
    assert backup.code_head("gateway") == max(backup.code_head("gateway"), "0004.gateway-idempotency-retries")
