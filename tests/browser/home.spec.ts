// Journey 2: home. This week's class sessions, room bookings and counselling appointments, and the
// unread count. (Today put together from enrolments, bookings and cases; GET /v1/me/timetable, with
// 调休 make-up days honoured, replaces that when it exists.)
import { expect, screen, seed, signedIn, test } from "./fixtures";

test("the week's classes, bookings and counselling, and the unread messages", async ({ page }) => {
  await signedIn(page.context(), seed.member);
  await page.goto("/");
  await expect(page.getByRole("heading", { name: /本周安排（\d+月\d+日 周一 至 \d+月\d+日 周日）/ })).toBeVisible();
  await expect(page.locator(".van-loading")).toHaveCount(0);  // the week is on screen
  const week = page.locator(".van-cell-group");
  const shown = async (entry: import("@playwright/test").Locator, thisWeek: boolean) =>
    thisWeek ? expect(entry).toBeVisible() : expect(entry).toHaveCount(0);
  await shown(week.filter({ hasText: seed.courses.checkin.title }).getByText("课程", { exact: true }), seed.this_week.checkin);
  await shown(week.filter({ hasText: "合唱团加练" }).getByText(seed.room), seed.this_week.booking);
  await shown(week.filter({ hasText: "心理咨询" }).getByText("咨询", { exact: true }), seed.this_week.counselling);
  await expect(page.getByText(/您有 \d+ 条未读消息/)).toBeVisible();
  await expect(page.locator(".van-tabbar .van-badge")).toHaveText(/\d+/);
  await screen(page, "40-home");
});
