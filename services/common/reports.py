"""The shape every service gives its part of the yearly report (GET /v1/reports/summary): figures
over a period, each a total and, when the breakdown asked for applies to it, one value per group.
A breakdown that does not apply is said so with the reason, never guessed.

Each figure is one SQL query grouped by GROUPING SETS ((), (key)): the total and the groups in one
pass, so a distinct count (trainees, units) is distinct in the total as in each group."""
from datetime import datetime

from services.common.errors import Invalid
from services.common.zone import HOME_ZONE_NAME

BREAKDOWNS = ("month", "site", "district", "unit", "category", "programme")
MISSING = ""  # the group of rows that do not say (a course with no site): shown as "not given"


def checked(since, until, by):
    """The period as datetimes and the breakdown, or Invalid naming the field."""
    if by is not None and by not in BREAKDOWNS:
        raise Invalid("unknown breakdown", errors={"by": [f"must be one of {', '.join(BREAKDOWNS)}"]})
    try:
        start, end = datetime.fromisoformat(since), datetime.fromisoformat(until)
    except (TypeError, ValueError):
        raise Invalid("bad period", errors={"from": ["must be an ISO time"]}) from None
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise Invalid("bad period", errors={"to": ["must be an aware time after from"]})
    return start, end


class Month(str):
    """A month key: grouped by date_trunc (a tenth of to_char's cost a row), shown as YYYY-MM."""

    @property
    def shown(self):
        return f"to_char({self}, 'YYYY-MM')"


def month_of(column):
    """The calendar month of a timestamptz column, in the palace's zone."""
    return Month(f"date_trunc('month', ({column}) AT TIME ZONE '{HOME_ZONE_NAME}')")


def grouping(key):
    """The head of a figure query's SELECT and its GROUP BY: the total row (whole), and one row per
    group when a key is given. `key` is SQL of ours, never input."""
    if key is None:
        return "NULL::text AS grp, true AS whole", "GROUP BY ()"
    shown = getattr(key, "shown", f"({key})::text")
    return (f"coalesce({shown}, '{MISSING}') AS grp, GROUPING({key}) = 1 AS whole",
            f"GROUP BY GROUPING SETS ((), ({key}))")


def plain_plans(conn):
    """The report's queries are short scans: a JIT compile (0.1-1 s on this machine) costs more than
    it saves, as venues' open hours found (services/venues/store.py). A distinct count sorts its
    rows: a year's 100,000 attendance marks spilled 3.5 MB to disk at the default 4 MB work_mem."""
    conn.execute("SET LOCAL jit = off")
    conn.execute("SET LOCAL work_mem = '32MB'")


def collect(rows, names, keyed, convert=lambda name, value: value):
    """{figure: {"total", "groups"}} from the rows of one grouped query: `groups` is None when the
    query was not broken down (no `by`)."""
    out = {name: {"total": None, "groups": {} if keyed else None, "not_applicable": None} for name in names}
    for row in rows:
        for name in names:
            value = convert(name, row[name])
            if row["whole"]:
                out[name]["total"] = value
            else:
                out[name]["groups"][row["grp"]] = value
    return out


def not_applicable(figures, reason):
    """Mark figures whose records do not carry the breakdown: the total stays, no groups."""
    for figure in figures.values():
        figure["groups"], figure["not_applicable"] = None, reason
    return figures
