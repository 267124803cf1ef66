// Vant's own words (its buttons, loading text) follow the app's language.
import { Locale } from "vant";
import zhCN from "vant/es/locale/lang/zh-CN";

export async function useVantLanguage(language: string) {
  if (language === "en") {
    const { default: enUS } = await import("vant/es/locale/lang/en-US");
    Locale.use("en-US", enUS);
  } else {
    Locale.use("zh-CN", zhCN);
  }
}
