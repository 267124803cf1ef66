// One Vite project for the web apps: each app is a page of a multi-page build. The member app's page is
// index.html (served at /); an app in a folder of its own with an index.html (console/ -> /console/) is
// picked up by itself. Vant components (member app) and Element Plus components (console) are imported on
// demand, with their styles, as templates use them.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fileURLToPath, URL } from "node:url";
import { baseCompile } from "@intlify/message-compiler";
import vue from "@vitejs/plugin-vue";
import { VantResolver } from "@vant/auto-import-resolver";
import { ElementPlusResolver } from "unplugin-vue-components/resolvers";
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

// Vant's icon font comes inline (a 25 KB woff2 in base64) with a fallback on a CDN. A palace on an intranet
// must not reach for the internet (its pages' Content-Security-Policy would refuse it anyway), and inline
// the font was most of the render-blocking CSS a phone fetches before the first course shows, beside the
// scripts on the same slow line: it goes to a file of its own (hashed, cached for good), fetched only when
// a page draws an icon, after the text is on screen.
const ICON_CSS = "vant/es/icon/index.css";
const INLINE_FONT = /url\(data:font\/woff2;charset=utf-8;base64,([A-Za-z0-9+/=]+)\)/;
function iconFontFile(): Plugin {
  return {
    name: "palace-icon-font-file",
    enforce: "pre",
    transform(code, id) {
      if (!id.includes(ICON_CSS)) return null;
      const noCdn = code.replace(/,\s*url\(\/\/at\.alicdn\.com[^)]*\)\s*format\("woff"\)/g, "");
      const font = INLINE_FONT.exec(noCdn);
      if (!font) return noCdn;
      const folder = `${here}node_modules/.palace`;
      mkdirSync(folder, { recursive: true });
      writeFileSync(`${folder}/vant-icon.woff2`, Buffer.from(font[1], "base64"));
      // a path from the stylesheet itself: Vite emits the file and writes its hashed address here
      return noCdn.replace(INLINE_FONT, `url(${relative(dirname(id.split("?")[0]), folder)}/vant-icon.woff2)`);
    },
  };
}

// The i18n catalogues compiled when the app is built, not on the phone: vue-i18n then runs without its
// message compiler (__INTLIFY_DROP_MESSAGE_COMPILER__), a part of the first load's script a phone parses
// and runs before the first page. Each text becomes the message AST vue-i18n's JIT compiler would make of
// it; the file stays JSON for Vite to load.
type Catalogue = string | Catalogue[] | { [key: string]: Catalogue };
function compiled(value: Catalogue): unknown {
  if (typeof value === "string") return baseCompile(value, { jit: true, location: false }).ast;
  if (Array.isArray(value)) return value.map(compiled);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, compiled(inner)]));
}
function precompiledCatalogues(): Plugin {
  return {
    name: "palace-precompiled-catalogues",
    enforce: "pre",
    transform(code, id) {
      if (!/\/locales\/[^/]+\.json$/.test(id.split("?")[0])) return null;
      return { code: JSON.stringify(compiled(JSON.parse(code))), map: null };
    },
  };
}

export default defineConfig({
  base: "/",
  plugins: [
    iconFontFile(),
    precompiledCatalogues(),
    vue(),
    // the console's first: a file one instance has transformed is skipped by the next
    Components({ resolvers: [ElementPlusResolver({ importStyle: "css" })], dirs: [], dts: "console/components.d.ts",
      include: [new RegExp(`^${here.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}console/.*\\.vue`)] }),
    Components({ resolvers: [VantResolver()], dirs: [], dts: "member/components.d.ts" }),
  ],
  // the parts of Vue and vue-i18n the apps do not use, left out (the Options API, devtools hooks, the
  // legacy i18n API and its components, the message compiler: see precompiledCatalogues): less script for a phone to parse before the first page
  define: {
    __VUE_OPTIONS_API__: "false",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    __VUE_I18N_LEGACY_API__: "false",
    __VUE_I18N_FULL_INSTALL__: "false",
    __INTLIFY_PROD_DEVTOOLS__: "false",
    __INTLIFY_DROP_MESSAGE_COMPILER__: "true",
  },
  resolve: { alias: { "@shared": fileURLToPath(new URL("./shared", import.meta.url)) } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2020",
    // ECharts' bar chart (about 500 kB, 165 kB gzipped; only the year report loads it, when it charts)
    // is the one chunk above the 300 kB this warned at; the bar sits just above it, so any other growth still warns
    chunkSizeWarningLimit: 520,
    // the timings rolldown prints of slow plugins are for profiling a build, not for every build
    rolldownOptions: { input: pages, checks: { bundlerTimings: false } },
  },
  server: { proxy: { "/v1": "http://127.0.0.1:8000", "/openapi.json": "http://127.0.0.1:8000" } },
});
