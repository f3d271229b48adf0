/** Public surface of the pure content layer: path ↔ entity mapping, file codecs, format-preserving edits. */
export {
  checkSafeName,
  type FileFormat,
  type FileLocation,
  isIgnoredPath,
  SINGLE_PAGE_DIR,
} from './content-path.js';
// Pages, items and posts alike (entity-file.ts dispatches to content-file.ts or post-file.ts).
export {
  editContentFile,
  isContentPath,
  locateFile,
  locateVariant,
  pathForEntity,
  readContentFile,
  renderContentFile,
} from './entity-file.js';
export { MAX_CONTENT_BYTES } from './markdown-split.js';
export {
  editPostFile,
  POST_BODY,
  type PostFileRead,
  postFileKey,
  readPostFile,
  renderPostFile,
} from './post-file.js';
export {
  inPostsFolder,
  isPostPath,
  locatePostFile,
  notAPostFile,
  type PostLocation,
  pathForPost,
} from './post-path.js';
