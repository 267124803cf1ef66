// Accounts in the staff console: an admin opens a desk clerk's account with its role, finds it by phone,
// adds a teacher's role, hands a reset code (shown once, large) and closes the account.
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

test("an admin opens a staff account, gives a reset code and closes it", async ({ page }) => {
  test.setTimeout(90_000); // five dialogs, each screenshot checked by axe: over a minute on a busy machine
  await consoleSignIn(page, seed.admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "账号管理" }).click();
  await expect(page.getByRole("heading", { name: "账号管理" })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: seed.clerk.name })).toContainText("服务台");
  await screen(page, "console-accounts");

  const phone = `138${String(Date.now()).slice(-8)}`;
  await page.getByRole("button", { name: "新建工作人员账号" }).click();
  const form = page.getByRole("dialog", { name: "新建工作人员账号" });
  await form.getByLabel("姓名").fill("周前台");
  await form.getByLabel("手机号").fill(phone);
  await form.getByLabel("初始密码").fill("short");
  await form.getByRole("button", { name: "开户" }).click();
  await expect(form.getByText("密码至少8位。")).toBeVisible();
  await expect(form.getByText("请至少选一个岗位。")).toBeVisible();
  await form.getByLabel("初始密码").fill("desk-password-1");
  await form.getByText("服务台", { exact: true }).click();
  await screen(page, "console-account-new");
  await form.getByRole("button", { name: "开户" }).click();
  await expect(page.getByText("已为周前台开户。")).toBeVisible();

  await page.getByRole("textbox", { name: "姓名或手机号" }).fill(phone);
  await page.getByRole("button", { name: "查询" }).click();
  const row = page.getByRole("row").filter({ hasText: phone });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("服务台");

  // a teacher's role as well
  await row.getByRole("button", { name: "调整岗位" }).click();
  const roles = page.getByRole("dialog", { name: "调整周前台的岗位" });
  await roles.getByText("教师", { exact: true }).click();
  await screen(page, "console-account-roles");
  await roles.getByRole("button", { name: "保存岗位" }).click();
  await expect(page.getByText("已调整周前台的岗位。")).toBeVisible();
  await expect(row).toContainText("教师");

  await row.getByRole("button", { name: "验证码" }).click();
  const dialog = page.getByRole("dialog", { name: "周前台的验证码" });
  await expect(dialog.locator(".code")).toHaveText(/^\S{4,}$/);
  await dialog.getByRole("button", { name: "已交给本人" }).click();

  await row.getByRole("button", { name: "注销账号" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "注销账号" }).click();
  await expect(page.getByText("已注销周前台的账号。")).toBeVisible();
});
