/** The JSON error body this service answers with (same envelope CHeKT documents, chekt-api.md §4). */
export interface ApiError {
  error: { code: string; message: string; field?: string };
}

/** Builds an {@link ApiError}. */
export function apiError(code: string, message: string, field?: string): ApiError {
  return { error: { code, message, ...(field ? { field } : {}) } };
}
