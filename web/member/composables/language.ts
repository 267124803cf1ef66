// The app's language: zh-CN comes with the first load; English is fetched the first time it is chosen.
// Vant's own words (its buttons, loading text) follow.
import { Locale } from "vant";
import zhCN from "vant/es/locale/lang/zh-CN";
import { saveLanguage, type Language, type LanguageSwitch } from "@shared/i18n";

export async function useVantLanguage(language: string) {
  if (language === "en") {
    const { default: enUS } = await import("vant/es/locale/lang/en-US");
    Locale.use("en-US", enUS);
  } else {
    Locale.use("zh-CN", zhCN);
  }
}

export async function switchLanguage(i18n: LanguageSwitch, language: Language) {
  if (!i18n.availableLocales.includes(language)) {
    i18n.setLocaleMessage(language, (await import("../locales/en.json")).default);
  }
  await useVantLanguage(language);
  i18n.locale.value = language;
  saveLanguage(language);
}
