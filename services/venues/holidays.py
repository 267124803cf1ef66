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


def parse(document) -> tuple[int, str, list[Day]]:
    """(year, source, days) of one year's file; refuses anything ambiguous."""
    try:
        year, source = int(document["year"]), str(document.get("source", ""))
        days = {}
        for entry in document.get("holidays", []):
            start, end = date.fromisoformat(entry["from"]), date.fromisoformat(entry.get("to", entry["from"]))
            if end < start:
                raise CalendarFileError(f"holiday {entry['name']}: 'to' before 'from'")
            d = start
            while d <= end:
                if d in days:
                    raise CalendarFileError(f"{d} is named twice")
                days[d] = Day(d, "holiday", entry["name"])
                d += timedelta(days=1)
        for entry in document.get("workdays", []):
            d, weekday = date.fromisoformat(entry["date"]), int(entry["as_weekday"])
            if d in days:
                raise CalendarFileError(f"{d} is named twice")
            if not 1 <= weekday <= 7:
                raise CalendarFileError(f"{d}: as_weekday must be 1 (Monday) to 7 (Sunday)")
            days[d] = Day(d, "workday", entry["name"], weekday)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, CalendarFileError):
            raise
        raise CalendarFileError(f"malformed calendar file: {exc!r}") from exc
    if any(d.year != year for d in days):
        raise CalendarFileError(f"a day outside {year}")
    return year, source, sorted(days.values(), key=lambda x: x.day)


def read(path) -> tuple[int, str, list[Day]]:
    return parse(json.loads(Path(path).read_text(encoding="utf-8")))


def shipped():
    """Every year file shipped with the service."""
    return [read(p) for p in sorted(DIRECTORY.glob("*.json"))]


def main(argv):
    if len(argv) < 2 or argv[0] != "load":
        print("usage: python -m services.venues.holidays load FILE [--replace]", file=sys.stderr)
        return 2
    from services.common import config
    from services.common.db import Db
    from services.venues import store

    year, source, days = read(argv[1])
    db = Db(config.db_url("venues"), max_size=2)
    db.open()
    try:
        with db.transaction() as conn:
            loaded = store.load_calendar_year(conn, year, source, days, replace="--replace" in argv)
    finally:
        db.close()
    print(json.dumps({"year": year, "days": len(days), "loaded": loaded}))
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
