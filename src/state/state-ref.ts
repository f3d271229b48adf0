import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SyncError } from '../core/errors.js';
import type { Manifest } from '../core/types.js';
import type { ContentRepo, GitIdentity } from '../git/port.js';
import { writeFileAtomic } from './atomic-file.js';
import { emptyManifest, serializeManifest, stateDir, validateManifest } from './manifest-file.js';
import type { ManifestStore } from './manifest-store.js';
import { adoptUnknownCache, mergeManifests } from './state-merge.js';

/**
 * The team's shared state (DESIGN.md §3): a commit whose tree holds `manifest.json`, on a ref outside every
 * branch, so it never shows in the writers' history. Locally the same ref names the last shared state this
 * clone's `.butter-sync/manifest.json` includes: the common ancestor of the next merge.
 */
export const STATE_REF = 'refs/butter-sync/state';
/** Where a fetch puts the remote's state before it is merged (never FETCH_HEAD, which `watch` also uses). */
const FETCHED_REF = 'refs/butter-sync/fetched-state';
const STATE_FILE = 'manifest.json';
/**
 * In `.butter-sync/`: the shared state commit the cache includes (what the local ref says, kept with the cache so
 * it travels with it: a CI job restores `.butter-sync/` into a fresh checkout that has no local ref).
 */
export const STATE_BASE_FILE = 'shared-state-base';
/** Lost compare-and-swap races in a row before giving up until the next run (which publishes then). */
const MAX_PUBLISH_ATTEMPTS = 5;

export interface SharedStateOptions {
  repo: ContentRepo;
  remote: string;
  identity: GitIdentity;
  configDigest: string;
  /** Said when the remote cannot be reached: the run goes on from the local copy. */
  warn: (message: string) => void | Promise<void>;
  /** The remote was reached (a later "cannot reach" is news again). */
  reached?: () => void | Promise<void>;
}

