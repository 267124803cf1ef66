// What every browser test shares: the seed the pytest module made, a screenshot and an axe-core check of
// every screen, and a test that fails on any error the page logs (a missing i18n key logs one).
import { readFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type BrowserContext, type Page } from "@playwright/test";

export interface Member {
  phone: string;
  password: string;
  name: string;
  id: string;
  tokens?: { access_token: string; refresh_token: string; expires_in: number };
}

export interface Seed {
  sms: string;
  member: Member;
  waiting: Member;
  racers: Member[];
  courses: Record<string, { id: string; title: string }>;
  checkin: { session: string; code: string };
  club: string;
  room: string;
  site: { name: string; address: string };
  this_week: { checkin: boolean; booking: boolean; counselling: boolean };
  days: { checkin: string; booking: string };
}

export const seed: Seed = JSON.parse(readFileSync(process.env.PALACE_SEED ?? "", "utf8"));
const artefacts = process.env.PALACE_ARTEFACTS ?? `${__dirname}/artefacts`;
// errors a browser logs for an answer that is not 2xx: the app shows those itself
const EXPECTED = [/Failed to load resource: the server responded with a status of (4\d\d|503)/];

/** A screenshot of the screen as the member sees it, and no serious or critical axe violation on it
 * (`axe: false` for another state of a page already checked, to keep the run short). */
export async function screen(page: Page, name: string, { axe = true } = {}) {
  await page.waitForLoadState("networkidle").catch(() => undefined);
  // a dialog still fading in has half-transparent text, which axe rightly finds too faint: check the
  // screen once its transitions have ended (spinners run for ever and are left out)
  await page.waitForFunction(() => document.getAnimations().every((a) =>
    a.playState !== "running" || a.effect?.getTiming().iterations === Infinity), undefined, { timeout: 5_000 })
    .catch(() => undefined);
  await page.screenshot({ path: `${artefacts}/screens/${name}.png`, fullPage: true });
  if (!axe) return;
  // a toast (Element Plus's message) comes and goes on its own clock: caught fading in, its words are
  // rightly too faint for axe, and nothing can wait for it. Shown whole, its colours are the theme's state
  // colours on their light backgrounds (theme.css), which axe checks wherever else they are used.
  const { violations } = await new AxeBuilder({ page }).exclude(".el-message").analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`),
    `axe on ${name}`).toEqual([]);
}

/** The member signed in without the form (their tokens put where the app keeps them). */
export async function signedIn(context: BrowserContext, member: Member) {
  const t = member.tokens!;
  await context.addInitScript((value) => {
    try {
      if (!localStorage.getItem("palace.session")) localStorage.setItem("palace.session", value);
    } catch {
      // a sandboxed frame (the certificate's page) has no storage, and needs no session
    }
  }, JSON.stringify({ access: t.access_token, refresh: t.refresh_token, expiresAt: Date.now() + t.expires_in * 1000 }));
}

export async function signIn(page: Page, member: Member) {
  await page.goto("/signin");
  await page.getByLabel("手机号").fill(member.phone);
  await page.getByLabel("密码").fill(member.password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
}

export const test = base.extend<{ errors: string[] }>({
  errors: [async ({ page }, use) => {
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" && !EXPECTED.some((e) => e.test(m.text()))) errors.push(m.text().slice(0, 300));
    });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    await use(errors);
    expect(errors, "errors the page logged").toEqual([]);
  }, { auto: true }],
});

export { expect };
