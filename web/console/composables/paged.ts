// A queue read a page at a time under filters (the welfare cases, the mutual-aid claims): another page
// is read when turned to; a changed filter goes back to page 1 and reads it once.
import { ref, watch } from "vue";
import { useLoad } from "@shared/load";

export function usePaged<T>(size: number, filters: object,
  read: (page: { limit: number; offset: number }) => Promise<{ items: T[]; total: number | null }>) {
  const pageNo = ref(1);
  const list = useLoad(() => read({ limit: size, offset: (pageNo.value - 1) * size }));
  watch(pageNo, () => list.reload());
  watch(filters, () => (pageNo.value === 1 ? list.reload() : (pageNo.value = 1)));
  return { ...list, pageNo };
}
