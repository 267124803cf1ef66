// The staff console in Debian's Chromium at a desktop's size (1366×768), against the palace that
// tests/browser/test_staff_console.py started and seeded (PALACE_URL, PALACE_SEED). The member app's
// settings otherwise.
import { defineConfig } from "@playwright/test";
import member from "./playwright.config";

export default defineConfig({
  ...member,
  testMatch: "console-*.spec.ts",
  testIgnore: undefined,
  use: { ...member.use, viewport: { width: 1366, height: 768 }, isMobile: false, hasTouch: false },
});
