export { startEmulator } from './emulator-server.js';
export type {
  EmulatorFaults,
  EmulatorHandle,
  EmulatorOptions,
  RequestLogEntry,
  SeedItem,
  SeedPage,
  WebhookTarget,
} from './emulator-types.js';
