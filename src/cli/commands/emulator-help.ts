// Apart from emulator.ts so that building the CLI's help never loads the emulators (cli/main.ts imports commands lazily).

/** What `emulator --help` adds: where the model comes from, the admin routes, webhook registration. */
export const EMULATOR_HELP = `
The content model (page types, single pages, collections, locales) is read from the config file given
with --config (default ./sync.config.json), as ButterCMS has no schema API. Editing that file while the
emulator runs is picked up at once (the stored content stays); a config with errors is reported and the
previous model is kept.

Admin routes (loopback only, not counted as API calls): GET /__emulator/ lists them all. To make the
emulator call \`butter-sync watch\` like ButterCMS webhooks do, register the target:
  curl -X POST http://127.0.0.1:8790/__emulator/webhooks -H 'content-type: application/json' \\
    -d '[{"url": "http://127.0.0.1:8787/webhooks/butter", "headers": {"X-Butter-Sync-Secret": "<BUTTER_WEBHOOK_SECRET>"}}]'

With --cms webflow it serves Webflow's Data API v2 instead: the config's collections become Webflow collections
(ids derived from their names), WEBFLOW_TOKEN (or a printed default) is the accepted token, --rate-limit sets the
per-minute budget (60 by default, 120 for CMS plans); GET /__emulator/ lists its admin routes. The model is read
at start: restart it after editing the config.

Examples:
  butter-sync emulator --config sync.config.json --port 8790
  butter-sync emulator --cms webflow --config sync.config.json --port 8791
  butter-sync emulator --data /tmp/emulator.json --apply-delay 500`;
