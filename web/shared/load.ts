// What a screen shows while its data comes, in both apps: loading, then the data or the reason it did
// not come (a 403 among them: the screen says so, it is never left blank).
import { ref, type Ref } from "vue";
import { ApiError, call } from "./api/problems";

export function asApiError(failure: unknown): ApiError {
  return failure instanceof ApiError ? failure : new ApiError(0, "app-error", String(failure));
}

export function useLoad<T>(loader: () => Promise<T>, immediate = true) {
  const data = ref<T>() as Ref<T | undefined>;
  const loading = ref(false);
  const error = ref<ApiError | null>(null);

  // only the latest load's answer is kept: an earlier one arriving after it (last week's, when the
  // clerk clicked on to the next) would otherwise show the wrong data
  let latest = 0;
  async function reload() {
    const mine = ++latest;
    loading.value = true;
    error.value = null;
    try {
      const answer = await loader();
      if (mine === latest) data.value = answer;
    } catch (failure) {
      if (mine === latest) error.value = asApiError(failure);
    } finally {
      if (mine === latest) loading.value = false;
    }
  }

  if (immediate) void reload();
  return { data, loading, error, reload };
}

/** A page of a list with the count of all (X-Total-Count), or an ApiError. */
export async function listed<T>(answer: Promise<{ data?: T[]; error?: unknown; response: Response }>): Promise<{ items: T[]; total: number | null }> {
  const items = await call(answer);
  const response = (await answer).response;
  const total = response.headers.get("X-Total-Count");
  return { items, total: total === null ? null : Number(total) };
}
