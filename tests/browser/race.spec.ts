// The launch: 20 members on 20 phones tap 报名 on a 5-seat class at the same instant. Exactly 5 screens
// say the seat is confirmed; the other 15 show waitlist places 1 to 15, each once.
import { expect, seed, signedIn, test } from "./fixtures";

test("20 phones, 5 seats, one instant", async ({ browser }, testInfo) => {
  test.setTimeout(120_000);
  const launch = seed.courses.launch;
  const { baseURL, viewport, locale, timezoneId, isMobile, hasTouch } = testInfo.project.use;
  const open = async (racer: (typeof seed.racers)[number]) => {
    const context = await browser.newContext({ baseURL, viewport, locale, timezoneId, isMobile, hasTouch });
    await signedIn(context, racer);
    const page = await context.newPage();
    await page.goto(`/courses/${launch.id}`, { timeout: 60_000 });
    await expect(page.getByRole("button", { name: "报名" })).toBeEnabled({ timeout: 30_000 });
    return page;
  };
  // the phones open the page five at a time (two cores also run the palace), then wait for the moment
  const phones = [];
  for (let i = 0; i < seed.racers.length; i += 5) phones.push(...await Promise.all(seed.racers.slice(i, i + 5).map(open)));

  // every phone taps at the same wall-clock moment, half a second from now
  const when = Date.now() + 500;
  await Promise.all(phones.map((page) => page.evaluate((at) => new Promise<void>((resolve) => {
    setTimeout(() => {
      (document.querySelector("[data-testid=enrol]") as HTMLElement).click();
      resolve();
    }, Math.max(0, at - Date.now()));
  }), when)));

  const said = await Promise.all(phones.map(async (page) => {
    const outcome = page.locator("[data-outcome]");
    await expect(outcome).toBeVisible({ timeout: 30_000 });
    return (await outcome.textContent()) ?? "";
  }));
  const confirmed = said.filter((text) => text.includes("报名成功，座位已确认"));
  const places = said.map((text) => /候补第 (\d+) 位/.exec(text)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
  expect(confirmed).toHaveLength(5);
  expect(places).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));

  const artefacts = process.env.PALACE_ARTEFACTS ?? `${__dirname}/artefacts`;
  await phones[said.findIndex((t) => t.includes("报名成功"))].screenshot({ path: `${artefacts}/screens/24-race-confirmed.png` });
  await phones[said.findIndex((t) => t.includes("候补第 15 位"))].screenshot({ path: `${artefacts}/screens/25-race-waitlisted-15.png` });
  await Promise.all(phones.map((page) => page.context().close()));
});
