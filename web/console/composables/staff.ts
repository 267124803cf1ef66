// The signed-in staff account (GET /v1/me): its name and roles, read once per session. The console
// is for staff; an account with only the member role is told so and signed out of the console.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api } from "@shared/api/client";
import { call, type ApiError } from "@shared/api/problems";
import type { Schemas } from "@shared/api/client";
import { useAuth } from "@shared/auth/session";
import { isStaff, mayOpen, type Screen } from "../access";

export const useStaff = defineStore("staff", () => {
  const account = ref<Schemas["Account"] | null>(null);
  const roles = computed(() => account.value?.roles ?? []);
  let reading: Promise<Schemas["Account"] | null> | null = null;

  /** The account, read once; null when no one is signed in or the session has ended. */
  function load(): Promise<Schemas["Account"] | null> {
    if (account.value) return Promise.resolve(account.value);
    if (!useAuth().signedIn) return Promise.resolve(null);
    reading ??= call(api.GET("/v1/me"))
      .then((me) => (account.value = me))
      .catch((failure: ApiError) => {
        if (failure.status === 401) return null;
        throw failure;
      })
      .finally(() => (reading = null));
    return reading;
  }

  function forget() {
    account.value = null;
  }

  const staff = computed(() => isStaff(roles.value));
  const may = (screen: Screen) => mayOpen(roles.value, screen);
  return { account, roles, staff, load, forget, may };
});
