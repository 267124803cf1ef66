// Journey 4: enrolling at a launch. One Idempotency-Key per tap, kept through a retry after a 503 that
// waits as Retry-After says, the button busy meanwhile; the answer said plainly.
import { expect, screen, seed, signedIn, test } from "./fixtures";

test.beforeEach(async ({ context }) => signedIn(context, seed.enroller));

test("a seat, a place in line and a lottery entry are each said plainly", async ({ page }) => {
  await page.goto(`/courses/${seed.courses.tea.id}`);
  await page.getByRole("button", { name: "报名" }).click();
  await expect(page.getByRole("status").filter({ hasText: "报名成功，座位已确认" })).toBeVisible();
  await expect(async () => {  // the catalogue's counts follow the enrolment events within moments
    await page.reload();
    await expect(page.getByText("余 29 / 共 30")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 10_000 });
  await screen(page, "20-enrolled");

  await page.goto(`/courses/${seed.courses.full.id}`);
  await page.getByRole("button", { name: "报名" }).click();
  await expect(page.getByText("已满员，您在候补第 2 位")).toBeVisible();
  await screen(page, "21-waitlisted", { axe: false });

  await page.goto(`/courses/${seed.courses.lottery.id}`);
  await page.getByRole("button", { name: "登记抽签" }).click();
  await expect(page.getByText(/已登记抽签，\d+月\d+日 周[一二三四五六日] 20:00 开奖/)).toBeVisible();
  await screen(page, "22-lottery-entered", { axe: false });
});

test("after a 503 the tap is sent again with the same key once Retry-After has passed, the button busy", async ({ page }) => {
  const keys: string[] = [];
  let refused = false;
  await page.route("**/v1/courses/*/enrolments", async (route) => {
    keys.push((await route.request().headerValue("Idempotency-Key")) ?? "");
    if (!refused) {
      refused = true; // the gateway's answer while a service restarts
      await route.fulfill({ status: 503, headers: { "Retry-After": "1", "Content-Type": "application/problem+json" },
        body: JSON.stringify({ type: "/problems/service-unavailable", status: 503, detail: "enrolment did not answer" }) });
      return;
    }
    await route.continue();
  });
  await page.goto(`/courses/${seed.courses.retry.id}`);
  await page.getByRole("button", { name: "报名" }).click();
  await expect(page.getByRole("button", { name: "正在报名…" })).toBeVisible();
  await expect(page.getByText("报名成功，座位已确认")).toBeVisible();
  expect(keys).toHaveLength(2);
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
  expect(keys[1]).toBe(keys[0]);
});

test("a refusal gives its reason in Chinese; a closed course says so before any tap", async ({ page }) => {
  await page.goto(`/courses/${seed.courses.eligible.id}`);
  await page.getByRole("button", { name: "报名" }).click();
  await expect(page.getByRole("alert")).toHaveText(/报名未成功：您不符合这门课程的报名条件/);
  await screen(page, "23-refused");
  await page.goto(`/courses/${seed.courses.closed.id}`);
  await expect(page.getByRole("button", { name: "报名" })).toBeDisabled();
  await expect(page.getByText("报名已截止")).toBeVisible();
});
