// The signed-in member: tokens kept in localStorage, the access token renewed before it runs out and
// once after a 401, with the refresh token rotating (each renewal gives a new one and the old one stops
// working). Another tab of the same browser may have renewed first: its tokens are taken over instead
// of spending an already-used refresh token. When renewal is refused the session is over and the app
// sends the member to sign in, then back where they were.
import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { publicApi, useSession } from "../api/client";
import { call } from "../api/problems";

const KEY = "palace.session";
const EARLY_MS = 30_000; // renew this long before the access token expires

interface Tokens {
  access: string;
  refresh: string;
  expiresAt: number;
}

function stored(): Tokens | null {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? "null");
    return value && typeof value.access === "string" && typeof value.refresh === "string" ? value : null;
  } catch {
    return null;
  }
}

export const useAuth = defineStore("auth", () => {
  const tokens = ref<Tokens | null>(stored());
  const expiredAt = ref<number | null>(null); // set when a session ended without signing out
  const signedIn = computed(() => tokens.value !== null);
  let renewing: Promise<boolean> | null = null;

  function keep(answer: { access_token?: string; refresh_token?: string; expires_in?: number }) {
    tokens.value = {
      access: answer.access_token ?? "",
      refresh: answer.refresh_token ?? "",
      expiresAt: Date.now() + (answer.expires_in ?? 900) * 1000,
    };
    localStorage.setItem(KEY, JSON.stringify(tokens.value));
    expiredAt.value = null;
  }

  function forget() {
    tokens.value = null;
    localStorage.removeItem(KEY);
  }

  async function signIn(phone: string, password: string) {
    keep(await call(publicApi.POST("/v1/auth/token", { body: { phone, password } })));
  }

  function signOut() {
    forget();
    expiredAt.value = null;
  }

  async function renewNow(): Promise<boolean> {
    const latest = stored();
    if (latest && tokens.value && latest.refresh !== tokens.value.refresh) {
      tokens.value = latest; // another tab renewed: its tokens are the live ones
      if (latest.expiresAt - Date.now() > EARLY_MS) return true;
    }
    const refresh = tokens.value?.refresh;
    if (!refresh) return false;
    try {
      keep(await call(publicApi.POST("/v1/auth/token", { body: { refresh_token: refresh } })));
      return true;
    } catch (failure) {
      const status = (failure as { status?: number }).status ?? 0;
      if (status === 400 || status === 401 || status === 422) expire();
      return false;
    }
  }

  /** One renewal at a time: requests that meet a stale token together wait for the same one. */
  function renew(): Promise<boolean> {
    renewing ??= renewNow().finally(() => {
      renewing = null;
    });
    return renewing;
  }

  async function accessToken(): Promise<string | null> {
    if (!tokens.value) return null;
    if (tokens.value.expiresAt - Date.now() < EARLY_MS) await renew();
    return tokens.value?.access ?? null;
  }

  function expire() {
    if (tokens.value) expiredAt.value = Date.now();
    forget();
  }

  useSession({ accessToken, renew, expired: expire });
  return { tokens, signedIn, expiredAt, signIn, signOut, renew, accessToken, expire };
});
