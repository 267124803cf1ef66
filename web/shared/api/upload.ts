// A file sent as the body of a request, with its progress (fetch cannot report an upload's progress,
// XMLHttpRequest can). The same session rules as the API client: the token, one renewal on a 401.
import { ApiError, problemOf } from "./problems";
import type { SessionHooks } from "./client";

export interface Upload {
  url: string;
  file: Blob;
  idempotencyKey: string;
  onProgress?: (percent: number) => void;
}

function post(upload: Upload, token: string | null): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.setRequestHeader("Content-Type", upload.file.type || "application/octet-stream");
    xhr.setRequestHeader("Idempotency-Key", upload.idempotencyKey);
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) upload.onProgress?.(Math.round((100 * event.loaded) / event.total));
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload did not reach the server"));
    xhr.send(upload.file);
  });
}

export async function uploadFile<T>(upload: Upload, session: SessionHooks): Promise<T> {
  let answer = await post(upload, await session.accessToken());
  if (answer.status === 401 && (await session.renew())) answer = await post(upload, await session.accessToken());
  if (answer.status === 401) session.expired();
  if (answer.status >= 200 && answer.status < 300) return answer.body as T;
  throw problemOf(new Response(null, { status: answer.status }), answer.body);
}
