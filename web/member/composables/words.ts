// Names of things the API gives as codes (statuses, categories, programmes), in the member's language.
// A code the catalogues do not know yet is shown as the API gave it.
import { useI18n } from "vue-i18n";

export function useWords() {
  const { t, te } = useI18n();
  const named = (group: string, code: string | null | undefined) =>
    code ? (te(`${group}.${code}`) ? t(`${group}.${code}`) : code) : "";
  return {
    category: (code?: string | null) => named("categories", code),
    status: (code?: string | null) => named("statuses", code),
    bookingStatus: (code?: string | null) => named("bookingStatuses", code),
    caseState: (code?: string | null) => named("caseStates", code),
    programme: (code?: string | null) => named("programmes", code),
    document: (code?: string | null) => named("documentKinds", code),
    feature: (code?: string | null) => named("features", code),
    named,
  };
}
