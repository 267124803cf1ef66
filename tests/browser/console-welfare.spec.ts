// The welfare office in the staff console: an officer sees next week's counselling appointments, finds the case in the queue with its SLA clock,
// opens it (facts, eligibility), is assigned it by the admin, views a document in place, approves an amount under the two-signature
// threshold, and pays it.
import { expect, screen, signedIn, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

test("a welfare officer opens a case, decides it and pays it", async ({ page, browser }, testInfo) => {
  test.setTimeout(120_000); // two staff, two browsers
  // signed in through the form: an init script (signedIn) would run in the document viewer's frame too
  await consoleSignIn(page, seed.officer);
  // the week's counselling appointments: 孙倩's is next Tuesday afternoon
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "心理咨询预约" }).click();
  await expect(page.getByRole("heading", { name: "心理咨询预约" })).toBeVisible();
  await page.getByRole("button", { name: "下一周" }).click();
  const session = page.getByRole("row").filter({ hasText: seed.counselling.member });
  await expect(session).toContainText(seed.counselling.room);
  await expect(session).toContainText(`${seed.site} · ${seed.counselling.room}`);
  await expect(session).toContainText(seed.counselling.reference);
  await expect(session).toContainText("已预约");
  await expect(session).toContainText("15:00–16:00");
  await screen(page, "console-counselling");

  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "帮扶案件" }).click();
  await expect(page.getByRole("heading", { name: "帮扶案件" })).toBeVisible();
  const row = page.getByRole("row").filter({ hasText: seed.case.reference });
  await expect(row).toHaveCount(1);
  await expect(row.getByText(/还剩|已超时/)).toBeVisible();
  await screen(page, "console-cases");

  await row.getByRole("link", { name: seed.case.reference }).click();
  await expect(page.getByRole("heading", { name: `案件 ${seed.case.reference}` })).toBeVisible();
  await expect(page.getByRole("button", { name: seed.case.document })).toBeVisible();
  await expect(page.getByText("已提交", { exact: true }).first()).toBeVisible();
  await expect(page.getByRole("heading", { name: "资格审查（提交时）" })).toBeVisible();
  await screen(page, "console-case");

  // the household's facts and the files are for the officers on the case: the API's refusal is said
  // plainly; an officer cannot take a case (issue 18), so there is nothing to take it with
  await expect(page.getByText("家庭月收入")).toHaveCount(0);
  await page.getByRole("button", { name: seed.case.document }).click();
  await expect(page.getByText("您不是这个案件的经办专员。")).toBeVisible();
  await expect(page.getByText("经办专员由管理员或其他专员分派，不能自己领取。")).toBeVisible();
  await expect(page.getByRole("button", { name: "由我办理" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "分派" })).toHaveCount(0);

  // the welfare admin, in a browser of their own, assigns the case to the officer
  const { baseURL, viewport, locale, timezoneId } = testInfo.project.use;
  const adminContext = await browser.newContext({ baseURL, viewport, locale, timezoneId });
  await signedIn(adminContext, seed.admin);
  const admin = await adminContext.newPage();
  await admin.goto(`/console/welfare/cases/${seed.case.id}`);
  await admin.getByRole("combobox", { name: "经办专员" }).click();
  await admin.getByRole("option", { name: seed.officer.name }).click();
  await admin.getByRole("button", { name: "分派" }).click();
  await expect(admin.getByText("案件已分派。")).toBeVisible();
  await adminContext.close();

  await page.reload();
  await expect(page.getByText("家庭月收入")).toBeVisible();

  await page.getByRole("button", { name: seed.case.document }).click();
  const viewer = page.getByRole("dialog", { name: seed.case.document });
  await expect(viewer).toBeVisible();
  await expect(viewer.locator(`iframe[title="${seed.case.document}"]`)).toHaveAttribute("src", /^blob:/);
  await screen(page, "console-case-document", { axe: false }); // the PDF viewer's own frame is Chromium's
  await viewer.getByRole("button", { name: "关闭此对话框" }).click();
  await expect(viewer).toBeHidden();

  await expect(page.getByRole("radio", { name: "批准", exact: true })).toBeChecked(); // the first choice
  await page.getByLabel("金额").fill("1500.00");
  await page.getByLabel("说明").fill("住院押金，按两个月房租核定");
  await page.getByRole("button", { name: "提交决定" }).click();
  await expect(page.getByText("决定已记录。")).toBeVisible();
  await expect(page.getByText("已批准", { exact: true }).first()).toBeVisible();

  await page.getByRole("button", { name: /发放/ }).click();
  await expect(page.getByText("已发放。")).toBeVisible();
  await expect(page.getByRole("heading", { name: "发放记录" })).toBeVisible();
  await screen(page, "console-case-paid");
});
