// The welfare programmes (public, read once a session): names, SLA hours and approval policies.
import { defineStore } from "pinia";
import { ref, watch } from "vue";
import { useI18n } from "vue-i18n";
import { api, type Schemas } from "@shared/api/client";
import { call } from "@shared/api/problems";

export const OPEN_CASE = ["submitted", "under_review"];

export const useProgrammes = defineStore("programmes", () => {
  const all = ref<Schemas["Programme"][]>([]);
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= call(api.GET("/v1/welfare/programmes")).then((found) => {
      all.value = found;
    }).catch((failure) => {
      loading = null;
      throw failure;
    });
    return loading;
  }

  const find = (code: string) => all.value.find((p) => p.code === code);
  return { all, load, find };
});

/** A programme's name in the clerk's language: the catalogue's by its code (the API's names are one
 * language's), else the API's name, else the code. */
export function useProgrammeName() {
  const { t, te } = useI18n();
  const programmes = useProgrammes();
  return (code: string | null | undefined): string => {
    if (!code) return "";
    return te(`programmes.${code}`) ? t(`programmes.${code}`) : programmes.find(code)?.name ?? code;
  };
}

/** The fund or programme a welfare screen shows: the programmes read for the choice's names (a name not
 * read is a courtesy lost, the code stands in), and choosing another reloads what the screen shows. */
export function useChoice(initial: string, reload: (chosen: string) => unknown) {
  const programmes = useProgrammes();
  void programmes.load().catch(() => undefined);
  const chosen = ref(initial);
  watch(chosen, (value) => void reload(value));
  return { programmes, chosen };
}

/** The SLA clock of an open case: hours left (negative once overdue), from its last change of state. */
export function hoursLeft(since: string, slaHours: number, now: number): number {
  return slaHours - (now - new Date(since).getTime()) / 3_600_000;
}
