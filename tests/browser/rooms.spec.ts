// Journey 7: rooms. Find a free room, book it every week for the club the member leads, see the
// bookings, check in to the one about to start, cancel one.
import { expect, screen, seed, signedIn, test } from "./fixtures";

test.beforeEach(async ({ context }) => signedIn(context, seed.member));

test("a club leader finds a free room, books it weekly, checks in and cancels one", async ({ page }) => {
  await page.goto("/rooms");
  await expect(page.getByLabel("开始")).toHaveValue("19:00");
  await page.getByRole("checkbox", { name: "钢琴" }).click();
  await page.getByRole("button", { name: "查找空闲场地" }).click();
  const hall = page.getByText(`${seed.site.name} · ${seed.room}`);
  await expect(hall).toBeVisible();
  await expect(page.getByText("301 教室")).toBeHidden();
  await screen(page, "60-free-rooms");

  await hall.click();
  await expect(page.getByLabel("用途")).toHaveValue(`${seed.club}排练`);
  await page.getByRole("switch", { name: "每周重复" }).click();
  await screen(page, "61-book-room");
  await page.getByRole("button", { name: "确认预约" }).click();
  await expect(page.getByText("预约成功。")).toBeVisible();
  await expect(page.getByText("共预约 4 次。")).toBeVisible();
  await page.getByRole("button", { name: "我的预约" }).click();

  await expect(page.getByRole("heading", { name: "我的预约" })).toBeVisible();
  const rehearsals = page.locator(".van-cell-group").filter({ hasText: `${seed.club}排练` });
  await expect(rehearsals).toHaveCount(4);
  const now = page.locator(".van-cell-group").filter({ hasText: "合唱团加练" });
  await now.getByRole("button", { name: "签到" }).click();
  await expect(page.getByText("签到成功")).toBeVisible();
  await expect(now.getByText("已签到")).toBeVisible();
  await screen(page, "62-my-bookings");

  await rehearsals.first().getByRole("button", { name: "取消这一次" }).click();
  await page.locator(".van-dialog").getByRole("button", { name: "确定" }).click();
  await expect(page.getByText("已取消", { exact: true }).first()).toBeVisible();
  await expect(page.locator(".van-cell-group").filter({ hasText: `${seed.club}排练` }).filter({ hasText: "已确认" })).toHaveCount(3);
});
