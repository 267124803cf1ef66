// Rooms in the staff console: a venue manager sees the rooms screens and no others, approves the
// pending booking from the queue (the API then holds it confirmed), closes a site for a day, and a deep
// link to a screen for other roles shows a clear "no access" page; on the week grid, the holiday and 调休
// tags, a closure changed from the list, and the week's utilisation chart with its table. An admin tells the site's followers.
import { expect, screen, signedIn, test } from "./fixtures";
import { consoleSignIn, seed } from "./console-fixtures";

function shanghaiDay(daysAhead: number): string {
  return new Date(Date.now() + daysAhead * 86_400_000).toLocaleDateString("en-CA", { timeZone: "Asia/Shanghai" });
}

test("a venue manager approves a pending booking", async ({ page, context, request }) => {
  await signedIn(context, seed.manager);
  await page.goto("/console/");
  const menu = page.getByRole("navigation", { name: "主菜单" });
  await expect(menu.getByRole("link", { name: "预约审批" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "场地关闭" })).toBeVisible();
  await expect(menu.getByRole("link", { name: "课程管理" })).toHaveCount(0);
  await expect(menu.getByRole("link", { name: "帮扶案件" })).toHaveCount(0);

  await menu.getByRole("link", { name: "预约审批" }).click();
  const row = page.getByRole("row").filter({ hasText: seed.booking.title });
  await expect(row).toHaveCount(1);
  await screen(page, "console-approvals");
  await row.getByRole("button", { name: "批准", exact: true }).click();
  await expect(page.getByText(`已批准“${seed.booking.title}”。`)).toBeVisible();
  await expect(row).toHaveCount(0);

  const booking = await request.get(`/v1/bookings/${seed.booking.id}`, {
    headers: { Authorization: `Bearer ${seed.manager.tokens!.access_token}` },
  });
  expect(booking.status()).toBe(200);
  expect((await booking.json()).status).toBe("confirmed");

  await menu.getByRole("link", { name: "场地关闭" }).click();
  await expect(page.getByRole("heading", { name: "场地关闭" })).toBeVisible();
  await page.getByLabel("场所").click({ force: true }); // the placeholder lies over the select's input
  await page.getByRole("option", { name: seed.site }).click();
  await page.getByLabel("开始").fill(`${shanghaiDay(20)} 08:00`);
  await page.getByLabel("开始").press("Enter");
  await page.getByLabel("结束").fill(`${shanghaiDay(20)} 18:00`);
  await page.getByLabel("结束").press("Enter");
  await page.getByLabel("原因").fill("消防检查");
  await screen(page, "console-closures");
  await page.getByRole("button", { name: "关闭", exact: true }).click();
  await expect(page.getByRole("heading", { name: "本次关闭的场地" })).toBeVisible();
  await expect(page.getByRole("row").filter({ hasText: "消防检查" }).first()).toContainText("整个场所");

  await page.goto("/console/welfare/cases");
  await expect(page.getByText("没有权限")).toBeVisible();
  await screen(page, "console-no-access");
});

test("an admin tells a site's followers, seeing how many it reaches before sending", async ({ page }) => {
  await consoleSignIn(page, seed.admin);
  await page.getByRole("navigation", { name: "主菜单" }).getByRole("link", { name: "群发通知" }).click();
  await page.getByText("场馆关注者").click();
  await page.getByLabel("场馆", { exact: true }).click({ force: true }); // the placeholder lies over the select's input
  await page.getByRole("option", { name: seed.site }).click();
  await page.getByLabel("标题").fill("场馆开放时间调整");
  await page.getByLabel("内容").fill("本周六起开放至晚上九点。");
  await page.getByRole("button", { name: "预览" }).click();
  await expect(page.getByText("将发给 1 位会员")).toBeVisible(); // the member who follows it
  await screen(page, "console-broadcast-preview");
  await page.getByRole("button", { name: "发送给 1 人" }).click();
  await expect(page.getByTestId("broadcast-progress")).toContainText("已送达 1 / 1 人", { timeout: 20_000 });
});

function mondayOf(day: string): number {
  const noon = new Date(`${day}T12:00:00+08:00`);
  return noon.getTime() - ((noon.getUTCDay() + 6) % 7) * 86_400_000;
}

