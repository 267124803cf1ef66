// The shared wording of problems, and the member app's ways of showing one: a toast, or a form's
// failure line and its fields' notes.
import { ref } from "vue";
import { showFailToast } from "vant";
import { useProblem as useWording } from "@shared/problem";

export function useProblem() {
  const wording = useWording();

  function toast(failure: unknown) {
    showFailToast({ message: wording.say(failure), duration: 4000 });
  }

  return { ...wording, toast };
}

/** A form's sending: busy while it goes; if it fails, the reason in words (`explain` may word a
 * failure its own way) and the server's notes by field. The action's own outcome is the caller's. */
export function useSubmit(explain?: (failure: unknown) => string | null) {
  const { say, fields } = useProblem();
  const busy = ref(false);
  const failure = ref("");
  const fieldErrors = ref<Record<string, string>>({});

  async function attempt(action: () => Promise<unknown>): Promise<boolean> {
    busy.value = true;
    failure.value = "";
    fieldErrors.value = {};
    try {
      await action();
      return true;
    } catch (error) {
      failure.value = explain?.(error) ?? say(error);
      fieldErrors.value = fields(error);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, failure, fieldErrors, attempt };
}
