// The HTTP API client (`/api/v2`, same origin), written once for every page. Errors arrive as
// `application/problem+json` (docs/protocol.md; `picket_edge::problem::CODES`): they become an
// `ApiError` carrying the stable `code`, which `errors.ts` turns into a message in the page's
// language. Ids are decimal strings on the wire and stay strings here (JavaScript numbers are
// exact only to 2^53).

export const API_BASE = "/api/v2";

/** One invalid field of a 422 `invalid_request`. */
export interface FieldError {
  field: string;
  message: string;
}

/** A problem the server answered (or `network` when no answer came). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: FieldError[];
  /** Seconds the server asked to wait (429/503 `Retry-After`), when it said. */
  readonly retryAfterSec: number | null;

  constructor(status: number, code: string, detail: string, errors: FieldError[] = [], retryAfterSec: number | null = null) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.retryAfterSec = retryAfterSec;
  }
}

/** Where the signed-in token lives: the member's session, or a guest's token. */
export type Credential = { kind: "member" | "guest"; token: string } | null;

const CREDENTIAL_KEY = "picket.credential";

export function loadCredential(): Credential {
  try {
    const raw = localStorage.getItem(CREDENTIAL_KEY);
    return raw ? (JSON.parse(raw) as Credential) : null;
  } catch {
    return null;
  }
}

export function saveCredential(credential: Credential): void {
  if (credential) localStorage.setItem(CREDENTIAL_KEY, JSON.stringify(credential));
  else localStorage.removeItem(CREDENTIAL_KEY);
}

export interface RequestOptions {
  /** Overrides the stored credential (the staff scanner keeps its own). */
  token?: string | null;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

/** Calls `method path` (relative to `/api/v2`) and parses the JSON answer; throws `ApiError`. */
export async function api<T>(method: string, path: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = options.token !== undefined ? options.token : loadCredential()?.token ?? null;
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof Blob || body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response: Response;
  try {
    response = await fetch(API_BASE + path, { method, headers, body: payload, signal: options.signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network", String(error));
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!response.ok) throw problemOf(response, text);
  return (text ? JSON.parse(text) : undefined) as T;
}

function problemOf(response: Response, text: string): ApiError {
  const retry = response.headers.get("Retry-After");
  const retryAfterSec = retry && /^\d+$/.test(retry) ? Number(retry) : null;
  try {
    const problem = JSON.parse(text) as { code?: string; detail?: string; errors?: FieldError[] };
    return new ApiError(response.status, problem.code ?? "internal", problem.detail ?? "", problem.errors ?? [], retryAfterSec);
  } catch {
    return new ApiError(response.status, response.status >= 500 ? "internal" : "no_route", text.slice(0, 200), [], retryAfterSec);
  }
}

export const get = <T>(path: string, options?: RequestOptions) => api<T>("GET", path, undefined, options);
export const post = <T>(path: string, body?: unknown, options?: RequestOptions) => api<T>("POST", path, body, options);
export const put = <T>(path: string, body?: unknown, options?: RequestOptions) => api<T>("PUT", path, body, options);
export const patch = <T>(path: string, body?: unknown, options?: RequestOptions) => api<T>("PATCH", path, body, options);
export const del = <T>(path: string, options?: RequestOptions) => api<T>("DELETE", path, undefined, options);
