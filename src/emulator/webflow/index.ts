export { derivedHexId } from './webflow-schema.js';
export { startWebflowEmulator } from './webflow-server.js';
export type {
  WebflowEmulatorHandle,
  WebflowEmulatorOptions,
  WebflowFaults,
  WebflowRequestLogEntry,
  WebflowSchemaFixture,
  WebflowSeedItem,
  WebflowToken,
  WebflowWebhookTarget,
  WebhookDeliveryLogEntry,
} from './webflow-types.js';
export { signWebhook } from './webflow-webhooks.js';
