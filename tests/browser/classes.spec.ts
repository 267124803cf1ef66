// Journey 5: my classes. A seat offered from the waitlist with its countdown, taken up; leaving a
// waitlist; giving up a seat; checking in with the code at the door; the certificate not yet earned.
// (Attendance so far waits for the richer GET /v1/me/enrolments.)
import { expect, screen, seed, signedIn, test } from "./fixtures";

test.beforeEach(async ({ context }) => signedIn(context, seed.member));

const entry = (page: import("@playwright/test").Page, title: string) =>
  page.locator(".van-cell-group").filter({ hasText: title });

test("an offered seat counts down and is taken up; a waitlist is left; a seat given up", async ({ page }) => {
  await page.goto("/classes");
  const offer = entry(page, seed.courses.offer.title);
  await expect(offer.getByText("名额保留中")).toBeVisible();
  await expect(offer.getByRole("timer")).toHaveText(/剩余 2[34]:\d\d:\d\d/);
  const waiting = entry(page, seed.courses.waiting.title);
  await expect(waiting.getByText("候补第 1 位")).toBeVisible();
  await screen(page, "30-my-classes");

  await offer.getByRole("button", { name: "确认上课" }).click();
  await expect(page.getByText("已确认，座位是您的了")).toBeVisible();
  await expect(entry(page, seed.courses.offer.title).getByText("已确认")).toBeVisible();

  await waiting.getByRole("button", { name: "退出候补" }).click();
  await expect(page.locator(".van-dialog")).toContainText("确定退出候补？");
  await screen(page, "31-leave-waitlist-dialog");
  await page.locator(".van-dialog").getByRole("button", { name: "确定" }).click();
  await expect(page.getByText("已退出候补")).toBeVisible();

  const mine = entry(page, seed.courses.mine.title);
  await mine.getByRole("button", { name: "退课" }).click();
  await page.locator(".van-dialog").getByRole("button", { name: "确定" }).click();
  await expect(page.getByText("已退课", { exact: true })).toBeVisible();
  await page.getByRole("button", { name: /显示已取消的 \d 门/ }).click();
  await expect(entry(page, seed.courses.mine.title).getByText("已取消")).toBeVisible();
  await expect(entry(page, seed.courses.waiting.title).getByText("已取消")).toBeVisible();
});

test("the member checks in with the code at the door; the certificate waits for the course to end", async ({ page }) => {
  await page.goto("/classes");
  const calligraphy = entry(page, seed.courses.checkin.title);
  await calligraphy.getByLabel("签到码").fill("000000" === seed.checkin.code ? "111111" : "000000");
  await calligraphy.getByRole("button", { name: "签到" }).click();
  await expect(page.getByText("签到码不正确，请看门口显示的签到码。")).toBeVisible();
  await calligraphy.getByLabel("签到码").fill(seed.checkin.code);
  await calligraphy.getByRole("button", { name: "签到" }).click();
  await expect(page.getByText("签到成功")).toBeVisible();
  await screen(page, "32-checked-in");
  await calligraphy.getByRole("button", { name: "结业证书" }).click();
  await expect(page.getByText("还不能领取结业证书：课程未结束或出勤未达到要求。")).toBeVisible();
});
