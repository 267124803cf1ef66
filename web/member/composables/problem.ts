// The shared wording of problems, and the member app's way of showing one: a toast.
import { showFailToast } from "vant";
import { useProblem as useWording } from "@shared/problem";

export function useProblem() {
  const wording = useWording();

  function toast(failure: unknown) {
    showFailToast({ message: wording.say(failure), duration: 4000 });
  }

  return { ...wording, toast };
}
