"""The holiday calendar: one JSON file per year under services/venues/calendar/ with the public
holidays (ranges) and the make-up working days (调休, each keeping one weekday's timetable).

The service loads each shipped year once, when it starts and the year is not in its database yet;
after that the year is edited in the database (RPC `set_calendar_day`). To load a corrected file:
    python -m services.venues.holidays load services/venues/calendar/2027.json --replace
"""
import json
import sys
from datetime import date, timedelta
from pathlib import Path

from nameko.extensions import DependencyProvider

from services.venues.domain import Day

DIRECTORY = Path(__file__).resolve().parent / "calendar"


class CalendarFileError(ValueError):
    pass


def _field(entry, where, key, convert, default=None):
    """One field of an entry, or an error that names it (`holidays[2].from`) and says what it needs."""
    try:
        value = entry[key] if default is None or key in entry else default
        return convert(value)
    except KeyError:
        raise CalendarFileError(f"{where}.{key}: missing") from None
    except (TypeError, ValueError):
        raise CalendarFileError(f"{where}.{key}: {entry.get(key)!r} is not {_NEEDS[convert]}") from None


_NEEDS = {date.fromisoformat: "a date (YYYY-MM-DD)", int: "a whole number", str: "text"}


def parse(document) -> tuple[int, str, list[Day]]:
    """(year, source, days) of one year's file; refuses anything ambiguous, naming the field."""
    if not isinstance(document, dict):
        raise CalendarFileError("the file must hold one JSON object with year, holidays and workdays")
    year, source = _field(document, "file", "year", int), str(document.get("source", ""))
    days = {}
    for i, entry in enumerate(_entries(document, "holidays")):
        where = f"holidays[{i}]"
        name = _field(entry, where, "name", str)
        start = _field(entry, where, "from", date.fromisoformat)
        end = _field(entry, where, "to", date.fromisoformat, default=entry.get("from"))
        if end < start:
            raise CalendarFileError(f"{where}.to: holiday {name}: 'to' before 'from'")
        d = start
        while d <= end:
            if d in days:
                raise CalendarFileError(f"{where}: {d} is named twice")
            days[d] = Day(d, "holiday", name)
            d += timedelta(days=1)
    for i, entry in enumerate(_entries(document, "workdays")):
        where = f"workdays[{i}]"
        name = _field(entry, where, "name", str)
        d, weekday = _field(entry, where, "date", date.fromisoformat), _field(entry, where, "as_weekday", int)
        if d in days:
            raise CalendarFileError(f"{where}.date: {d} is named twice")
        if not 1 <= weekday <= 7:
            raise CalendarFileError(f"{where}.as_weekday: must be 1 (Monday) to 7 (Sunday), not {weekday}")
        days[d] = Day(d, "workday", name, weekday)
    outside = sorted(d for d in days if d.year != year)
    if outside:
        raise CalendarFileError(f"year: {outside[0]} is outside {year}")
    return year, source, sorted(days.values(), key=lambda x: x.day)


def _entries(document, key):
    entries = document.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CalendarFileError(f"{key}: must be a list of objects")
    return entries


def read(path) -> tuple[int, str, list[Day]]:
    """One year's file; a broken one is refused with its line and column, or the field at fault."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CalendarFileError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(f"{path}: {exc}") from None
    try:
        return parse(document)
    except CalendarFileError as exc:
        raise CalendarFileError(f"{path}: {exc}") from None


def shipped():
    """Every year file shipped with the service."""
    return [read(p) for p in sorted(DIRECTORY.glob("*.json"))]


def load(files, replace=False, progress=None):
    """Load year files into the venues database, each year in its own transaction, after every
    file has been checked (a broken one stops the import before anything is written).
    Returns [{"year", "days", "loaded"}]; a year loaded before is left alone unless `replace`."""
    from services.common import config
    from services.common.db import Db
    from services.venues import store

    years = [read(f) for f in files]
    seen = [year for year, _, _ in years]
    if len(set(seen)) < len(seen):
        raise CalendarFileError(f"two files for the same year: {sorted(seen)}")
    db = Db(config.db_url("venues"), max_size=2)
    db.open()
    done = []
    try:
        for year, source, days in years:
            with db.transaction() as conn:
                loaded = store.load_calendar_year(conn, year, source, days, replace=replace)
            done.append({"year": year, "days": len(days), "loaded": loaded})
            if progress:
                progress()
    finally:
        db.close()
    return done


def main(argv):
    if len(argv) < 2 or argv[0] != "load":
        print("usage: python -m services.venues.holidays load FILE [--replace]", file=sys.stderr)
        return 2
    try:
        [result] = load([argv[1]], replace="--replace" in argv)
    except CalendarFileError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


class ShippedCalendar(DependencyProvider):
    """Loads each shipped year file once, when the service starts and the year is not loaded yet."""

    def start(self):
        from services.common import config
        from services.common.db import Db
        from services.venues import store

        db = Db(config.db_url(self.container.service_name), max_size=2, name="venues-calendar")
        db.open()
        try:
            for year, source, days in shipped():
                with db.transaction() as conn:
                    store.load_calendar_year(conn, year, source, days)
        finally:
            db.close()

    def get_dependency(self, worker_ctx):
        return None
