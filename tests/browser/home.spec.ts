// Journey 2: home. This week's class sessions, room bookings and counselling appointments from
// GET /v1/me/timetable, under a heading for each day (11月25日 周三), and the unread count.
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
  // each on its own day: under that day's heading, with the room and site where known
  const onDay = (label: string) => page.locator(".van-cell-group__title", { hasText: label })
    .locator("xpath=following-sibling::div[contains(@class, 'van-cell-group')][1]");
  if (seed.this_week.checkin) {
    await expect(onDay(seed.days.checkin).locator(".van-cell", { hasText: seed.courses.checkin.title })).toBeVisible();
  }
  if (seed.this_week.booking) {
    const booking = onDay(seed.days.booking).locator(".van-cell", { hasText: "合唱团加练" });
    await expect(booking).toContainText(`${seed.site.name} ${seed.room}`);
    await expect(booking).toContainText("场地");
  }
  await expect(page.getByText(/您有 \d+ 条未读消息/)).toBeVisible();
  await expect(page.locator(".van-tabbar .van-badge")).toHaveText(/\d+/);
  await screen(page, "40-home");
});
