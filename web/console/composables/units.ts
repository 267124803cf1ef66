// The units a screen may name: an admin reads them all and a unit administrator their own (GET /v1/units);
// a welfare officer may not list units, so the units they see are those on the roster in front of them.
import { ref } from "vue";
import { api } from "@shared/api/client";
import { call } from "@shared/api/problems";

export function useUnits(mayList: boolean) {
  const names = ref<Record<string, string>>({});

  async function load() {
    if (!mayList) return;
    const found = await call(api.GET("/v1/units", { params: { query: { limit: 200 } } })).catch(() => []);
    names.value = Object.fromEntries(found.map((u) => [u.id ?? "", u.name ?? ""]));
  }

  /** A unit's name, or (for an officer, who cannot read names) the first part of its id. */
  const label = (id?: string | null) => (id ? names.value[id] || id.slice(0, 8) : "");
  const known = (also: (string | null | undefined)[] = []) =>
    [...new Set([...Object.keys(names.value), ...also.filter((u): u is string => !!u)])];
  return { names, load, label, known };
}
