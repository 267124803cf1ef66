// The year-end report in the staff console: the year's figures with Chinese names, in total and broken
// down by site, downloaded as the API's Excel file (which the pytest side opens with openpyxl) and as CSV;
// broken down, a figure's groups charted (ECharts' SVG): over the months as a line, by programme as bars,
// by course category as bars and a pie of the categories' shares; each chart's figures in a table beside it.
// Course categories and welfare programmes (codes the API names in Chinese) are named in the clerk's language.
import { readFileSync } from "node:fs";
import { expect, screen, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

const artefacts = process.env.PALACE_ARTEFACTS ?? `${__dirname}/artefacts`;
const year = new Date().getFullYear();

test("an admin reads the year's figures, breaks them down by site and downloads them as Excel and CSV", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "年度报表" }).click();
  await expect(page.getByRole("heading", { name: "年度报表" })).toBeVisible();
  await expect(page.getByText(`统计期间：${year}-01-01 至 ${year}-12-31`)).toBeVisible();
  const table = page.getByRole("table").last();
  for (const figure of ["开班数", "培训人次", "场地预约数", "场地利用率", "发放金额（元）", "短信条数"]) {
    await expect(table.getByRole("row").filter({ hasText: figure })).toContainText("合计");
  }
  await screen(page, "console-reports");

  await page.getByRole("combobox", { name: "分组方式" }).click({ force: true }); // its shown label lies over it
  await page.getByRole("option", { name: "按场地" }).click();
  // broken down: each figure's total, then its groups (courses without a site are "not given")
  await expect(page.getByText(/只列合计/)).toBeVisible(); // figures whose records carry no site
  await expect(table.getByRole("row").filter({ hasText: "未填写" }).first()).toBeVisible();
  await screen(page, "console-reports-by-site", { axe: false });

  const [xlsx] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "导出 Excel" }).click()]);
  expect(xlsx.suggestedFilename()).toBe(`${year} 年度报表（按场地）.xlsx`);
  await xlsx.saveAs(`${artefacts}/year-report.xlsx`); // opened by test_staff_console.py with openpyxl
  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "导出 CSV" }).click()]);
  expect(csv.suggestedFilename()).toBe(`${year} 年度报表（按场地）.csv`);
  const text = readFileSync(await csv.path(), "utf8");
  expect(text.startsWith("\uFEFF指标,分组,数值")).toBe(true); // the BOM Excel needs for Chinese
  expect(text).toContain("开班数,合计,");

  // by month: the trainees' person-times charted as a line over every month of the year, this month's (its
  // classes) as the API counted it; the chart is an image named for a screen reader, its figures in a table
  // beside it, and it follows its box's width
  const byMonth = page.waitForResponse((r) => r.url().includes("/v1/reports/summary") && r.url().includes("by=month"));
  await page.getByRole("combobox", { name: "分组方式" }).click({ force: true });
  await page.getByRole("option", { name: "按月份" }).click();
  const counted = ((await (await byMonth).json()).rows as { figure: string; group: string | null; value: number }[])
    .filter((row) => row.figure === "person_times" && row.group !== null);
  const chart = page.getByRole("img", { name: "培训人次（按月份）的折线图，各项数值见下方表格" });
  await expect(page.getByRole("heading", { name: "培训人次（按月份）" })).toBeVisible();
  const thisMonth = new Intl.DateTimeFormat("sv-SE", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit" }).format(new Date());
  const shown = counted.find((row) => row.group === thisMonth)?.value;
  expect(shown).toBeGreaterThan(0);
  await expect(chart.locator("svg text").filter({ hasText: new RegExp(`^${year}-\\d\\d$`) })).toHaveCount(12);
  await expect(chart.locator("svg path[stroke='#409eff'][fill='none']")).toHaveCount(1); // one line, in the console's blue
  const points = page.locator(".chart-table").getByRole("row");
  await expect(points).toHaveCount(1 + 12); // its header, and a row a month
  await expect(points.filter({ hasText: thisMonth })).toContainText(shown!.toLocaleString("zh-CN"));
  await expect(page.getByRole("img", { name: /饼图/ })).toHaveCount(0); // months are not shares of the year
  await screen(page, "console-reports-chart");
  const wide = Number(await chart.locator("svg").getAttribute("width"));
  await page.setViewportSize({ width: 1024, height: 768 });
  await expect.poll(async () => Number(await chart.locator("svg").getAttribute("width"))).toBeLessThan(wide);

  // by programme: the welfare office's figures, each programme a bar under its Chinese name
  await page.getByRole("combobox", { name: "分组方式" }).click({ force: true });
  await page.getByRole("option", { name: "按帮扶项目" }).click();
  await expect(page.getByRole("img", { name: /（按帮扶项目）的柱状图/ }).locator("svg text").filter({ hasText: "困难帮扶" })).not.toHaveCount(0);

  // by course category: the person-times as bars and, as each class has one category, a pie of their shares;
  // the categories by their names (文艺 for arts), the shares in the charts' table
  await page.getByRole("combobox", { name: "分组方式" }).click({ force: true });
  await page.getByRole("option", { name: "按课程类别" }).click();
  await expect(page.getByRole("img", { name: "培训人次（按课程类别）的柱状图，各项数值见下方表格" })).toBeVisible();
  const pie = page.getByRole("img", { name: "培训人次（按课程类别）的饼图，各项所占比例见下方表格" });
  await expect(pie.locator("svg text").filter({ hasText: "文艺" })).not.toHaveCount(0);
  await expect(pie.locator("svg text").filter({ hasText: "手工" })).not.toHaveCount(0);
  await expect(page.locator(".chart-table").getByRole("row").filter({ hasText: "文艺" })).toContainText(/\d+(\.\d)?%$/);
  await expect(table.getByRole("row").filter({ hasText: "手工" }).first()).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: /\b(arts|crafts)\b/ })).toHaveCount(0);
  await screen(page, "console-reports-pie");

  // in English, the charts' titles and names from the English catalogue, and the categories' names too
  await page.getByText("English", { exact: true }).click();
  await expect(page.getByRole("img", { name: /^Pie chart of .+, By course category: each group's share of the total, in the table below$/ })
    .locator("svg text").filter({ hasText: "Arts" })).not.toHaveCount(0);
  await expect(table.getByRole("row").filter({ hasText: "Crafts" }).first()).toBeVisible();
  await expect(table.getByRole("row").filter({ hasText: "手工" })).toHaveCount(0);
  await page.getByRole("combobox", { name: "Breakdown" }).click({ force: true });
  await page.getByRole("option", { name: "By welfare programme" }).click();
  const programmes = page.getByRole("img", { name: /^Bar chart of .+, By welfare programme; the figures are in the table below$/ });
  await expect(programmes.locator("svg text").filter({ hasText: "Hardship relief" })).not.toHaveCount(0);
  await expect(programmes.locator("svg text").filter({ hasText: "困难帮扶" })).toHaveCount(0);
});

test("a teacher may read the year report too, as the API allows every staff role", async ({ page }) => {
  await consoleSignIn(page, seed.teacher);
  await expect(page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "年度报表" })).toBeVisible();
});
