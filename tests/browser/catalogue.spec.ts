// Journey 3: the catalogue with its filters and search, and a course's page, as a visitor sees them.
import { expect, screen, seed, test } from "./fixtures";

test("a visitor searches and filters the catalogue and reads a course's page", async ({ page }) => {
  const tea = seed.courses.tea;
  await page.goto("/courses");
  await expect(page.getByText(tea.title)).toBeVisible();
  await expect(page.getByText(seed.courses.lottery.title)).toBeVisible();
  await screen(page, "10-catalogue");

  await page.getByRole("searchbox").fill("茶艺");
  await page.getByRole("searchbox").press("Enter");
  await expect(page.getByText(tea.title)).toBeVisible();
  await expect(page.getByText(seed.courses.lottery.title)).toBeHidden();

  await page.getByRole("searchbox").fill("");
  await page.getByRole("searchbox").press("Enter");
  await page.locator(".van-dropdown-menu__bar").getByText("类别").click();
  await page.getByRole("menuitem", { name: "运动健身" }).click();
  await expect(page.getByText(seed.courses.lottery.title)).toBeVisible();
  await expect(page.getByText(tea.title)).toBeHidden();
  await screen(page, "11-catalogue-filtered", { axe: false });
  await page.locator(".van-dropdown-menu__bar").getByText("运动健身").click();
  await page.getByRole("menuitem", { name: "全部类别" }).click();

  await page.locator(".van-dropdown-menu__bar").getByText("更多").click();
  await page.getByRole("switch", { name: "只看有空位的" }).click();
  await expect(page.getByText(seed.courses.full.title)).toBeHidden();
  await expect(page.getByText(tea.title)).toBeVisible();
  await page.locator(".van-dropdown-menu__bar").getByText("更多").click();

  await page.getByText(tea.title).click();
  await expect(page.getByRole("heading", { name: tea.title })).toBeVisible();
  await expect(page.getByText("周敏")).toBeVisible();
  await expect(page.getByText(`${seed.site.name} · 301 教室`)).toBeVisible();
  await expect(page.getByText(seed.site.address)).toBeVisible();
  await expect(page.getByText("余 30 / 共 30")).toBeVisible();
  await expect(page.getByText("0 人排队")).toBeVisible();
  // sessions in Shanghai time with the weekday, whatever the phone's zone (this browser runs in UTC)
  await expect(page.getByText(/\d+月\d+日 周[一二三四五六日] 19:00–20:30/).first()).toBeVisible();
  await screen(page, "12-course");

  await page.getByRole("button", { name: "报名" }).click();
  await expect(page).toHaveURL(new RegExp(`/signin\\?redirect=(%2F|/)courses(%2F|/)${tea.id}`));
});

test("a lottery course says when it is drawn; a full one how many wait", async ({ page }) => {
  await page.goto(`/courses/${seed.courses.lottery.id}`);
  await expect(page.getByText("抽签时间")).toBeVisible();
  await expect(page.getByText(/\d+月\d+日 周[一二三四五六日] 20:00/)).toBeVisible();
  await expect(page.getByRole("button", { name: "登记抽签" })).toBeVisible();
  await screen(page, "13-course-lottery");
  await page.goto(`/courses/${seed.courses.full.id}`);
  await expect(page.getByText("余 0 / 共 1")).toBeVisible();
  await expect(page.getByText("1 人排队")).toBeVisible();
});
