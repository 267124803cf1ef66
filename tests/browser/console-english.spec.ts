// The console in English: the clerk switches language, the menu and the screen follow (a key missing
// from the English catalogue would log an error and fail the test), and the choice is kept.
import { expect, screen, signedIn, test } from "./fixtures";
import { seed } from "./console-fixtures";

test("a clerk switches the console to English", async ({ page, context }) => {
  await signedIn(context, seed.manager);
  await page.goto("/console/rooms/approvals");
  await expect(page.getByRole("heading", { name: "预约审批" })).toBeVisible();
  await page.getByText("English", { exact: true }).click();
  const menu = page.getByRole("navigation", { name: "Main menu" });
  await expect(menu.getByRole("link", { name: "Booking approvals" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Booking approvals" })).toBeVisible();
  await screen(page, "console-approvals-english");
  await page.reload();
  await expect(page.getByRole("heading", { name: "Booking approvals" })).toBeVisible();
});
