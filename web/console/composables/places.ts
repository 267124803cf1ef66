// The sites and rooms, read once a session for pickers and for names in tables.
import { defineStore } from "pinia";
import { ref } from "vue";
import { api, type Schemas } from "@shared/api/client";
import { call } from "@shared/api/problems";

export const usePlaces = defineStore("places", () => {
  const sites = ref<Schemas["Site"][]>([]);
  const rooms = ref<Schemas["Room"][]>([]);
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= Promise.all([
      call(api.GET("/v1/sites", { params: { query: { limit: 200 } } })),
      call(api.GET("/v1/rooms", { params: { query: { limit: 200 } } })),
    ]).then(([s, r]) => {
      sites.value = s;
      rooms.value = r;
    }).catch((failure) => {
      loading = null;
      throw failure;
    });
    return loading;
  }

  const siteName = (id?: string | null) => sites.value.find((s) => s.id === id)?.name ?? "";
  const roomName = (id?: string | null) => rooms.value.find((r) => r.id === id)?.name ?? "";
  return { sites, rooms, load, siteName, roomName };
});
