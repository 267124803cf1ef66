// What the console's browser tests share beyond the member app's fixtures: the console's seed (staff
// accounts, a pending booking, a welfare case) and signing in through the console's own form.
import { readFileSync } from "node:fs";
import type { Page } from "@playwright/test";
import type { Member } from "./fixtures";

export interface ConsoleSeed {
  admin: Member;
  manager: Member;
  officer: Member;
  member: Member;
  booking: { id: string; title: string };
  case: { id: string; reference: string; document: string };
  lottery: { id: string; title: string };
  site: string;
  counselling: { member: string; reference: string; room: string };
  grid: { room: string; title: string; day: string; holiday: string; workday: string };
  hall: { whole: string; east: string; west: string; half_title: string; whole_title: string };
  clerk: Member;
  full: { id: string; title: string };
  teacher: Member;
  taught: { id: string; title: string };
  today: { id: string; title: string; session_id: string; code: string };
  finished: { id: string; title: string };
  plan: { id: string; name: string };
  claim: { id: string };
  unit_admin: Member;
  roster_file: string;
  second_officer: Member;
  cashier: Member;
}

export const seed: ConsoleSeed = JSON.parse(readFileSync(process.env.PALACE_SEED ?? "", "utf8"));

export async function consoleSignIn(page: Page, who: Member) {
  await page.goto("/console/signin");
  await page.getByLabel("手机号").fill(who.phone);
  await page.getByLabel("密码").fill(who.password);
  await page.getByRole("button", { name: "登录", exact: true }).click();
}
