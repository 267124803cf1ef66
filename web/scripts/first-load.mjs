// bench/web's browser side: open a page of the member app in Debian's Chromium on a throttled phone
// profile (1.6 Mbit/s down, 150 ms latency, a 4x slower CPU, nothing cached) and time the moment the
// first course is on screen; list the scripts and stylesheets the page loaded. Prints one JSON line.
//   node scripts/first-load.mjs <url> <runs>
import { chromium } from "@playwright/test";
import { recordAssets } from "./assets.mjs";

const [url, runs = "3"] = process.argv.slice(2);
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"];
const PHONE = { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ARGS });
const results = [];
try {
  for (let run = 0; run < Number(runs); run++) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: "zh-CN" });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Network.emulateNetworkConditions", PHONE);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const assets = recordAssets(cdp);
    await page.goto(url, { waitUntil: "commit", timeout: 60_000 });
    await page.locator(".course-card").first().waitFor({ state: "visible", timeout: 60_000 });
    // from the start of navigation to the first course on screen, by the page's own clock
    const visibleMs = await page.evaluate(() => performance.now());
    results.push({ visible_ms: Math.round(visibleMs), assets: [...assets.values()] });
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(results));
