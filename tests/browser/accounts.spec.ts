// Journey 1: register, sign in, stay signed in (the refresh token rotates), sign out, reset a forgotten
// password with the code the SMS brought; a session that ends sends the member to sign in and back.
import { expect, screen, seed, test } from "./fixtures";

const session = (page: import("@playwright/test").Page) =>
  page.evaluate(() => JSON.parse(localStorage.getItem("palace.session") ?? "null"));

test("a member registers (a 12-digit phone is refused first), signs out and signs in again", async ({ page }) => {
  const phone = `137${String(Date.now()).slice(-8)}`;
  await page.goto("/");
  await expect(page).toHaveURL(/\/signin\?redirect=/);
  await screen(page, "01-sign-in");
  await page.getByRole("link", { name: "还没有账号？注册" }).click();
  await page.getByLabel("姓名").fill("陈静");
  await page.getByLabel("手机号").fill("139123456789");
  await page.getByLabel("密码").fill("chen-jing-pass");
  await page.getByRole("button", { name: "注册并登录" }).click();
  await expect(page.getByText("请输入 11 位中国大陆手机号")).toBeVisible();
  await screen(page, "02-register-bad-phone");
  await page.getByLabel("手机号").fill(phone);
  await page.getByRole("button", { name: "注册并登录" }).click();
  await expect(page.getByRole("heading", { name: "首页" })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);

  await page.locator(".van-tabbar").getByText("我的", { exact: true }).click();
  await expect(page.getByText("陈静")).toBeVisible();
  await screen(page, "03-me");
  // the birth date, given once for the age limits of classes: picked, saved, then shown and no longer a field
  await page.getByRole("textbox", { name: "出生日期" }).click();
  const picker = page.locator(".van-popup .van-picker");
  await picker.locator(".van-picker-column").first().getByText("1960", { exact: true }).dispatchEvent("click");
  await picker.getByRole("button", { name: "确定" }).click();
  await expect(page.getByRole("textbox", { name: "出生日期" })).toHaveValue(/^1960-\d\d-\d\d$/);
  await page.getByRole("button", { name: "保存" }).click();
  await expect(page.getByText("出生日期已保存")).toBeVisible();
  await expect(page.locator(".van-cell").filter({ hasText: "出生日期" })).toContainText(/1960-\d\d-\d\d/);
  await expect(page.getByRole("button", { name: "保存" })).toHaveCount(0);
  await page.getByRole("button", { name: "退出登录" }).click();
  await expect(page).toHaveURL(/\/signin/);
  expect(await session(page)).toBeNull();

  await page.getByLabel("手机号").fill(phone);
  await page.getByLabel("密码", { exact: true }).fill("not-the-password");
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText("手机号或密码不正确。");
  await page.getByLabel("密码", { exact: true }).fill("chen-jing-pass");
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect(page.getByRole("heading", { name: "首页" })).toBeVisible();
});

test("the app renews the access token with the refresh token, which rotates, and stays signed in", async ({ page, request }) => {
  await page.goto("/signin");
  await page.getByLabel("手机号").fill(seed.waiting.phone);
  await page.getByLabel("密码", { exact: true }).fill(seed.waiting.password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect(page.getByRole("heading", { name: "首页" })).toBeVisible();
  const first = await session(page);

  // the access token has run out: renewed before the next request
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("palace.session")!);
    localStorage.setItem("palace.session", JSON.stringify({ ...s, expiresAt: Date.now() - 1000 }));
  });
  await page.goto("/me");
  await expect(page.getByText(seed.waiting.name)).toBeVisible();
  const second = await session(page);
  expect(second.refresh).not.toBe(first.refresh);

  // the server refuses the access token: renewed once, the request sent again
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("palace.session")!);
    localStorage.setItem("palace.session", JSON.stringify({ ...s, access: "not.a.token" }));
  });
  await page.goto("/me/contacts");
  await expect(page.getByRole("heading", { name: "联系方式" })).toBeVisible();
  await expect(page.getByLabel("短信手机号")).toBeVisible();
  const third = await session(page);
  expect(third.refresh).not.toBe(second.refresh);
  expect(third.access).not.toBe("not.a.token");

  // a refresh token used twice (a copy in a thief's hands, or the member's own): its whole chain ends
  const reused = await request.post("/v1/auth/token", { data: { refresh_token: first.refresh } });
  expect(reused.status(), "a refresh token works once").toBe(401);
  const newest = await request.post("/v1/auth/token", { data: { refresh_token: third.refresh } });
  expect(newest.status(), "and its reuse ends the newer tokens of the chain").toBe(401);
});

test("a session that ended sends the member to sign in, then back where they were", async ({ page }) => {
  await page.goto("/signin");
  await page.getByLabel("手机号").fill(seed.waiting.phone);
  await page.getByLabel("密码", { exact: true }).fill(seed.waiting.password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect(page.getByRole("heading", { name: "首页" })).toBeVisible();
  await page.evaluate(() => {
    const s = JSON.parse(localStorage.getItem("palace.session")!);
    localStorage.setItem("palace.session", JSON.stringify({ ...s, access: "not.a.token", refresh: "revoked" }));
  });
  await page.goto("/me/preferences");
  await expect(page).toHaveURL(/\/signin\?redirect=(%2F|\/)me(%2F|\/)preferences&expired=1/);
  await expect(page.getByText("登录已过期，请重新登录")).toBeVisible();
  await screen(page, "04-session-expired");
  await page.getByLabel("手机号").fill(seed.waiting.phone);
  await page.getByLabel("密码", { exact: true }).fill(seed.waiting.password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await expect(page).toHaveURL(/\/me\/preferences$/);
  await expect(page.getByRole("heading", { name: "通知设置" })).toBeVisible();
});

test("a forgotten password is reset with the code the SMS brought", async ({ page, request }) => {
  const phone = `136${String(Date.now()).slice(-8)}`;
  expect((await request.post("/v1/auth/register", { data: { phone, name: "赵敏", password: "first-password" } })).status()).toBe(201);
  await page.goto("/signin");
  await page.getByRole("link", { name: "忘记密码" }).click();
  // the sign-in page has a 手机号 field too: fill the reset page's once it has replaced it
  await expect(page.getByText("输入注册时的手机号，我们会发送 8 位验证码。")).toBeVisible();
  await page.getByLabel("手机号").fill(phone);
  await page.getByRole("button", { name: "发送验证码" }).click();
  await expect(page.getByText(`如果 ${phone} 已注册，验证码已发送到这个手机`)).toBeVisible();
  await screen(page, "05-reset-code-sent");

  let code = "";
  await expect.poll(async () => {
    const texts = await (await request.get(`${seed.sms}?phone=${phone}`)).json();
    code = texts.map((t: { params: Record<string, string> }) => t.params.code).find(Boolean) ?? "";
    return code;
  }, { timeout: 15_000 }).toMatch(/^\d{8}$/);

  await page.getByLabel("验证码").fill(code === "00000000" ? "11111111" : "00000000");
  await page.getByLabel("新密码").fill("second-password");
  await page.getByRole("button", { name: "重设密码" }).click();
  await expect(page.getByRole("alert")).toHaveText("验证码不正确、已使用或已过期，请重新获取。");
  await page.getByLabel("验证码").fill(code);
  await page.getByRole("button", { name: "重设密码" }).click();
  await expect(page.getByRole("heading", { name: "首页" })).toBeVisible();
  const signIn = await request.post("/v1/auth/token", { data: { phone, password: "second-password" } });
  expect(signIn.status()).toBe(200);
});
