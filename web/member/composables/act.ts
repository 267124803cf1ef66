// A button's action: busy while it runs, a toast saying it worked or, in the member's words, why not.
import { ref } from "vue";
import { showSuccessToast } from "vant";
import { useProblem } from "./problem";

export function useAct() {
  const busy = ref<string | null>(null);
  const { toast } = useProblem();

  async function act(name: string, action: () => Promise<unknown>, done?: string): Promise<boolean> {
    if (busy.value) return false;
    busy.value = name;
    try {
      await action();
      if (done) showSuccessToast(done);
      return true;
    } catch (error) {
      toast(error);
      return false;
    } finally {
      busy.value = null;
    }
  }

  return { busy, act };
}
