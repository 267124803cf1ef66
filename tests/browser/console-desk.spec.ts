// The front desk in the staff console: a clerk registers a walk-in, enrols them into a full class and
// is told plainly they are on the waitlist and at which position, prints their enrolment slip; then
// finds them again by phone, hands them a reset code at the counter and cancels the class for them; and
// sees another member's room bookings and welfare cases (their state only) at a glance, by a link; a
// link to nobody shows one plain "no such member" page.
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

test("a desk clerk registers a walk-in and puts them on the waitlist of a full class", async ({ page }) => {
  await consoleSignIn(page, seed.clerk);
  const menu = page.getByRole("navigation", { name: "主菜单" });
  await expect(menu.getByRole("link", { name: "前台服务" })).toBeVisible();
  // a clerk is shown only what the API lets a clerk do
  for (const entry of ["课程管理", "预约审批", "帮扶案件"]) await expect(menu.getByRole("link", { name: entry })).toHaveCount(0);
  await menu.getByRole("link", { name: "前台服务" }).click();
  await expect(page.getByRole("heading", { name: "前台服务", level: 1 })).toBeVisible();
  await screen(page, "console-desk");

  const phone = `139${String(Date.now()).slice(-8)}`;
  const name = `王来访${phone.slice(-3)}`;
  const walkIn = page.getByRole("region", { name: "登记新会员" });
  await walkIn.getByLabel("手机号").fill(phone);
  await walkIn.getByLabel("姓名").fill(name);
  await walkIn.getByLabel("身份证后4位").fill("002x");
  await walkIn.getByRole("button", { name: "登记并打开" }).click();

  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByText(phone)).toBeVisible();
  await expect(page.getByText("还没有报名课程")).toBeVisible();

  const enrol = page.getByRole("region", { name: "代为报名" });
  await enrol.getByRole("combobox", { name: "输入课程名称查找" }).click();
  await page.keyboard.type(seed.full.title.slice(0, 5));
  await page.getByRole("option", { name: new RegExp(seed.full.title) }).click();
  await enrol.getByRole("button", { name: "报名", exact: true }).click();
  // two members were there first: one holds the seat, one waits; the walk-in is second in line
  await expect(enrol.getByRole("status")).toContainText(`「${seed.full.title}」已满，已排入候补，第 2 位。`);
  const classes = page.getByRole("region", { name: "会员的课程" });
  const row = classes.getByRole("row").filter({ hasText: seed.full.title });
  await expect(row).toContainText("候补");
  await expect(row).toContainText("李前台");
  await expect(page.locator(".el-message")).toHaveCount(0, { timeout: 10_000 }); // a toast fading out reads as faint text to axe
  await screen(page, "console-desk-member-waitlisted");

  // an enrolment slip to take away: the member, the class and their place in line, printed on its own
  await row.getByRole("button", { name: "打印报名单" }).click();
  const slip = page.getByRole("dialog", { name: "报名单" });
  await expect(slip).toContainText(name);
  await expect(slip).toContainText(seed.full.title);
  await expect(slip).toContainText("候补（第 2 位）");
  await expect(slip).toContainText("李前台");
  await screen(page, "console-desk-slip");
  await page.evaluate(() => { (window as unknown as { printed: number }).printed = 0; window.print = () => { (window as unknown as { printed: number }).printed++; }; });
  await slip.getByRole("button", { name: "打印" }).click();
  expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
  await page.emulateMedia({ media: "print" });
  await expect(page.getByRole("navigation", { name: "主菜单" })).toBeHidden();
  await expect(page.getByText("候补（第 2 位）")).toBeVisible();
  await expect(slip.getByRole("button", { name: "打印" })).toBeHidden();
  await page.emulateMedia({ media: "screen" });
  await slip.getByRole("button", { name: "返回" }).click();
  await expect(slip).toBeHidden();

  // found again by phone at the counter
  await page.getByRole("button", { name: "返回前台" }).click();
  await page.getByRole("textbox", { name: "身份证后4位、手机号或姓名" }).fill(phone);
  await page.getByRole("button", { name: "查找", exact: true }).click();
  await page.getByRole("button", { name }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();

  // a reset code, shown once, large
  await page.getByRole("button", { name: "给验证码重设密码" }).click();
  const dialog = page.getByRole("dialog", { name: `${name}的验证码` });
  await expect(dialog.locator(".code")).toHaveText(/^\S{4,}$/);
  await screen(page, "console-desk-reset-code");
  await dialog.getByRole("button", { name: "已告知会员" }).click();

  // cancelled on their behalf, with their reason
  await row.getByRole("button", { name: "代为退课" }).click();
  await page.getByRole("dialog").getByRole("textbox").fill("家里有事");
  await page.getByRole("dialog").getByRole("button", { name: "确认退课" }).click();
  await expect(page.getByText("已退课，名额已释放。")).toBeVisible();
  await expect(row).toContainText("已取消");

  // another member at a glance, opened by a link (no search before): named, their phone shown; their
  // room booking, and their hardship case's progress but none of its facts
  await page.goto(`/console/desk/members/${seed.member.id}`);
  await expect(page.getByRole("heading", { name: seed.member.name, level: 1 })).toBeVisible();
  await expect(page.getByText(seed.member.phone).first()).toBeVisible();
  await expect(page.getByRole("region", { name: "会员的场地预约" })).toContainText(seed.booking.title);
  await expect(page.getByRole("region", { name: "会员的帮扶申请" }).getByRole("row").filter({ hasText: seed.case.reference }))
    .toHaveCount(1);
  await expect(page.getByText("住院押金交不上")).toHaveCount(0);
  await screen(page, "console-desk-member-glance");

  // a link to nobody: one page saying there is no such member and the way back, not an alert for each
  // of the card, the classes, the bookings and the cases (none is worth a retry)
  await page.goto(`/console/desk/members/${crypto.randomUUID()}`);
  await expect(page.getByRole("heading", { name: "没有找到这位会员", level: 1 })).toBeVisible();
  await expect(page.getByText("链接里的会员编号不存在")).toBeVisible();
  await page.waitForLoadState("networkidle");
  await expect(page.getByRole("alert")).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 1 })).toHaveCount(1);
  await expect(page.getByRole("region", { name: "会员的课程" })).toHaveCount(0);
  await screen(page, "console-desk-member-unknown");
  await page.getByRole("button", { name: "返回前台" }).click();
  await expect(page.getByRole("heading", { name: "前台服务", level: 1 })).toBeVisible();
});
