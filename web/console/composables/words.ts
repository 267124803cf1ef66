// A value's words from a catalogue group (a state, a priority), or the value itself when the catalogue
// has none; nothing for no value (Element Plus renders a table column's cells once with an empty row
// to find nested columns).
import { useI18n } from "vue-i18n";

export function useWords() {
  const { t, te } = useI18n();
  return (group: string, value: string | null | undefined): string => {
    if (!value) return "";
    return te(`${group}.${value}`) ? t(`${group}.${value}`) : value;
  };
}
