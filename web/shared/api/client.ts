// The typed API client: openapi-fetch over the paths of palace's own API document. Every request goes
// through `send`, which adds the member's access token, renews it once on a 401 (refresh-token
// rotation), and retries a request that is safe to repeat (a GET, or one with an Idempotency-Key)
// after a 503, waiting as long as the answer's Retry-After says.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];

/** What the client needs of the signed-in session (shared/auth/session.ts provides it). */
export interface SessionHooks {
  accessToken(): Promise<string | null>;
  renew(): Promise<boolean>;
  expired(): void;
}

let session: SessionHooks = {
  accessToken: async () => null,
  renew: async () => false,
  expired: () => undefined,
};

export function useSession(hooks: SessionHooks) {
  session = hooks;
}

export const MOST_TRIES = 4;
const LONGEST_WAIT_MS = 10_000;

export function retryAfterMs(response: Response): number {
  const seconds = Number(response.headers.get("Retry-After"));
  return Math.min(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000, LONGEST_WAIT_MS);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function signed(request: Request): Promise<{ response: Response; token: string | null }> {
  const token = await session.accessToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  return { response: await fetch(request), token };
}

/** One request with the session's token; a 401 renews the token once and tries again. */
async function authorised(request: Request): Promise<Response> {
  const { response, token } = await signed(request.clone());
  if (response.status !== 401 || !token) return response;
  if (await session.renew()) {
    const again = await signed(request.clone());
    if (again.response.status !== 401) return again.response;
  }
  session.expired();
  return response;
}

export async function send(request: Request): Promise<Response> {
  const repeatable = request.method === "GET" || request.headers.has("Idempotency-Key");
  for (let attempt = 1; ; attempt++) {
    const response = await authorised(request);
    if (response.status !== 503 || !repeatable || attempt >= MOST_TRIES) return response;
    await pause(retryAfterMs(response));
  }
}

// JSON answers only: a list that also answers as a spreadsheet (text/csv, .xlsx) keeps its JSON type here
export const api = createClient<paths, "application/json">({ baseUrl: "", fetch: send });

/** A client without the session, for signing in and renewing the token itself. */
export const publicApi = createClient<paths, "application/json">({ baseUrl: "" });
