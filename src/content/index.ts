/** Public surface of the pure content layer: path ↔ entity mapping, file codecs, format-preserving edits. */
export { editContentFile, locateVariant, readContentFile, renderContentFile } from './content-file.js';
export {
  checkSafeName,
  type FileFormat,
  type FileLocation,
  isContentPath,
  isIgnoredPath,
  locateFile,
  pathForEntity,
  SINGLE_PAGE_DIR,
} from './content-path.js';
export { MAX_CONTENT_BYTES } from './markdown-split.js';
export {
  editPostFile,
  POST_BODY,
  type PostFileRead,
  postFileKey,
  readPostFile,
  renderPostFile,
} from './post-file.js';
export { isPostPath, locatePostFile, type PostLocation, pathForPost } from './post-path.js';
