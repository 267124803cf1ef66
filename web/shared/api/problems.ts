// An answer that is not a success, as the screens need it: the problem type's last part (a stable
// slug the catalogues translate), the server's own detail, and the field errors by field name.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
    readonly fields: Record<string, string[]> = {},
  ) {
    super(detail || slug);
  }
}

interface Problem {
  type?: string;
  detail?: string;
  errors?: Record<string, unknown>;
}

function flatten(errors: Record<string, unknown> | undefined, prefix = ""): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(errors ?? {})) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (Array.isArray(value)) out[key] = value.map(String);
    else if (value && typeof value === "object") Object.assign(out, flatten(value as Record<string, unknown>, key));
    else out[key] = [String(value)];
  }
  return out;
}

export function problemOf(response: Response, body: unknown): ApiError {
  const problem = (body && typeof body === "object" ? body : {}) as Problem;
  const slug = (problem.type ?? "").split("/").pop() || `http-${response.status}`;
  return new ApiError(response.status, slug, problem.detail ?? "", flatten(problem.errors));
}

/** The data of an openapi-fetch answer, or an ApiError (a network failure is the slug "network"). */
export async function call<T>(answer: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await answer;
  } catch (failure) {
    throw new ApiError(0, "network", String(failure));
  }
  if (result.error !== undefined || !result.response.ok) throw problemOf(result.response, result.error);
  return result.data as T;
}
