// A refusal or failure in the reader's language, in both apps: the problem type's own sentence from
// the app's catalogue or (for a type the app does not know yet) the server's detail under a general
// sentence; a refusal of an unknown type says the person may not, not the server's English.
import { useI18n } from "vue-i18n";
import { asApiError } from "./load";

export function useProblem() {
  const { t, te } = useI18n();

  function say(failure: unknown): string {
    const problem = asApiError(failure);
    if (problem.slug === "network") return t("problems.network");
    const key = `problems.${problem.slug}`;
    if (te(key)) return t(key);
    if (problem.status === 403) return t("problems.forbidden");
    return problem.detail ? t("problems.other", { detail: problem.detail }) : t("problems.unknown");
  }

  /** The server's reasons by field name, for a form to show under its fields. */
  function fields(failure: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, reasons] of Object.entries(asApiError(failure).fields)) out[name] = reasons.join("; ");
    return out;
  }

  return { say, fields };
}
