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

export function setupI18n(messages: Record<Language, Catalogue>) {
  const locale = savedLanguage();
  document.documentElement.lang = locale;
  return createI18n({
    legacy: false,
    locale,
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

/** The catalogue's text for a key, outside a component (vue-i18n's own types are too deep for TypeScript here). */
export function translator(i18n: { global: unknown }): (key: string) => string {
  const global = i18n.global as { t: (key: string) => string };
  return (key) => global.t(key);
}
