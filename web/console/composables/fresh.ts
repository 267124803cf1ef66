// The course as this console last changed it. A course is read from the gateway's read model, which
// follows a change a moment later: a page opened right after a save shows the saved version, not the
// one before it (the newer version wins).
import type { Schemas } from "@shared/api/client";

type Course = Schemas["Course"];
const changed = new Map<string, Course>();

export function remember(course: Course): Course {
  if (course.id) changed.set(course.id, course);
  return course;
}

export function newest(read: Course): Course {
  const mine = read.id ? changed.get(read.id) : undefined;
  return mine && (mine.version ?? 0) > (read.version ?? 0) ? mine : read;
}