/** Read the state a commit holds, refusing (never half-applying) one that is not valid or is newer. */
export async function readStateCommit(repo: ContentRepo, oid: string): Promise<Manifest> {
  const where = `${STATE_REF} (commit ${oid.slice(0, 12)})`;
  const shown = await repo.readTreeFile(oid, STATE_FILE);
  if (shown === null) {
    throw new SyncError('MANIFEST_CORRUPT', `the shared state has no ${STATE_FILE}`, {
      file: where,
      hint: refusedHint(),
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(shown);
  } catch (error) {
    throw new SyncError(
      'MANIFEST_CORRUPT',
      `the shared state is not valid JSON: ${(error as Error).message}`,
      {
        file: where,
        hint: refusedHint(),
      },
    );
  }
  return validateManifest(data, where);
}

function refusedHint(): string {
  return `Nothing of it was applied. If a newer butter-sync wrote it, upgrade; otherwise set "state": "local" for this run, or delete the ref (\`git push origin :${STATE_REF}\`) and the next run publishes this clone's state.`;
}

/**
 * One session's link between the local cache and the shared ref: `attach` fetches and merges before the
 * run, `publish` pushes after it with compare-and-swap, merging and retrying when another machine won.
 */
export class SharedState {
  readonly #store: ManifestStore;
  readonly #options: SharedStateOptions;
  /** The shared commit the cache now includes, and its state: what the remote must still hold to push. */
  #baseOid: string | null;
  #baseState: Manifest;
  #offline = false;
  /** The store's save generation at which the cache was last known equal to the shared state. */
  #cleanGeneration = -1;
  /** The cache includes some shared state, but which is not known: the next catch-up cannot merge three ways. */
  #unknownBase = false;

  private constructor(
    store: ManifestStore,
    options: SharedStateOptions,
    oid: string | null,
    state: Manifest,
  ) {
    this.#store = store;
    this.#options = options;
    this.#baseOid = oid;
    this.#baseState = state;
  }

  static async attach(store: ManifestStore, options: SharedStateOptions): Promise<SharedState> {
    let localOid = await options.repo.readRef(STATE_REF);
    // A cache from elsewhere (restored by CI into a fresh checkout, copied from another clone) names the shared
    // state it includes; the local ref describes the cache this clone had, not this one.
    let unknownBase = false;
    const recorded = store.startedEmpty ? null : await readRecordedBase(store.repoDir);
    if (recorded !== null && recorded !== localOid) {
      let present = await options.repo.readRef(recorded);
      if (present === null) {
        // Its commit is in the remote's state history: fetched with it (failure is the catch-up's to report).
        await options.repo.fetchRef(options.remote, STATE_REF, FETCHED_REF);
        present = await options.repo.readRef(recorded);
      }
      if (present !== null) localOid = present;
      else unknownBase = true;
    } else if (recorded === null && localOid === null && !store.startedEmpty) {
      // A cache and no record of which shared state it includes (written before the record, or restored
      // without it): it cannot be merged three ways.
      unknownBase = true;
    }
    const base = localOid
      ? await readStateCommit(options.repo, localOid)
      : emptyManifest(options.configDigest);
    const shared = new SharedState(store, options, localOid, base);
    shared.#unknownBase = unknownBase;
    // The local ref says which shared state the cache includes, but the cache is gone (deleted, or a CI job
    // that kept .git and not .butter-sync/). Taken at its word, the ref would make the next merge read every
    // base, id and mapping missing from the empty cache as removed on purpose (and, with the remote
    // unchanged, leave the cache empty: a run with no base, every difference a conflict). The cache starts
    // from the state the ref names instead, and the catch-up below merges what others published since.
    if (localOid !== null && store.startedEmpty) {
      replaceContents(store.manifest, structuredClone(base));
      await store.save();
      await recordBase(store.repoDir, localOid);
    }
    await shared.#catchUp();
    return shared;
  }

  /**
   * Publish the cache if it differs from the shared state; a lost race fetches, merges and tries again.
   * `refresh` (watch, between jobs): with nothing to publish, still take the other machines' state in.
   */
  async publish(options: { refresh?: boolean } = {}): Promise<void> {
    this.#offline = false;
    if (options.refresh) await this.#catchUp();
    if (this.#offline) return;
    for (let attempt = 0; attempt < MAX_PUBLISH_ATTEMPTS; attempt++) {
      // Nothing saved since the cache last matched the shared state: nothing to publish, and no O(n) compare.
      if (this.#baseOid !== null && this.#store.generation === this.#cleanGeneration) return;
      const text = serializeManifest(this.#store.plainManifest);
      if (this.#baseOid !== null && text === serializeManifest(this.#baseState)) {
        this.#cleanGeneration = this.#store.generation;
        return;
      }
      const commit = await this.#commitState(text);
      const pushed = await this.#push(commit);
      if (pushed === 'offline') return;
      if (pushed === 'ok') {
        await this.#setBase(commit);
        this.#baseOid = commit;
        this.#baseState = JSON.parse(text) as Manifest;
        this.#cleanGeneration = this.#store.generation;
        await this.#options.reached?.();
        return;
      }
      // Another machine published first: take its state in, then push the merge on top of it.
      await this.#catchUp();
      if (this.#offline) return;
    }
    await this.#options.warn(
      `the shared state ${STATE_REF} kept changing under this run; it stays in the local cache and the next run publishes it`,
    );
  }

  /** Fetch the remote's state and merge it into the cache (nothing to merge when this clone is up to date). */
  async #catchUp(): Promise<void> {
    const { repo, remote } = this.#options;
    const fetched = await repo.fetchRef(remote, STATE_REF, FETCHED_REF);
    if (fetched.outcome !== 'fetched') {
      // No state published yet: the first publish creates it.
      if (fetched.outcome === 'missing') {
        await this.#options.reached?.();
        return;
      }
      this.#offline = true;
      await this.#options.warn(
        `cannot fetch the shared state from ${remote} (${fetched.reason}); working from this clone's copy, published on a later run`,
      );
      return;
    }
    await this.#options.reached?.();
    const theirsOid = await repo.readRef(FETCHED_REF);
    if (theirsOid === null || theirsOid === this.#baseOid) return;
    // Read and validate all of it before touching the cache: a refused state changes nothing.
    const theirs = await readStateCommit(repo, theirsOid);
    const merged = this.#unknownBase
      ? adoptUnknownCache(this.#store.plainManifest, theirs)
      : mergeManifests(this.#baseState, this.#store.plainManifest, theirs);
    replaceContents(this.#store.manifest, merged);
    await this.#store.save();
    await this.#setBase(theirsOid);
    this.#unknownBase = false;
    this.#baseOid = theirsOid;
    this.#baseState = theirs;
  }

  /**
   * The cache now includes shared state `oid`: the record kept with the cache and the local ref say so. The
   * record first: cut off between the two, the record (which attach prefers) is the one that is right.
   */
  async #setBase(oid: string): Promise<void> {
    await recordBase(this.#store.repoDir, oid);
    await this.#options.repo.setRef(STATE_REF, oid);
  }

  async #commitState(text: string): Promise<string> {
    const { repo, identity } = this.#options;
    return repo.commitOneFile(STATE_FILE, text, this.#baseOid, 'butter-sync state', identity);
  }

  /** Compare-and-swap: the remote takes the commit only if its ref is still the one this merge started from. */
  async #push(commit: string): Promise<'ok' | 'raced' | 'offline'> {
    const { repo, remote } = this.#options;
    const pushed = await repo.pushRef(remote, commit, STATE_REF, this.#baseOid);
    if (pushed.outcome === 'pushed') return 'ok';
    if (pushed.outcome === 'raced') return 'raced';
    await this.#options.warn(
      `cannot publish the shared state to ${remote} (${pushed.reason}); it stays in the local cache and the next run publishes it`,
    );
    return 'offline';
  }
}

async function recordBase(repoDir: string, oid: string): Promise<void> {
  await writeFileAtomic(join(stateDir(repoDir), STATE_BASE_FILE), `${oid}\n`);
}

/** The shared state commit the cache says it includes, or null (no record, or not a commit id). */
async function readRecordedBase(repoDir: string): Promise<string | null> {
  const text = await readFile(join(stateDir(repoDir), STATE_BASE_FILE), 'utf8').catch(() => '');
  const oid = text.trim();
  return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid) ? oid : null;
}

/** The store hands its manifest object to the engine by reference, so a merge fills that same object. */
function replaceContents(target: Manifest, source: Manifest): void {
  for (const key of Object.keys(target)) delete (target as unknown as Record<string, unknown>)[key];
  Object.assign(target, source);
}
