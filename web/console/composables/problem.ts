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
