-- depends: 0107.notify-closed-members
-- A preferences row keeps only what the member chose (services/notify/domain.py, chosen). Until
-- now every save wrote the whole merged form, defaults included, so a row cannot say whether its
-- language was chosen or was the default of the day it was saved. Two cases are told apart:
--
-- * Chinese in a row is the default today: dropping it changes nothing a member gets.
-- * English in a row saved whole (timezone, daily cap, quiet hours and categories all present) while
--   English was the default: the default of that day, not a choice, and the member hears Chinese as
--   every member who chose nothing does. "While English was the default" is before this database
--   took 0103.notify-broadcasts, the first migration that shipped after Chinese became the default
--   (yoyo's own record of when it was applied). A row English because the browser asked for it at
--   registration holds the language alone and stays, and so does English saved since 0103.
--   Known limit: English chosen on a version between the switch and 0103 (hours on main) reads as
--   the old default; the member chooses it again in 我的 → 通知设置.
UPDATE preferences SET settings = settings - 'language', updated_at = now()
WHERE settings ->> 'language' = 'zh-CN';

UPDATE preferences SET settings = settings - 'language', updated_at = now()
WHERE settings ->> 'language' = 'en'
  AND settings ?& ARRAY['timezone', 'daily_cap', 'quiet_hours', 'categories']
  AND updated_at < (SELECT min(applied_at_utc) AT TIME ZONE 'UTC' FROM _yoyo_migration
                    WHERE migration_id = '0103.notify-broadcasts');
