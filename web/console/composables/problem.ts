// A refusal or failure in the clerk's language: the problem type's own sentence from the catalogue, or
// (for a type the console does not know yet) the server's detail under a general sentence.
import { ref } from "vue";
import { useI18n } from "vue-i18n";
import { ElMessage } from "element-plus";
import { asApiError } from "@shared/load";

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

  /** The server's reasons by field name, for the form to show under its fields. */
  function fields(failure: unknown): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, reasons] of Object.entries(asApiError(failure).fields)) out[name] = reasons.join("; ");
    return out;
  }

  return { say, fields };
}

/** A button's action: busy while it runs, a message saying it worked or, in words, why not. */
export function useAct() {
  const busy = ref<string | null>(null);
  const { say } = useProblem();

  async function act(name: string, action: () => Promise<unknown>, done?: string): Promise<boolean> {
    if (busy.value) return false;
    busy.value = name;
    try {
      await action();
      if (done) ElMessage({ type: "success", message: done, duration: 3000 });
      return true;
    } catch (failure) {
      ElMessage({ type: "error", message: say(failure), duration: 6000, showClose: true });
      return false;
    } finally {
      busy.value = null;
    }
  }

  return { busy, act };
}
