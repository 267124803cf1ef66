// The time now, ticking once a second while the page is open (offer countdowns).
import { onBeforeUnmount, ref } from "vue";

export function useNow() {
  const now = ref(Date.now());
  const timer = setInterval(() => (now.value = Date.now()), 1000);
  onBeforeUnmount(() => clearInterval(timer));
  return now;
}
