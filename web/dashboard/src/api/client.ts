// The app's API client: @switchboard/client on the page's origin, with the session cookie and
// the in-memory CSRF token on unsafe methods.
import { createSwitchboardClient, problemOf, type Problem } from "@switchboard/client";
import { ApiError, currentCsrfToken } from "./session";

export const sb = createSwitchboardClient({ baseUrl: "", csrfToken: () => currentCsrfToken() });

/** Unwraps an openapi-fetch result: its data, or throws ApiError with the problem. */
export async function must<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (e) {
    throw new ApiError({ type: "about:blank", title: "Network error", status: 0, detail: String(e) });
  }
  const { data, error, response } = result;
  if (error !== undefined || !response.ok) {
    const retry = response.headers.get("Retry-After");
    throw new ApiError(problemOf(error, response), retry && /^\d+$/.test(retry) ? Number(retry) : null);
  }
  return data as T;
}

export function toProblem(e: unknown): Problem {
  if (e instanceof ApiError) return e.problem;
  return { type: "about:blank", title: "Error", status: 0, detail: e instanceof Error ? e.message : String(e) };
}
