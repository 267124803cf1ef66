// Journey 8: help. The programmes and who may apply; an application as a draft with the household's
// facts and documents from the phone (the 10 MB limit said first; a 20 MB photo and a PDF that is not one
// refused with a message), submitted and followed; counselling appointments; mutual-aid coverage and a claim
// with its papers uploaded from the phone the same way.
import { expect, screen, seed, signedIn, test } from "./fixtures";

test.beforeEach(async ({ context }) => signedIn(context, seed.member));

// the smallest real PNG: a 1x1 pixel
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");

test("the member applies for relief with documents from the phone and follows the case", async ({ page }) => {
  await page.goto("/help");
  await expect(page.getByText("困难职工帮扶")).toBeVisible();
  await expect(page.getByText("家庭月人均收入低于 ¥1,500.00")).toBeVisible();
  await expect(page.locator(".van-cell").filter({ hasText: "心理咨询" }).first()).toBeVisible();
  await screen(page, "70-help");

  await page.getByText("困难职工帮扶").click();
  await page.getByLabel("申请金额（元）").fill("800");
  await page.getByLabel("申请原因").fill("家人住院，医药费负担重");
  await page.getByLabel("家庭月收入（元）").fill("2400");
  await page.locator(".van-cell").filter({ hasText: "家庭人口" }).locator(".van-stepper__plus").click();
  await page.locator(".van-cell").filter({ hasText: "家庭人口" }).locator(".van-stepper__plus").click();
  await screen(page, "71-apply");
  await page.getByRole("button", { name: "保存草稿，下一步上传材料" }).click();

  await expect(page.getByRole("heading", { name: "申请详情" })).toBeVisible();
  await expect(page.getByTestId("case-state")).toHaveText("草稿");
  await expect(page.getByTestId("upload-limit")).toHaveText(/每个文件不超过 10 MB/);
  await expect(page.getByText("还需要：收入证明")).toBeVisible();

  const uploads: string[] = [];
  page.on("request", (r) => { if (r.url().includes("/documents")) uploads.push(r.url()); });
  const picker = page.locator("input[type=file]");
  await picker.evaluate((input: HTMLInputElement) => {  // a 20 MiB photo, as the phone's camera hands it over
    const picked = new DataTransfer();
    picked.items.add(new File([new Uint8Array(20 * 1024 * 1024).fill(0xff)], "photo.jpg", { type: "image/jpeg" }));
    input.files = picked.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  await expect(page.getByRole("alert")).toHaveText("文件超过 10 MB，不能上传，请压缩后再试。");
  expect(uploads, "a file over the limit is never sent").toEqual([]);
  await screen(page, "72-upload-too-large");

  await picker.setInputFiles({ name: "income.pdf", mimeType: "application/pdf", buffer: Buffer.from("this is not a PDF") });
  await expect(page.getByRole("alert")).toHaveText("只能上传 PDF、JPG 或 PNG 文件，这个文件不是。");
  await screen(page, "73-upload-not-a-pdf", { axe: false });

  // a phone's upload is slow: 400 KB at 1 Mbit/s shows its progress for a few seconds
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 50, downloadThroughput: -1, uploadThroughput: 128 * 1024 });
  await picker.setInputFiles({ name: "income.png", mimeType: "image/png", buffer: Buffer.concat([PNG, Buffer.alloc(400 * 1024)]) });
  await expect(page.getByRole("progressbar", { name: "上传进度" })).toBeVisible();
  await screen(page, "73b-upload-progress", { axe: false });
  await expect(page.getByText("上传成功")).toBeVisible({ timeout: 20_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect(page.locator(".van-cell").filter({ hasText: "income.png" })).toContainText("收入证明");
  await page.getByRole("button", { name: "提交申请" }).click();
  await expect(page.getByTestId("case-state")).toHaveText("已提交");
  await expect(page.getByText("创建申请")).toBeVisible();
  await screen(page, "74-case-submitted", { axe: false });
});

test("a decided case, a counselling appointment, the mutual-aid plan's cover and a claim", async ({ page }) => {
  await page.goto("/help");
  await page.locator(".van-cell").filter({ hasText: "法律援助" }).filter({ hasText: "已批准" }).click();
  await expect(page.getByTestId("case-state")).toHaveText("已批准");
  await expect(page.locator(".van-step").filter({ hasText: "已批准" })).toContainText("已安排法律援助律师，周三与您联系");
  await screen(page, "78-case-decided");

  await page.goto("/help");
  // the member's case (it has a state), not the programme: the two lists load in either order
  await page.locator(".van-cell").filter({ hasText: "心理咨询" }).filter({ has: page.locator(".van-tag") }).first().click();
  await expect(page.getByText("心理咨询预约")).toBeVisible();
  await expect(page.getByText(/\d+月\d+日 周[一二三四五六日] \d\d:\d\d–\d\d:\d\d/)).toBeVisible();
  await screen(page, "75-counselling-case");

  await page.goto("/help/mutual-aid");
  await expect(page.getByText(/\d{4} 年保障内容/)).toBeVisible();
  await expect(page.getByText("每天 ¥50.00")).toBeVisible();
  await page.getByRole("radio", { name: "意外伤害" }).click();
  await page.getByRole("radio", { name: "中度伤" }).click();
  await screen(page, "76-mutual-aid");
  await page.getByRole("button", { name: "提交补助申请" }).click();
  await expect(page.getByText("已提交补助申请")).toBeVisible();
  const claim = page.locator(".van-collapse-item").filter({ hasText: "意外伤害" });
  await expect(claim).toContainText("¥2,000.00");
  // the claim just filed is open, for its papers to follow
  await expect(claim).toContainText("accident benefit, moderate injury");
  const papers = claim.getByTestId("claim-documents");
  await expect(papers).toContainText("还没有上传材料");
  await expect(papers.getByTestId("upload-limit")).toHaveText(/每个文件不超过 10 MB/);
  await expect(papers.getByRole("radio", { name: "事故证明" })).toBeChecked();
  await screen(page, "77-claim");

  const picker = papers.locator("input[type=file]");
  const uploads: string[] = [];
  page.on("request", (r) => { if (r.url().includes("/documents")) uploads.push(r.url()); });
  await picker.evaluate((input: HTMLInputElement) => {  // a 20 MiB scan: refused before it is sent
    const picked = new DataTransfer();
    picked.items.add(new File([new Uint8Array(20 * 1024 * 1024).fill(0x25)], "scan.pdf", { type: "application/pdf" }));
    input.files = picked.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
  await expect(papers.getByRole("alert")).toHaveText("文件超过 10 MB，不能上传，请压缩后再试。");
  expect(uploads, "a file over the limit is never sent").toEqual([]);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 50, downloadThroughput: -1, uploadThroughput: 128 * 1024 });
  const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(400 * 1024, 0x20), Buffer.from("\n%%EOF\n")]);
  await picker.setInputFiles({ name: "accident.pdf", mimeType: "application/pdf", buffer: pdf });
  await expect(papers.getByRole("progressbar", { name: "上传进度" })).toBeVisible();
  await screen(page, "77b-claim-upload-progress", { axe: false });
  await expect(page.getByText("上传成功")).toBeVisible({ timeout: 20_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect(papers).toContainText("事故证明 · accident.pdf");
  expect(uploads.some((u) => u.includes("/v1/mutual-aid/claims/") && u.includes("kind=accident_report"))).toBe(true);
  await screen(page, "77c-claim-document", { axe: false });
});
