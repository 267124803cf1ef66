// A gzip copy beside each text file of the build (the gateway sends it to browsers that accept gzip),
// so no server compresses the same bytes on every request.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync, constants } from "node:zlib";

const TEXT = /\.(js|mjs|css|html|svg|json|txt|webmanifest)$/;
const dist = new URL("../dist/", import.meta.url).pathname;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (TEXT.test(entry.name)) yield path;
  }
}

for await (const path of files(dist)) {
  const data = await readFile(path);
  if (data.length < 512) continue;
  await writeFile(`${path}.gz`, gzipSync(data, { level: constants.Z_BEST_COMPRESSION }));
}
