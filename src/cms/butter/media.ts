import type { MediaHosting } from '../port.js';

/** Where ButterCMS re-hosts every media file it is sent (butter-api.md §3.7). */
export const CDN_PREFIX = 'https://cdn.buttercms.com/';

/** ButterCMS media: a URL on its CDN is its copy of something written, never a source URL of ours. */
export const butterMedia: MediaHosting = {
  isHosted: (url) => url.startsWith(CDN_PREFIX),
};
