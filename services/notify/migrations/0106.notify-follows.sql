-- depends: 0105.notify-wechat-states
-- Members follow course categories and sites: a course published in one is announced to them once
-- (announced_courses remembers which were), and staff can broadcast to a site's followers.
CREATE TABLE follows (
    member_id   uuid NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('category', 'site')),
    target      text NOT NULL CHECK (length(target) BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (member_id, kind, target)
);
CREATE INDEX follows_by_target ON follows (kind, target);

CREATE TABLE announced_courses (
    course_id     uuid PRIMARY KEY,
    announced_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE broadcasts ADD COLUMN site_id uuid;
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_audience_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_audience_check CHECK (audience IN ('course', 'unit', 'site', 'all'));
