// Mutual aid and the fund's ledger in the staff console: a unit administrator uploads a GB18030 roster
// and sees exactly its bad row, by line number and reason; two officers approve a 10,000-yuan claim (above
// the threshold) and a third, who signed nothing, pays it, and the mutual-aid fund's ledger shows the
// payout; an officer editing a programme's rules over a stale version is told someone else changed them.
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";
import type { Page } from "@playwright/test";
import type { Member } from "./fixtures";

async function switchTo(page: Page, who: Member) {
  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page.getByRole("button", { name: "登录", exact: true })).toBeVisible();
  await consoleSignIn(page, who);
  await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
}

test("a unit administrator imports a GB18030 roster and sees its bad row by line", async ({ page }) => {
  await consoleSignIn(page, seed.unit_admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "互助保障" }).click();
  await expect(page.getByRole("heading", { name: "互助保障计划" })).toBeVisible();
  await screen(page, "console-plans");
  await page.getByRole("link", { name: seed.plan.name }).click();
  await expect(page.getByRole("heading", { name: seed.plan.name })).toBeVisible();
  await expect(page.getByRole("tab", { name: "缴费" })).toHaveCount(0); // contributions are the officers'
  await screen(page, "console-plan");

  await page.getByRole("tab", { name: "导入名单" }).click();
  await expect(page.getByRole("combobox", { name: "单位" })).toHaveCount(0); // their own unit, always
  await page.getByLabel("名单文件").setInputFiles(seed.roster_file);
  await page.getByRole("button", { name: "上传并导入" }).click();
  const result = page.getByRole("status").filter({ hasText: "导入结果" });
  await expect(result).toContainText("已完成", { timeout: 30_000 });
  await expect(result).toContainText("导入 2 人，有问题 1 行");
  const bad = result.getByRole("row");
  await expect(bad).toHaveCount(2); // the header and line 3
  await expect(bad.nth(1)).toContainText("3");
  await expect(bad.nth(1)).toContainText("national_id");
  await screen(page, "console-plan-import");

  await page.getByRole("tab", { name: "参保名单" }).click();
  const roster = page.getByRole("tabpanel", { name: "参保名单" });
  await expect(roster.getByRole("cell", { name: "环卫工张三" })).toBeVisible();
  await expect(roster.getByRole("cell", { name: "环卫工王五" })).toBeVisible();
  await expect(roster.getByRole("cell", { name: "环卫工李四" })).toHaveCount(0);
  await expect(roster.getByRole("cell", { name: "矿工甲" })).toHaveCount(0); // another unit's worker
});

test("two officers approve a 10,000-yuan claim, a third pays it, and the ledger shows it", async ({ page }) => {
  test.setTimeout(120_000); // three officers sign in in turn
  const short = seed.claim.id.slice(0, 8);
  await consoleSignIn(page, seed.officer);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "互助理赔" }).click();
  await expect(page.getByRole("heading", { name: "互助理赔" })).toBeVisible();
  await screen(page, "console-claims");
  await page.getByRole("link", { name: `打开理赔 ${short}` }).click();
  await expect(page.getByRole("heading", { name: `意外伤害理赔 ${short}` })).toBeVisible();
  await screen(page, "console-claim");
  await expect(page.getByRole("radio", { name: "批准", exact: true })).toBeChecked();
  await page.getByRole("button", { name: "提交决定" }).click();
  await expect(page.getByText("决定已记录。")).toBeVisible();
  await expect(page.getByText("审核中", { exact: true }).first()).toBeVisible();
  await expect(page.getByText("1 / 2 位专员")).toBeVisible();
  await expect(page.getByText("需要两位不同的专员签批（已签 1 / 2）")).toBeVisible();

  await switchTo(page, seed.second_officer);
  await page.goto(`/console/welfare/claims/${seed.claim.id}`);
  await page.getByLabel("说明").fill("伤残鉴定书已核对");
  await page.getByRole("button", { name: "提交决定" }).click();
  await expect(page.getByText("决定已记录。")).toBeVisible();
  await expect(page.getByText("已批准", { exact: true }).first()).toBeVisible();
  // the approver does not pay: the API refuses, and the screen says why
  await page.getByRole("button", { name: /发放/ }).click();
  await expect(page.getByText("您签批了这笔理赔，须由另一位专员发放。")).toBeVisible();

  await switchTo(page, seed.cashier);
  await page.goto(`/console/welfare/claims/${seed.claim.id}`);
  await page.getByRole("button", { name: /发放/ }).click();
  await expect(page.getByText("已发放。")).toBeVisible();
  await expect(page.getByRole("heading", { name: "发放记录" })).toBeVisible();
  await screen(page, "console-claim-paid");

  await page.getByRole("link", { name: "查看互助基金账目" }).click();
  await expect(page.getByRole("heading", { name: "基金账目" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "互助保障基金余额" })).toBeVisible();
  const payout = page.getByRole("row").filter({ hasText: "发放" });
  await expect(payout.filter({ hasText: "10,000.00" }).first()).toBeVisible();
  await expect(page.getByText("各账户合计 ¥0.00（应为零）")).toBeVisible();
  await screen(page, "console-ledger");
});

test("an officer's stale edit of a programme's rules is refused and the screen offers the newer rules", async ({ page }) => {
  await consoleSignIn(page, seed.officer);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "项目规则" }).click();
  await expect(page.getByRole("heading", { name: "项目资格规则" })).toBeVisible();
  await expect(page.getByText(/^第 \d+ 版/)).toBeVisible();
  await screen(page, "console-rules");

  // a colleague saves the same programme's rules meanwhile (with this officer's session, for brevity)
  const session = JSON.parse(await page.evaluate(() => localStorage.getItem("palace.session") ?? "{}")) as { access?: string };
  const headers = { Authorization: `Bearer ${session.access}` };
  const read = await (await page.request.get("/v1/welfare/programmes/hardship_relief/rules")).json();
  const saved = await page.request.put("/v1/welfare/programmes/hardship_relief/rules", {
    headers, data: { version: read.version, rules: read.rules, note: "同事同时修改" } });
  expect(saved.status()).toBe(200);

  await page.getByLabel("修改原因").fill("按新的低保线调整");
  await page.getByRole("button", { name: "保存规则" }).click();
  const stale = page.getByRole("alert").filter({ hasText: "别人已经改过这些规则" });
  await expect(stale).toBeVisible();
  await expect(page.getByRole("button", { name: "保存规则" })).toBeDisabled();
  await screen(page, "console-rules-stale");
  await stale.getByRole("button", { name: "重新读取" }).click();
  await expect(stale).toBeHidden();
  await expect(page.getByText(`第 ${read.version + 1} 版`, { exact: false })).toBeVisible();
  await page.getByLabel("修改原因").fill("按新的低保线调整");
  await page.getByRole("button", { name: "保存规则" }).click();
  await expect(page.getByText("规则已保存，今后提交的申请按新规则审查。")).toBeVisible();
  await expect(page.getByRole("cell", { name: "按新的低保线调整" })).toBeVisible();
});
