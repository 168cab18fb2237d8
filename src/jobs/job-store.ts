// Where the jobs live: the config file's `jobs:` list, for the jobs a user wrote and the ones
// the API created alike (those marked `origin: api`). So `dccd jobs list`, `dccd validate` and
// a restarted daemon see every job without Temporal or the manifest, and a person can read and
// edit all of them in one place. Each change through the API rereads the file (a hand edit
// made meanwhile is kept), edits only the entry concerned (config-file-edits.ts), checks the
// whole result as `dccd start` would load it, replaces the file atomically and reconciles the
// schedules and streams — one change at a time in this process.
import { readFile } from 'node:fs/promises';
import type { JobConfig } from '../config/app-config.ts';
import {
  appendJobEntry,
  removeEntrySymbol,
  removeJobEntry,
  replaceFile,
  replaceJobEntry,
  splitJobEntry,
  type JobEntryText,
} from '../config/config-file-edits.ts';
import { configFromText, configPath, loadConfig, parseJobEntry, type LoadOptions } from '../config/load-config.ts';
import { ConfigError } from '../config/config-error.ts';
import { Conflict, DccdError, JobExists, NotFound, ValidationError } from '../domain/errors.ts';
import type { JobSpec } from '../domain/job-spec.ts';
import type { Services } from '../services.ts';
import { checkConfigJobs, offlineAdapters, planJobs, type AdapterOf } from './job-plan.ts';
import { placedSpecs, type PlacedSpec } from './job-specs.ts';
import { reconcile, type ReconcileReport } from './reconcile.ts';

/** Where the API's job bodies are named in errors: `body.schedule.cron`. */
const BODY = 'body';
/** Times a change is made again on a file edited underneath it before giving up. */
const ATTEMPTS = 3;

export interface JobChange {
  /** The jobs the change created or changed, as the file now holds them. */
  jobs: JobSpec[];
  report: ReconcileReport;
}

/** What an edit sees: the file's text (undefined: none yet), its entries and their specs. */
interface FileState {
  text: string | undefined;
  entries: JobConfig[];
  placed: PlacedSpec[];
}

