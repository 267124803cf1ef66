// How many messages the member has not read, for the tab bar and the home page.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api } from "@shared/api/client";
import { call } from "@shared/api/problems";

const PAGE = 200;

export const useUnread = defineStore("unread", () => {
  const count = ref(0);
  const label = computed(() => (count.value >= PAGE ? `${PAGE - 1}+` : String(count.value)));

  async function refresh() {
    try {
      const unread = await call(api.GET("/v1/me/notifications", { params: { query: { unread: true, limit: PAGE } } }));
      count.value = unread.length;
    } catch {
      // the count is a hint: the inbox itself says what went wrong
    }
  }

  return { count, label, refresh };
});
