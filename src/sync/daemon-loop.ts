import type { SnapshotScope } from '../cms/port.js';
import type { SyncEngine } from './engine.js';
import type { SyncReport } from './report.js';

type Job =
  | { kind: 'push'; paths: Set<string> | null /* null = the whole tree */ }
  | { kind: 'pull'; scope: SnapshotScope | undefined }
  | { kind: 'fetch' }
  | { kind: 'resolve'; path: string; take: 'git' | 'cms'; settle: Settle<ResolveResult> };

type ResolveResult = Awaited<ReturnType<SyncEngine['resolve']>>;
type Settle<T> = { resolve: (value: T) => void; reject: (error: unknown) => void };

export interface DaemonEvents {
  onReport?: (report: SyncReport) => void;
  onError?: (error: unknown, job: Job['kind']) => void;
  onCmsOk?: () => void;
  /** Run in the daemon's line after each job (ok or not), before the next one starts: publishing the shared state. */
  afterJob?: (job: Job['kind']) => Promise<void>;
}

function mergeScopes(a: SnapshotScope | undefined, b: SnapshotScope | undefined): SnapshotScope | undefined {
  if (!a || !b) return undefined; // one full pull covers both
  const union = (x?: string[], y?: string[]) => [...new Set([...(x ?? []), ...(y ?? [])])];
  const unionBy = <T>(x: T[] = [], y: T[] = []): T[] => [
    ...new Map([...x, ...y].map((v) => [JSON.stringify(v), v])).values(),
  ];
  return {
    pageTypes: union(a.pageTypes, b.pageTypes),
    singlePages: union(a.singlePages, b.singlePages),
    collections: union(a.collections, b.collections),
    pages: unionBy(a.pages, b.pages),
    items: unionBy(a.items, b.items),
    postList: (a.postList ?? true) || (b.postList ?? true),
    posts: union(a.posts, b.posts),
  };
}

/**
 * The daemon's single worker: file batches, webhook pulls, polls and git fetches all become jobs run
 * one at a time through the same engine (one writer). Jobs of a kind waiting in line are merged, so a
 * burst of webhooks or saves costs one run.
 */
export class SyncDaemon {
  private queue: Job[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;
  lastPushAt: Date | null = null;
  lastPullAt: Date | null = null;

  constructor(
    private readonly engine: SyncEngine,
    private readonly events: DaemonEvents = {},
  ) {}

  /** Push these paths, or the whole tree when `paths` is undefined. */
  enqueuePush(paths?: string[]): void {
    const waiting = this.queue.find((j): j is Extract<Job, { kind: 'push' }> => j.kind === 'push');
    if (waiting) {
      if (!paths) waiting.paths = null;
      else for (const p of paths) waiting.paths?.add(p);
    } else {
      this.queue.push({ kind: 'push', paths: paths ? new Set(paths) : null });
    }
    this.kick();
  }

  enqueuePull(scope?: SnapshotScope): void {
    const waiting = this.queue.find((j): j is Extract<Job, { kind: 'pull' }> => j.kind === 'pull');
    if (waiting) waiting.scope = mergeScopes(waiting.scope, scope);
    else this.queue.push({ kind: 'pull', scope });
    this.kick();
  }

  enqueueFetch(): void {
    if (!this.queue.some((j) => j.kind === 'fetch')) this.queue.push({ kind: 'fetch' });
    this.kick();
  }

  /**
   * Settle a conflict the way `butter-sync resolve` does, but as a job in this worker's line, so it never
   * runs beside a push or pull (one writer). Resolves with the engine's answer; rejects with its error.
   */
  enqueueResolve(path: string, take: 'git' | 'cms'): Promise<ResolveResult> {
    if (this.stopped) return Promise.reject(new Error('the daemon is stopping'));
    return new Promise<ResolveResult>((resolve, reject) => {
      this.queue.push({ kind: 'resolve', path, take, settle: { resolve, reject } });
      this.kick();
    });
  }

  depth(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  /** Resolves when the queue is empty and nothing runs (tests and shutdown use it). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stop taking jobs; the one running finishes (the engine also sees the abort signal). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.queue)
      if (job.kind === 'resolve') job.settle.reject(new Error('the daemon stopped'));
    this.queue = [];
    await this.idle();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length > 0 && !this.stopped) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      const job = this.queue.shift();
      if (!job) return;
      try {
        await this.run(job);
      } catch (error) {
        if (job.kind === 'resolve') job.settle.reject(error);
        this.events.onError?.(error, job.kind);
      }
      await this.events
        .afterJob?.(job.kind)
        .catch((error: unknown) => this.events.onError?.(error, job.kind));
    }
  }

  private async run(job: Job): Promise<void> {
    const { ctx } = this.engine;
    if (job.kind === 'push') {
      const { report } = await this.engine.push({
        paths: job.paths ? [...job.paths] : undefined,
        verifyWaitMs: 5_000,
      });
      this.lastPushAt = new Date();
      this.events.onCmsOk?.();
      this.events.onReport?.(report);
      return;
    }
    if (job.kind === 'pull') {
      const { report } = await this.engine.pull({ scope: job.scope });
      this.lastPullAt = new Date();
      this.events.onCmsOk?.();
      this.events.onReport?.(report);
      return;
    }
    if (job.kind === 'resolve') {
      const result = await this.engine.resolve(job.path, job.take);
      if (job.take === 'git') this.lastPushAt = new Date();
      else this.lastPullAt = new Date();
      this.events.onCmsOk?.();
      this.events.onReport?.(result.report);
      job.settle.resolve(result);
      return;
    }
    // Writers' commits reach the container through git: fetch, merge when clean, then push the files they changed.
    const branch = ctx.config.pull.branch ?? (await ctx.repo.currentBranch());
    if (!branch) {
      ctx.logger.warn('detached HEAD: not fetching (check out the branch to sync)');
      return;
    }
    const merged = await ctx.repo.fetchAndMerge(ctx.config.pull.remote, branch);
    if (merged.blocked) {
      ctx.logger.warn({ branch }, `git: ${merged.blocked} — left for a person to merge`);
      return;
    }
    if (merged.updated && merged.changedFiles.length > 0) {
      const { report } = await this.engine.push({ paths: merged.changedFiles, verifyWaitMs: 5_000 });
      this.lastPushAt = new Date();
      this.events.onReport?.(report);
    }
    if (ctx.config.pull.push) {
      const pushed = await ctx.repo.pushBranch(ctx.config.pull.remote, branch);
      if (!pushed.pushed && pushed.rejected) ctx.logger.warn(`git push: ${pushed.rejected}`);
    }
  }
}
