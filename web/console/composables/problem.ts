// The shared wording of problems (web/shared/problem.ts), and the console's way of acting on one.
import { ref } from "vue";
import { ElMessage } from "element-plus";
import { useProblem } from "@shared/problem";

export { useProblem };

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

/** A form that sends once at a time: busy while it goes; if it fails, the reason in words above the
 * form and the server's reasons under their fields (`err`). Checks made before sending set `errors`. */
export function useForm() {
  const { say, fields } = useProblem();
  const busy = ref(false);
  const failure = ref("");
  const errors = ref<Record<string, string>>({});
  const err = (name: string) => errors.value[name] ?? "";

  async function send(action: () => Promise<unknown>): Promise<boolean> {
    if (busy.value) return false;
    busy.value = true;
    failure.value = "";
    try {
      await action();
      return true;
    } catch (error) {
      errors.value = fields(error);
      failure.value = say(error);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, failure, errors, err, send };
}
