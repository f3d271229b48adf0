/** The ButterCMS backend of the port (src/cms/port.ts: CmsBackend, and the CmsClient REST surface) and its request pipeline. */

export { makeButterBackend } from './backend.js';
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