test("a venue manager reads a room's week, closes it for an evening and changes a setting", async ({ page, context }) => {
  await signedIn(context, seed.manager);
  await page.goto("/console/");
  const menu = page.getByRole("navigation", { name: "主菜单" });
  await menu.getByRole("link", { name: "场地周历" }).click();
  await expect(page.getByRole("heading", { name: "场地周历" })).toBeVisible();
  await page.getByRole("combobox", { name: "场所" }).click({ force: true });
  await page.getByRole("option", { name: seed.site }).click();
  await page.getByRole("combobox", { name: "场地", exact: true }).click({ force: true });
  await page.getByRole("option", { name: seed.grid.room }).click();
  const weeks = Math.round((mondayOf(seed.grid.day) - mondayOf(shanghaiDay(0))) / (7 * 86_400_000));
  for (let i = 0; i < weeks; i++) await page.getByRole("button", { name: "下一周" }).click();
  const grid = page.locator("table.grid"); // the utilisation table below names the rooms too
  const row = grid.getByRole("row").filter({ hasText: seed.grid.room });
  await expect(row).toContainText(`09:00–10:30待审批${seed.grid.title}`);
  await expect(row).toContainText("使用率");
  const header = (day: string) => grid.getByRole("columnheader").nth(1 + (new Date(`${day}T12:00:00+08:00`).getUTCDay() + 6) % 7);
  await expect(header(seed.grid.holiday)).toContainText("宫庆 放假");
  await expect(header(seed.grid.workday)).toContainText("调休上班（按周五）");

  await menu.getByRole("link", { name: "场地关闭" }).click(); // the site and room chosen on the grid stay chosen
  await page.getByLabel("开始").fill(`${seed.grid.day} 18:00`);
  await page.getByLabel("开始").press("Enter");
  await page.getByLabel("结束").fill(`${seed.grid.day} 20:00`);
  await page.getByLabel("结束").press("Enter");
  await page.getByLabel("原因").fill("舞台灯光检修");
  await page.getByRole("button", { name: "关闭", exact: true }).click();
  await expect(page.getByRole("heading", { name: "现有的关闭" })).toBeVisible();
  const listed = page.getByRole("row").filter({ hasText: "舞台灯光检修" }).last();
  await expect(listed).toContainText(seed.grid.room);
  await screen(page, "console-closures-listed");
  await listed.getByRole("button", { name: "修改" }).click(); // the lights need an hour longer
  const change = page.getByRole("dialog", { name: "修改关闭" });
  await change.getByLabel("结束").fill(`${seed.grid.day} 21:00`);
  await change.getByLabel("结束").press("Enter");
  await change.getByLabel("原因").fill("舞台灯光检修延期");
  await change.getByRole("button", { name: "保存", exact: true }).click();
  await expect(page.getByText("关闭已修改，本次取消预约 0 个。")).toBeVisible();
  await expect(change).toBeHidden();

  await menu.getByRole("link", { name: "场地周历" }).click();
  await expect(row).toContainText("18:00–21:00关闭舞台灯光检修延期");
  await expect(page.getByRole("img", { name: /柱状图：.*各场地开放时间中已预约的比例/ })).toBeVisible();
  await expect(page.getByRole("region", { name: /各场地使用率/ }).getByRole("row").filter({ hasText: seed.grid.room })).toContainText("%");
  await screen(page, "console-rooms-week");

  await row.getByRole("button", { name: "设置" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("容纳人数").fill("0");
  await dialog.getByRole("button", { name: "保存设置" }).click();
  await expect(dialog.locator(".el-form-item.is-error")).toContainText("容纳人数"); // the API's reason, by its field
  await dialog.getByLabel("容纳人数").fill("180");
  await dialog.getByLabel("每人每周最多预约次数").fill("3");
  await dialog.getByText("全天开放", { exact: true }).click(); // open on Mondays only, 08:00-22:00
  // each time from the list its own select opens (aria-controls): the opening list may still be fading
  // out when the closing one opens, and both offer 22:00
  for (const [name, time] of [["周一开门", "08:00"], ["周一关门", "22:00"]]) {
    const select = dialog.getByRole("combobox", { name });
    await select.click({ force: true });
    await page.locator(`[id="${await select.getAttribute("aria-controls")}"]`).getByRole("option", { name: time, exact: true }).click();
  }
  await screen(page, "console-room-settings");
  await dialog.getByRole("button", { name: "保存设置" }).click();
  await expect(page.getByText(`已保存“${seed.grid.room}”的设置。`)).toBeVisible();
  await expect(dialog).toBeHidden();
  await expect(row).toContainText("180 人");
  await expect(row).toContainText("开放 14 小时"); // the week's utilisation, read again against the new hours
});

test("a divisible hall's week: a half's booking shows the whole as taken, and the whole's each half", async ({ page, context }) => {
  await signedIn(context, seed.manager);
  await page.goto("/console/rooms/week");
  await page.getByRole("combobox", { name: "场所" }).click({ force: true });
  await page.getByRole("option", { name: seed.site }).click();
  const weeks = Math.round((mondayOf(seed.grid.day) - mondayOf(shanghaiDay(0))) / (7 * 86_400_000));
  for (let i = 0; i < weeks; i++) await page.getByRole("button", { name: "下一周" }).click();
  const grid = page.locator("table.grid");
  const room = (name: string) => grid.getByRole("row").filter({ has: page.locator(".name").getByText(name, { exact: true }) });
  const day = (name: string) => room(name).getByRole("cell").nth((new Date(`${seed.grid.day}T12:00:00+08:00`).getUTCDay() + 6) % 7);
  const { whole, east, west, half_title: match, whole_title: congress } = seed.hall;

  // the site's week: the east half's match under the whole hall too, the hall's congress under both halves
  await expect(day(east)).toContainText(`14:00–16:00${match}`);
  await expect(day(whole)).toContainText(`14:00–16:00已占用（${east}）${match}`);
  await expect(day(whole)).toContainText(`19:00–20:30${congress}`);
  await expect(day(east)).toContainText(`19:00–20:30已占用（${whole}）${congress}`);
  await expect(day(west)).toContainText(`19:00–20:30已占用（${whole}）${congress}`);
  await expect(day(west)).not.toContainText(match); // the other half stays free that afternoon
  await screen(page, "console-rooms-week-divisible", { axe: false });

  // the whole hall alone: the half's booking is read with it
  await page.getByRole("combobox", { name: "场地", exact: true }).click({ force: true });
  await page.getByRole("option", { name: whole, exact: true }).click();
  await expect(grid.getByRole("row")).toHaveCount(2); // the days' header and the hall
  await expect(day(whole)).toContainText(`14:00–16:00已占用（${east}）${match}`);
  await expect(day(whole)).toContainText(`19:00–20:30${congress}`);
  // the west half alone: taken by the whole's congress only
  await page.getByRole("combobox", { name: "场地", exact: true }).click({ force: true });
  await page.getByRole("option", { name: west, exact: true }).click();
  await expect(day(west)).toContainText(`19:00–20:30已占用（${whole}）${congress}`);
  await expect(day(west)).not.toContainText(match);
});
