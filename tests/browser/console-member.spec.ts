// A member who signs in to the staff console is told it is for staff, and is not let in. The sign-in
// page is the console's first load: the scripts and stylesheets it took are kept for the size bar
// (test_staff_console.py sums them as the gateway sends them, gzipped).
import { writeFileSync } from "node:fs";
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

const artefacts = process.env.PALACE_ARTEFACTS ?? `${__dirname}/artefacts`;

test("a member signing in to the console is told the console is for staff", async ({ page }) => {
  const loaded: string[] = [];
  page.on("response", (r) => {
    if (["script", "stylesheet"].includes(r.request().resourceType())) loaded.push(new URL(r.url()).pathname);
  });
  await page.goto("/console/signin");
  await expect(page.getByLabel("手机号")).toBeVisible();
  await page.waitForLoadState("networkidle");
  writeFileSync(`${artefacts}/console-first-load.json`, JSON.stringify(loaded));

  await consoleSignIn(page, seed.member);
  await expect(page.getByText("工作台只供文化宫工作人员使用")).toBeVisible();
  await expect(page).toHaveURL(/\/console\/signin/);
  await screen(page, "console-member-refused");
  await page.goto("/console/courses");
  await expect(page).toHaveURL(/\/console\/signin\?notStaff=1/);
  await expect(page.getByText("工作台只供文化宫工作人员使用")).toBeVisible();
});
