// A teacher on a tablet (1024×768, touch): today's class, the register one tap per member saved at once
// (and read back when the page is opened again), and the check-in code large and as a QR code.
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

test.use({ viewport: { width: 1024, height: 768 }, hasTouch: true });

test("a teacher takes today's register by tapping names and shows the door its check-in code", async ({ page }) => {
  await consoleSignIn(page, seed.teacher);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "今天的课" }).tap();
  await expect(page.getByRole("heading", { name: /今天的课/ })).toBeVisible();
  const today = page.getByRole("navigation", { name: "今天的课时" }).getByRole("button", { name: new RegExp(seed.today.title) });
  await expect(today).toHaveAttribute("aria-pressed", "true"); // the class under way is the one shown

  // the door: the code large, and the same code as a QR image
  await expect(page.getByLabel(`签到码 ${seed.today.code}`)).toHaveText(seed.today.code);
  const qr = page.getByRole("img", { name: `签到二维码，签到码 ${seed.today.code}` });
  await expect(qr).toBeVisible();
  expect(await qr.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth >= 200)).toBe(true);

  // who checked in at the door is already present; the other is not marked yet
  const lin = page.getByRole("button", { name: /林小雨/ });
  const he = page.getByRole("button", { name: /何大山/ });
  await expect(he).toContainText("已签到");
  await expect(lin).toContainText("未点");
  await expect(page.getByRole("status").filter({ hasText: "出席" })).toHaveText("出席 1 人 · 缺席 0 人 · 未点 1 人");

  await lin.tap();
  await expect(lin).toContainText("出席");
  await expect(lin).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("listitem").filter({ hasText: "林小雨" })).toContainText("已保存");
  await he.tap(); // came in, then left: marked absent by the teacher
  await expect(he).toContainText("缺席");
  await expect(page.getByRole("listitem").filter({ hasText: "何大山" })).toContainText("已保存");
  await expect(page.getByRole("status").filter({ hasText: "出席" })).toHaveText("出席 1 人 · 缺席 1 人 · 未点 0 人");
  await screen(page, "console-teacher-tablet");

  // the marks were saved through the API: the register opened afresh reads them back
  await page.reload();
  await expect(page.getByRole("button", { name: /林小雨/ })).toContainText("出席");
  await expect(page.getByRole("button", { name: /何大山/ })).toContainText("缺席");
});

test("a register that cannot be saved says why and keeps the member's old mark", async ({ page }) => {
  await consoleSignIn(page, seed.teacher);
  await expect(page.getByRole("heading", { name: /您好/ })).toBeVisible();
  await page.route("**/v1/sessions/*/attendance", (route) => route.request().method() === "POST"
    ? route.fulfill({ status: 409, contentType: "application/problem+json", body: JSON.stringify({
      type: "https://palace.example/problems/attendance-not-open", title: "Conflict", status: 409,
      detail: "attendance can be marked once the session is about to start" }) })
    : route.continue());
  await page.goto("/console/teaching");
  const lin = page.getByRole("button", { name: /林小雨/ });
  const before = (await lin.textContent()) ?? "";
  await lin.tap();
  await expect(page.getByRole("listitem").filter({ hasText: "林小雨" })).toContainText("未保存：课前一小时起才能点名。");
  await expect(lin).toHaveText(before);
  await screen(page, "console-teacher-not-saved", { axe: false });
});
