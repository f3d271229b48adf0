/**
 * The ButterCMS backend of the port (src/cms/port.ts: CmsBackend, read and write): its client (wire-types.ts,
 * the REST surface), the backend (backend.ts), its write shapes and its request pipeline.
 */

export { BUTTER_RULES, butterWireId, estimateButterWrite, makeButterBackend } from './backend.js';
export {
  type ButterClientOptions,
  type CallEvent,
  createButterBlogClient,
  createButterClient,
} from './butter-client.js';
export { entityOfCall } from './call-entity.js';
export { type ErrorBodyDetails, parseRetryAfter, readErrorBody } from './http-errors.js';
export { CDN_PREFIX } from './media.js';
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
export { makeButterWebhook, parseWebhook } from './webhook.js';
export type { CmsClient, CreateItemBody, CreatePageBody, RemoteItem, RemotePage } from './wire-types.js';
export { type ButterRequest, type ShapeOptions, shapeWrite } from './write-shapes.js';
