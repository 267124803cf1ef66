"""The venues migrations carry existing data: the club names typed into bookings become clubs."""

import psycopg
from yoyo import get_backend, read_migrations

from ops.migrate import migration_dirs


def migrate(url, before=None, part="venues"):
    backend = get_backend(url.replace("postgresql://", "postgresql+psycopg://", 1))
    migrations = read_migrations(*map(str, migration_dirs(part)))
    with backend.lock():
        backend.apply_migrations(backend.to_apply(
            migrations.filter(lambda m: before is None or m.id < before)))


def test_typed_club_names_become_clubs_led_by_their_first_booker(scratch):
    migrate(scratch, before="0104")
    first, second = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    with psycopg.connect(scratch, autocommit=True) as conn:
        site = conn.execute("INSERT INTO sites (name, kind) VALUES ('Palace', 'palace') RETURNING id").fetchone()[0]
        room = conn.execute("INSERT INTO rooms (site_id, name, capacity) VALUES (%s, 'Hall', 200) RETURNING id",
                            (site,)).fetchone()[0]
        for day, member, club in [(1, first, "Workers' Choir"), (2, second, "workers' choir"),
                                  (3, second, "Dance troupe"), (4, first, None)]:
            conn.execute(
                "INSERT INTO bookings (room_id, site_id, title, status, starts_at, ends_at, blocked, holder_service,"
                " holder_reference, member_id, club, created_at) VALUES (%(room)s, %(site)s, 'Rehearsal', 'confirmed',"
                " %(s)s, %(e)s, tstzrange(%(s)s, %(e)s), 'members', %(m)s::text, %(m)s::uuid, %(club)s, %(s)s)",
                {"room": room, "site": site, "m": member, "club": club,
                 "s": f"2030-03-0{day} 19:00+08", "e": f"2030-03-0{day} 21:00+08"})
    migrate(scratch)
    with psycopg.connect(scratch) as conn:
        clubs = {name: str(leader) for name, leader in conn.execute("SELECT name, leader_id FROM clubs")}
        assert clubs == {"Workers' Choir": first, "Dance troupe": second}
        rows = conn.execute("SELECT extract(day FROM b.starts_at AT TIME ZONE 'Asia/Shanghai')::int, c.name"
                            " FROM bookings b LEFT JOIN clubs c ON c.id = b.club_id ORDER BY 1").fetchall()
        assert rows == [(1, "Workers' Choir"), (2, "Workers' Choir"), (3, "Dance troupe"), (4, None)]
