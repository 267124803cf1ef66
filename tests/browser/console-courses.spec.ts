// Courses in the staff console: an admin signs in through the form, creates a course with a weekly
// timetable as a draft, publishes it, and finds it in the list.
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

function shanghaiDay(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
}

test("an admin creates a course as a draft, publishes it and finds it in the list", async ({ page }) => {
  await page.goto("/console/signin");
  await expect(page.getByRole("heading", { name: "工人文化宫工作台" })).toBeVisible();
  await screen(page, "console-signin");
  await consoleSignIn(page, seed.admin);

  await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
  const menu = page.getByRole("navigation", { name: "主菜单" });
  for (const entry of ["课程管理", "预约审批", "场地关闭", "帮扶案件"]) {
    await expect(menu.getByRole("link", { name: entry })).toBeVisible();
  }
  await screen(page, "console-home-admin");

  await menu.getByRole("link", { name: "课程管理" }).click();
  await expect(page.getByRole("heading", { name: "课程管理" })).toBeVisible();
  await screen(page, "console-courses");

  await page.getByRole("button", { name: "新建课程" }).click();
  await expect(page.getByRole("heading", { name: "新建课程" })).toBeVisible();
  const title = `陶艺入门 ${Date.now() % 100000}`;
  await page.getByLabel("课程名称").fill(title);
  await page.getByLabel("授课老师").fill("郑老师");
  await page.getByLabel("类别").fill("crafts");
  await page.locator("#capacity").fill("12");
  await page.getByText("周二", { exact: true }).click();
  await page.getByText("周四", { exact: true }).click();
  await expect(page.getByRole("checkbox", { name: "周二" })).toBeChecked();
  await page.locator("#starts_on").fill(shanghaiDay(7));
  await page.locator("#starts_on").press("Enter");
  await page.locator("#ends_on").fill(shanghaiDay(40));
  await page.locator("#ends_on").press("Enter");
  await page.getByLabel("课程名称").click(); // close any picker left open
  await screen(page, "console-course-new");
  await page.getByRole("button", { name: "存为草稿" }).click();

  await expect(page.getByRole("heading", { name: title })).toBeVisible();
  await expect(page.getByText("草稿", { exact: true })).toBeVisible();
  await expect(page.getByRole("tab", { name: /课时（([1-9]\d*)）/ })).toBeVisible();
  await screen(page, "console-course-draft");
  await page.getByRole("button", { name: "发布", exact: true }).click();
  await expect(page.getByText("已发布", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "发布", exact: true })).toHaveCount(0);
  // the toast's fade-out (after 3 s) half-way through axe's check reads as faint text: checked once it has gone
  await expect(page.locator(".el-message")).toHaveCount(0, { timeout: 10_000 });
  await screen(page, "console-course-published");

  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "课程管理" }).click();
  await page.getByRole("textbox", { name: "搜索课程名称" }).fill(title);
  await page.getByRole("button", { name: "查询" }).click();
  const row = page.getByRole("row").filter({ hasText: title });
  await expect(row).toHaveCount(1);
  await expect(row.getByText("已发布")).toBeVisible();

  // an edit names the version it read; the new capacity is the course's
  await row.getByRole("link", { name: title }).click();
  await page.getByRole("button", { name: "编辑" }).click();
  await expect(page.getByRole("heading", { name: "编辑课程" })).toBeVisible();
  await page.locator("#capacity").fill("15");
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.getByText("已保存。")).toBeVisible();
  await expect(page.getByText("剩 15 / 共 15")).toBeVisible();
});

test("an admin draws a lottery and reads its reproducible result", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "课程管理" }).click();
  await page.getByRole("textbox", { name: "搜索课程名称" }).fill(seed.lottery.title);
  await page.getByRole("button", { name: "查询" }).click();
  await page.getByRole("link", { name: seed.lottery.title }).click();
  await expect(page.getByRole("heading", { name: seed.lottery.title })).toBeVisible();
  await page.getByRole("tab", { name: "抽签结果" }).click();
  await expect(page.getByText(/还没有抽签/)).toBeVisible();

  await page.getByRole("button", { name: "现在抽签" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "现在抽签" }).click();
  await expect(page.getByText("已抽签。")).toBeVisible();
  await expect(page.getByText("按种子重抽结果一致")).toBeVisible();
  await expect(page.getByRole("button", { name: "现在抽签" })).toHaveCount(0);
  const drawn = page.getByRole("tabpanel").getByRole("row");
  await expect(drawn.filter({ hasText: "已确认" })).toHaveCount(2);
  await expect(drawn.filter({ hasText: "候补" })).toHaveCount(1);
  await screen(page, "console-lottery");
});
