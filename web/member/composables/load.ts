// What a screen shows while its data comes: loading, then the data or the reason it did not come.
import { ref, type Ref } from "vue";
import { ApiError } from "@shared/api/problems";

export function asApiError(failure: unknown): ApiError {
  return failure instanceof ApiError ? failure : new ApiError(0, "app-error", String(failure));
}

export function useLoad<T>(loader: () => Promise<T>, immediate = true) {
  const data = ref<T>() as Ref<T | undefined>;
  const loading = ref(false);
  const error = ref<ApiError | null>(null);

  async function reload() {
    loading.value = true;
    error.value = null;
    try {
      data.value = await loader();
    } catch (failure) {
      error.value = asApiError(failure);
    } finally {
      loading.value = false;
    }
  }

  if (immediate) void reload();
  return { data, loading, error, reload };
}
