// The member app in Debian's Chromium (no browser download), at a phone's size, against the palace that
// tests/browser/test_member_app.py started and seeded (PALACE_URL, PALACE_SEED).
import { defineConfig } from "@playwright/test";

const artefacts = process.env.PALACE_ARTEFACTS ?? `${__dirname}/artefacts`;

export default defineConfig({
  testDir: __dirname,
  testMatch: "*.spec.ts",
  testIgnore: "console-*.spec.ts", // the staff console's, at a desktop's size: console.config.ts
  outputDir: `${artefacts}/results`,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: process.env.PALACE_URL,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    locale: "zh-CN",
    // the app shows Shanghai time whatever the phone's zone: the browser runs in UTC to prove it
    timezoneId: "UTC",
    actionTimeout: 10_000,
    navigationTimeout: 20_000,
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
