// Every string comes from the catalogues: the app in English shows no Chinese UI text it did not get
// from the palace's data, and no page logs a missing key (the fixture fails the test on any error).
import { expect, screen, seed, signedIn, test } from "./fixtures";

test("the app in English", async ({ page }) => {
  await signedIn(page.context(), seed.enroller);
  await page.goto("/me");
  await page.getByRole("radio", { name: "English" }).click();
  await expect(page.getByRole("heading", { name: "Me" })).toBeVisible();
  await expect(page.locator(".van-tabbar")).toContainText("Home");
  await screen(page, "80-me-english");
  for (const [path, heading] of [["/courses", "Classes"], ["/classes", "My classes"], ["/inbox", "Inbox"],
    ["/help/mutual-aid", "Mutual aid"], ["/nowhere", "Page not found"]] as const) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: heading, exact: true })).toBeVisible();
    // the Chinese pages had axe-core; in English it checks the first (lang, names) and the rest are pictures
    await screen(page, `81-english${path.replace(/\//g, "-")}`, { axe: path === "/courses" });
  }
  await page.goto(`/courses/${seed.courses.tea.id}`);
  await expect(page.getByText(/(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ \w+ 19:00–20:30/).first()).toBeVisible();
  await page.goto("/me");
  await page.getByRole("radio", { name: "中文" }).click();
  await expect(page.getByRole("heading", { name: "我的" })).toBeVisible();
});
