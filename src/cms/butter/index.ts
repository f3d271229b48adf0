/** The ButterCMS backend: its client (wire-types.ts), the neutral write port (backend.ts) and its request pipeline. */

export { BUTTER_RULES, createButterBackend, estimateButterWrite } from './backend.js';
export {
  type ButterClientOptions,
  type CallEvent,
  createButterBlogClient,
  createButterClient,
} from './butter-client.js';
export { entityOfCall } from './call-entity.js';
export { type ErrorBodyDetails, parseRetryAfter, readErrorBody } from './http-errors.js';
export type {
  ButterPostCalls,
  CreatePostBody,
  PostListOptions,
  PostWriteBody,
  RemoteAuthor,
  RemotePost,
  RemoteTerm,
} from './post-wire.js';
export { type ApiRequest, type ApiResponse, type HttpMethod, RequestPipeline } from './request-pipeline.js';
export { deriveRateWindow, type RateWindow, RequestQueue } from './request-queue.js';
export { type ButterRequest, type ShapeOptions, shapeWrite } from './write-shapes.js';
