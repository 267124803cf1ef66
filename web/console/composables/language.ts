// The console's language: zh-CN comes with the first load; English is fetched the first time it is
// chosen. Element Plus's own words (pagination, date pickers, empty tables) follow.
import { shallowRef } from "vue";
import zhCn from "element-plus/es/locale/lang/zh-cn";
import en from "element-plus/es/locale/lang/en"; // Element Plus holds it already (its fallback)
import { saveLanguage, type Language, type LanguageSwitch } from "@shared/i18n";

type KitLocale = typeof zhCn;
export const kitLocale = shallowRef<KitLocale>(zhCn);

export async function switchLanguage(i18n: LanguageSwitch, language: Language) {
  if (!i18n.availableLocales.includes(language)) {
    i18n.setLocaleMessage(language, (await import("../locales/en.json")).default);
  }
  kitLocale.value = language === "en" ? en : zhCn;
  i18n.locale.value = language;
  saveLanguage(language);
}
