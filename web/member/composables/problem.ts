// A refusal or failure in the member's language: the problem type's own sentence from the catalogue,
// or (for a type the app does not know yet) the server's detail under a general sentence.
import { useI18n } from "vue-i18n";
import { showFailToast } from "vant";
import { asApiError } from "@shared/load";

export function useProblem() {
  const { t, te } = useI18n();

  function say(failure: unknown): string {
    const problem = asApiError(failure);
    if (problem.slug === "network") return t("problems.network");
    const key = `problems.${problem.slug}`;
    if (te(key)) return t(key);
    return problem.detail ? t("problems.other", { detail: problem.detail }) : t("problems.unknown");
  }

  /** The server's reasons by field name, for the form fields to show under themselves. */
  function fields(failure: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, reasons] of Object.entries(asApiError(failure).fields)) out[name] = reasons.join("; ");
    return out;
  }

  function toast(failure: unknown) {
    showFailToast({ message: say(failure), duration: 4000 });
  }

  return { say, fields, toast };
}
