/** Typed CHeKT client errors: the class decides a job's fate, `retryable` says whether repeating may help. */
export { ChektError, isChektError, type ChektErrorInit } from './ChektError.js';
export { ChektAuthError } from './ChektAuthError.js';
export { ChektBadRequestError } from './ChektBadRequestError.js';
export { ChektCancelledError } from './ChektCancelledError.js';
export { ChektConflictError } from './ChektConflictError.js';
export { ChektForbiddenError } from './ChektForbiddenError.js';
export { ChektNetworkError } from './ChektNetworkError.js';
export { ChektNotFoundError } from './ChektNotFoundError.js';
export { ChektRateLimitedError } from './ChektRateLimitedError.js';
export { ChektResponseError } from './ChektResponseError.js';
export { ChektServerError } from './ChektServerError.js';
export { ChektTimeoutError } from './ChektTimeoutError.js';
export { ChektTokenError } from './ChektTokenError.js';
export { errorForStatus, type ErrorForStatusInput } from './errorForStatus.js';
