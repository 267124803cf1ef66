// bench/console's browser side, in Debian's Chromium at 1366x768 with no throttling and nothing cached:
// 1. the console's first load: the sign-in page, then the first screen after signing in as a clerk
//    would (typing the phone and password); lists every script and stylesheet the two pages loaded;
// 2. the rooms' week grid: `runs` loads of /console/rooms/week in a fresh browser context signed in
//    (the session in localStorage, as the console keeps it), each timed from the start of navigation
//    to the frame in which the grid holds `entries` booking blocks.
// Prints one JSON line.
//   node scripts/console-load.mjs <base url> <phone> <password> <session json> <entries> <runs>
import { chromium } from "@playwright/test";
import { recordAssets } from "./assets.mjs";

const [base, phone, password, session, entries, runs = "2"] = process.argv.slice(2);
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const DESKTOP = { viewport: { width: 1366, height: 768 }, locale: "zh-CN" };
const BLOCKS = "table.grid td .entry"; // the legend above the grid uses .entry too

async function firstLoad(browser) {
  const context = await browser.newContext(DESKTOP);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  const assets = recordAssets(cdp);
  await page.goto(`${base}/console/signin`, { timeout: 60_000 });
  await page.getByLabel("手机号").fill(phone);
  await page.getByLabel("密码").fill(password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
  await page.getByRole("navigation", { name: "主菜单" }).waitFor({ timeout: 60_000 });
  await page.locator("h1").first().waitFor({ timeout: 60_000 });
  await page.waitForLoadState("networkidle"); // the first screen's own chunks too
  const home = new URL(page.url()).pathname;
  await context.close();
  return { home, assets: [...assets.values()] };
}

async function gridLoad(browser) {
  const context = await browser.newContext(DESKTOP);
  await context.addInitScript((value) => localStorage.setItem("palace.session", value), session);
  const page = await context.newPage();
  await page.goto(`${base}/console/rooms/week`, { waitUntil: "commit", timeout: 60_000 });
  // checked once a frame in the page; the page's own clock starts with the navigation
  const shown = await page.waitForFunction(({ selector, count }) => {
    const blocks = document.querySelectorAll(selector).length;
    if (blocks < count) return false;
    // where the time went: each file and API call of the load, from the start of navigation (ms)
    const fetched = performance.getEntriesByType("resource").map((r) => ({
      path: new URL(r.name).pathname + new URL(r.name).search, start: Math.round(r.startTime), end: Math.round(r.responseEnd) }));
    return { ms: performance.now(), blocks, fetched };
  }, { selector: BLOCKS, count: Number(entries) }, { polling: "raf", timeout: 60_000 });
  const { ms, blocks, fetched } = await shown.jsonValue();
  await context.close();
  return { shown_ms: Math.round(ms), blocks, fetched };
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
try {
  const first = await firstLoad(browser);
  const grid = [];
  for (let run = 0; run < Number(runs); run++) grid.push(await gridLoad(browser));
  console.log(JSON.stringify({ first, grid }));
} finally {
  await browser.close();
}
