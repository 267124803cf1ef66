// vue-i18n set up for every app: zh-CN first, en beside it, the choice kept on the phone. A key missing
// from a catalogue is logged as an error (the browser tests fail on it), never shown as a raw key silently.
import { createI18n } from "vue-i18n";

export const LANGUAGES = ["zh-CN", "en"] as const;
export type Language = (typeof LANGUAGES)[number];
const KEY = "palace.language";

export function savedLanguage(): Language {
  const saved = localStorage.getItem(KEY);
  return (LANGUAGES as readonly string[]).includes(saved ?? "") ? (saved as Language) : "zh-CN";
}

export function saveLanguage(language: Language) {
  localStorage.setItem(KEY, language);
  document.documentElement.lang = language;
}

// the catalogues are plain JSON; vue-i18n's own message types are stricter than JSON's
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Catalogue = Record<string, any>;

/** The catalogues given (the first language's always; others may come when chosen), in the first language. */
export function setupI18n(messages: Partial<Record<Language, Catalogue>>) {
  document.documentElement.lang = "zh-CN";
  return createI18n({
    legacy: false,
    locale: "zh-CN",
    fallbackLocale: false,
    messages,
    missingWarn: false,
    fallbackWarn: false,
    missing: (language: string, key: string) => {
      console.error(`[i18n] missing key "${key}" in ${language}`);
      return key;
    },
  });
}

/** What the apps need of vue-i18n's global composer to change language. */
export interface LanguageSwitch {
  locale: { value: string };
  availableLocales: string[];
  setLocaleMessage(language: string, messages: Catalogue): void;
}

export function languageSwitch(i18n: { global: unknown }): LanguageSwitch {
  return i18n.global as LanguageSwitch;
}

/** The catalogue's text for a key, outside a component (vue-i18n's own types are too deep for TypeScript here). */
export function translator(i18n: { global: unknown }): (key: string) => string {
  const global = i18n.global as { t: (key: string) => string };
  return (key) => global.t(key);
}
