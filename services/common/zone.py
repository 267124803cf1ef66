"""The palace's home time zone: the clock its members live by. Times are stored as timestamptz;
this zone decides what "today", "this year", "Monday evening" and a reminder's wall-clock time mean.
SQL that needs it says AT TIME ZONE '{HOME_ZONE_NAME}' (a constant of this module, never input)."""
from zoneinfo import ZoneInfo

HOME_ZONE_NAME = "Asia/Shanghai"
HOME_ZONE = ZoneInfo(HOME_ZONE_NAME)
