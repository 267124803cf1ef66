// Swagger UI for the gateway's /docs, from the pinned swagger-ui-dist package: its files are copied into
// dist/docs/ (a path the gateway never serves as a page), so /docs works with no internet and moves with
// package-lock.json like every other part of the web build. Only the three files the page loads.
import { copyFile, mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = new URL("../dist/docs/", import.meta.url).pathname;
await mkdir(target, { recursive: true });
for (const name of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) {
  await copyFile(join(source, name), join(target, name));
}
