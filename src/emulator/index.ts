export { startEmulator } from './emulator-server.js';
export type {
  EmulatorFaults,
  EmulatorHandle,
  EmulatorOptions,
  RequestLogEntry,
  SeedAuthor,
  SeedItem,
  SeedPage,
  SeedPost,
  WebhookTarget,
} from './emulator-types.js';
