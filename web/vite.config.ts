// One Vite project for the web apps: each app is a page of a multi-page build. The member app's page is
// index.html (served at /); an app in a folder of its own with an index.html (console/ -> /console/) is
// picked up by itself. Vant components are imported on demand (with their styles) as templates use them.
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath, URL } from "node:url";
import vue from "@vitejs/plugin-vue";
import { VantResolver } from "@vant/auto-import-resolver";
import Components from "unplugin-vue-components/vite";
import { defineConfig, type Plugin } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));
const pages: Record<string, string> = { member: `${here}index.html` };
const NOT_APPS = new Set(["dist", "node_modules", "public", "shared", "scripts"]);
for (const folder of readdirSync(here, { withFileTypes: true })) {
  if (folder.isDirectory() && !NOT_APPS.has(folder.name) && existsSync(`${here}${folder.name}/index.html`)) {
    pages[folder.name] = `${here}${folder.name}/index.html`;
  }
}

// Vant's icon font comes inline (woff2) with a fallback on a CDN: a palace on an intranet must not reach
// for the internet, and its pages' Content-Security-Policy would refuse it anyway.
function noFontCdn(): Plugin {
  return {
    name: "palace-no-font-cdn",
    enforce: "pre",
    transform(code, id) {
      if (!id.includes("vant/es/icon/index.css")) return null;
      return code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\("woff"\)/g, "");
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [
    noFontCdn(),
    vue(),
    Components({ resolvers: [VantResolver()], dirs: [], dts: "member/components.d.ts" }),
  ],
  resolve: { alias: { "@shared": fileURLToPath(new URL("./shared", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    chunkSizeWarningLimit: 300,
    // the timings rolldown prints of slow plugins are for profiling a build, not for every build
    rolldownOptions: { input: pages, checks: { bundlerTimings: false } },
  },
  server: { proxy: { "/v1": "http://127.0.0.1:8000", "/openapi.json": "http://127.0.0.1:8000" } },
});
