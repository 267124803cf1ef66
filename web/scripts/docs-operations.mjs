// tests/e2e/test_docs.py's browser side: open /docs in Debian's Chromium and scroll it to the end,
// collecting the summary of every operation Swagger UI puts on screen. Swagger UI 5 renders a long
// list (150 tags and operations or more) only as it is scrolled into view, so a single snapshot of
// the page would show the first screenful. Prints one JSON line: {"summaries": [...], "paths": [...]}.
//   node scripts/docs-operations.mjs <url>
import { chromium } from "@playwright/test";

const [url] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1"] });  // anything off this machine fails
const seen = new Set();
const paths = new Set();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url, { timeout: 30_000 });
  await page.locator(".opblock-summary").first().waitFor({ timeout: 30_000 });
  for (let step = 0; step < 400; step++) {
    for (const text of await page.locator(".opblock-summary-description").allInnerTexts()) seen.add(text.trim());
    for (const path of await page.locator(".opblock-summary-path").evaluateAll((els) => els.map((e) => e.dataset.path))) paths.add(path);
    const end = await page.evaluate(() => window.scrollY + window.innerHeight >= document.body.scrollHeight - 2);
    if (end) break;
    await page.mouse.wheel(0, 700);
    await page.waitForTimeout(50);
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ summaries: [...seen], paths: [...paths] }));
