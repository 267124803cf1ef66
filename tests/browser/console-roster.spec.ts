// A course's roster in the staff console: names, phones, status, waitlist position and attendance;
// exported as the API's Excel file and printed. A teacher sees only the courses they teach.
import { readFileSync } from "node:fs";
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

test("an admin reads a full course's roster by name and downloads it as Excel", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "课程管理" }).click();
  await page.getByRole("textbox", { name: "搜索课程名称" }).fill(seed.full.title);
  await page.getByRole("button", { name: "查询" }).click();
  await page.getByRole("link", { name: seed.full.title }).click();
  await expect(page.getByRole("heading", { name: seed.full.title })).toBeVisible();
  await page.getByRole("tab", { name: "名单与候补" }).click();

  const rows = page.getByRole("tabpanel").getByRole("row");
  await expect(rows.filter({ hasText: "冯一" })).toContainText("已确认");
  await expect(rows.filter({ hasText: "冯一" })).toContainText(/1[3-9]\d{9}/);
  await expect(rows.filter({ hasText: "冯一" })).toContainText("0 / 0 次");
  await expect(rows.filter({ hasText: "陈二" })).toContainText("候补");
  await screen(page, "console-roster");

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "导出 Excel" }).click()]);
  expect(download.suggestedFilename()).toBe(`${seed.full.title} 名单.xlsx`);
  const saved = readFileSync(await download.path());
  expect(saved.subarray(0, 2).toString()).toBe("PK"); // an .xlsx is a zip
  expect(saved.length).toBeGreaterThan(1000);

  // print: the browser's print of the page, its menu and buttons left off
  await page.evaluate(() => { (window as unknown as { printed: number }).printed = 0; window.print = () => { (window as unknown as { printed: number }).printed++; }; });
  await page.getByRole("button", { name: "打印" }).click();
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("navigation", { name: "主菜单" })).toBeHidden();
  await expect(page.getByRole("button", { name: "导出 Excel" })).toBeHidden();
  await expect(page.getByText("冯一")).toBeVisible();
  await page.emulateMedia({ media: "screen" });
});

test("a teacher's course list is the courses they teach", async ({ page }) => {
  await consoleSignIn(page, seed.teacher);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "课程管理" }).click();
  await expect(page.getByRole("heading", { name: "我教的课程" })).toBeVisible();
  await expect(page.getByRole("link", { name: seed.taught.title })).toBeVisible();
  await expect(page.getByRole("link", { name: seed.full.title })).toHaveCount(0);
  await screen(page, "console-teaching");
  await page.getByRole("link", { name: seed.taught.title }).click();
  await expect(page.getByRole("heading", { name: seed.taught.title })).toBeVisible();
  await expect(page.getByRole("cell", { name: "郑老师" })).toBeVisible();
});

test("an admin's course form picks the teacher accounts who run the course", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
  await page.goto(`/console/courses/${seed.taught.id}/edit`);
  await expect(page.getByRole("heading", { name: "编辑课程" })).toBeVisible();
  await expect(page.locator(".el-select__tags-text", { hasText: `郑老师（${seed.teacher.phone}）` })).toBeVisible(); // the chosen chip
  await screen(page, "console-course-teachers");
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.getByText("已保存。")).toBeVisible();
  await expect(page.getByRole("cell", { name: "郑老师" })).toBeVisible();
});

test("a finished course's roster says who earned a certificate, and issues one to print", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
  await page.goto(`/console/courses/${seed.finished.id}`);
  await expect(page.getByRole("heading", { name: seed.finished.title })).toBeVisible();
  await page.getByRole("tab", { name: "名单与候补" }).click();
  const rows = page.getByRole("tabpanel").getByRole("row");
  await expect(rows.filter({ hasText: "韩二" })).toContainText("出勤未达要求");
  await expect(rows.filter({ hasText: "韩二" }).getByRole("button")).toHaveCount(0);
  const issue = page.getByRole("button", { name: "为宋一开具结业证书" });
  await expect(issue).toBeVisible();
  await screen(page, "console-certificates");

  const [tab] = await Promise.all([page.waitForEvent("popup"), issue.click()]);
  await expect(tab.getByRole("heading", { name: /结业证书/ })).toBeVisible();
  await expect(tab.getByText(seed.finished.title)).toBeVisible();
  await expect(tab.getByText(/attending 1 of 1 sessions/)).toBeVisible();
  await expect(tab.locator("code")).toHaveText(/^[A-Za-z0-9]+$/); // the verification code
});