export class JobStore {
  /** The file the jobs are kept in: --config's, else ./dccd.yml, made by the first job created. */
  readonly file: string;
  readonly #adapters: AdapterOf = offlineAdapters();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly source: LoadOptions) {
    this.file = configPath(source);
  }

  /** The jobs as the file holds them now. */
  specs(): JobSpec[] {
    return checkConfigJobs(loadConfig(this.source));
  }

  apply(services: Services): Promise<ReconcileReport> {
    return this.#exclusive(() => reconcile(services, this.specs()));
  }

  /** Adds one entry (the jobs of its symbols); none of them may exist yet. */
  create(services: Services, body: unknown): Promise<JobChange> {
    const job = parseJobEntry(body, BODY);
    const specs = this.#checked(job);
    return this.#change(services, (f) => {
      const taken = specs.find((s) => f.placed.some((p) => p.spec.id === s.id));
      if (taken) throw new JobExists(taken.id);
      return { text: appendJobEntry(f.text, { ...(body as JobEntryText), origin: 'api' }), ids: specs.map((s) => s.id) };
    });
  }

  /**
   * Replaces job `id`'s definition with `body`, which must describe the same dataset and
   * operation. A job of an entry with several symbols is split out of it; the others stay.
   */
  update(services: Services, id: string, body: unknown): Promise<JobChange> {
    const job = parseJobEntry(body, BODY);
    if (job.symbols !== undefined) throw new ValidationError(`${BODY}.symbols`, `a job is one symbol: give symbol (${id} is one job)`);
    const [spec] = this.#specsOf(job);
    return this.#change(services, (f) => {
      const was = placedAt(f, id);
      if (spec!.id !== id) {
        const field = identityField(was.spec, spec!);
        throw new ValidationError(`${BODY}.${field}`, `would make this job ${spec!.id}; a job's ${field} is part of its id (create that job with POST /api/jobs, and delete this one)`);
      }
      // Checked once it is this job: a body that would make another job is told so first.
      planJobs(this.#adapters, [spec!]);
      if (job.origin !== undefined && was.spec.origin !== 'api') throw new ValidationError(`${BODY}.origin`, `${id} was written into the config by hand; its origin stays config`);
      const { origin: _, ...rest } = body as JobEntryText;
      const entry = { ...rest, ...(was.spec.origin === 'api' && { origin: 'api' }) };
      const text = inSharedEntry(f, was) ? splitJobEntry(f.text!, was.entry, was.symbol!, entry) : replaceJobEntry(f.text!, was.entry, entry);
      return { text, ids: [id] };
    });
  }

  /** Removes job `id` from the file, and its schedule or stream from Temporal; its data stays. */
  remove(services: Services, id: string): Promise<JobChange> {
    return this.#change(services, (f) => {
      const was = placedAt(f, id);
      return { text: inSharedEntry(f, was) ? removeEntrySymbol(f.text!, was.entry, was.symbol!) : removeJobEntry(f.text!, was.entry), ids: [] };
    });
  }

  /** The specs of one entry, each checked as reconcile checks it, its errors named as the request's fields. */
  #checked(job: JobConfig): JobSpec[] {
    const specs = this.#specsOf(job);
    planJobs(this.#adapters, specs);
    return specs;
  }

  #specsOf(job: JobConfig): JobSpec[] {
    return placedSpecs([job], (exchange, symbol) => this.#adapters(exchange).parseSymbol(symbol), () => BODY).map((p) => p.spec);
  }

  async #change(services: Services, edit: (f: FileState) => { text: string; ids: string[] }): Promise<JobChange> {
    return this.#exclusive(async () => {
      for (let attempt = 1; ; attempt++) {
        const before = await this.#read();
        const entries = configFromText(before, this.source).jobs;
        const placed = this.#ofFile(() => placedSpecs(entries, (ex, sym) => this.#adapters(ex).parseSymbol(sym)));
        const { text, ids } = edit({ text: before, entries, placed });
        // The file as the next `dccd start` will load it: a change that would break it is never written.
        const specs = this.#ofFile(() => checkConfigJobs(configFromText(text, this.source)));
        // A hand edit saved while this one was made is not overwritten: the change is made again on top of it.
        if ((await this.#read()) !== before) {
          if (attempt < ATTEMPTS) continue;
          throw new Conflict(`${this.file} kept changing while the job was being saved; nothing was written, try again`);
        }
        await replaceFile(this.file, text);
        try {
          const report = await reconcile(services, specs, new Date(), [...placed.map((p) => p.spec.id), ...ids]);
          return { jobs: ids.map((id) => specs.find((s) => s.id === id)!), report };
        } catch (e) {
          throw new DccdError(`${this.file} is saved, but the schedules and streams were not applied: ${(e as Error).message} (POST /api/jobs/apply retries)`);
        }
      }
    });
  }

  /** A job of the file itself at fault is the file's problem, not the request's. */
  #ofFile<T>(read: () => T): T {
    try {
      return read();
    } catch (e) {
      if (e instanceof ValidationError) throw new ConfigError(this.file, [{ field: e.field, reason: e.reason }]);
      throw e;
    }
  }

  async #read(): Promise<string | undefined> {
    return readFile(this.file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
  }

  /** Runs `fn` after every change queued before it: no two edits of the file interleave. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function placedAt(f: FileState, id: string): PlacedSpec {
  const at = f.placed.find((p) => p.spec.id === id);
  if (!at) throw new NotFound(`no job ${id}`);
  return at;
}

/** The job shares its entry with other symbols (`symbols: [A, B]`), which must stay as they are. */
const inSharedEntry = (f: FileState, at: PlacedSpec) => at.symbol !== undefined && f.entries[at.entry]!.symbols!.length > 1;

/** The first part of a job's id that `next` changes: its operation, exchange, symbol, kind or span. */
function identityField(was: JobSpec, next: JobSpec): string {
  if (was.operation !== next.operation) return 'operation';
  const keys = ['exchange', 'symbol', 'kind', 'span'] as const;
  return keys.find((k) => was.target[k] !== next.target[k]) ?? 'symbol';
}
