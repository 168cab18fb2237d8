// The typed TypeScript client of dccd's REST API: the same runs, jobs and schedules the CLI
// and the Temporal UI show, from any process that can reach a `dccd start` or `dccd api`.
// The CLI uses it to talk to the daemon of its data folder. An error answer becomes the
// domain error it stands for, so callers handle ValidationError or AlreadyRunning alike
// whether they run in-process or over HTTP.
import { AlreadyRunning, Conflict, DccdError, JobExists, NoCapability, NotFound, ValidationError } from '../domain/errors.ts';
import type { JobRun } from '../domain/job-run.ts';
import type { JobSpec } from '../domain/job-spec.ts';
import type { JobEntryInput } from '../config/app-config.ts';
import type { InventoryEntry } from '../jobs/inventory.ts';
import type { JobChange } from '../jobs/job-store.ts';
import type { ReadFormat, ReadRequest } from '../jobs/read.ts';
import type { ReconcileReport } from '../jobs/reconcile.ts';
import type { JobRunStart } from '../jobs/run-job.ts';
import type { RunEvent } from './run-events.ts';
import type { RunFilter, RunPage } from './run-list.ts';
import type { DccdSchedule, ScheduleAction } from './schedules.ts';
import type { StreamEntry } from './stream-runs.ts';

export interface BackfillBody {
  exchange: string;
  symbol: string;
  kind: 'ohlc' | 'trades' | 'book';
  span?: string;
  start?: string;
  end?: string;
  depth?: number;
}

export type ApiJob = JobSpec & { summary: string; schedule: { scheduleId: string; paused: boolean; nextRuns: string[] } | null };

export type ApiJobChange = Omit<JobChange, 'jobs'> & { jobs: ApiJob[] };
export interface ApiJobDeleted {
  deleted: string;
  dataKept: true;
  note: string;
  report: ReconcileReport;
}

/** An answer the API gave that has no domain error of its own (401, 413, 415, 5xx). */
export class DccdApiError extends DccdError {
  override readonly type = 'DccdApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** The API's bearer token (api.token), needed when it listens beyond loopback. */
  token?: string;
}

export class DccdClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;

  constructor(baseUrl: string, o: ClientOptions = {}) {
    this.#base = baseUrl.replace(/\/$/, '');
    this.#headers = o.token ? { authorization: `Bearer ${o.token}` } : {};
  }

  listRuns(f: RunFilter = {}): Promise<RunPage> {
    const q = new URLSearchParams();
    const put = (k: string, v: string | number | undefined) => v !== undefined && q.set(k, String(v));
    put('spec_id', f.specId);
    put('state', f.state);
    put('operation', f.operation);
    put('exchange', f.exchange);
    put('symbol', f.symbol);
    put('kind', f.kind);
    put('limit', f.limit);
    put('cursor', f.cursor);
    const qs = q.toString();
    return this.#call('GET', `/api/runs${qs ? `?${qs}` : ''}`);
  }

  getRun(id: string): Promise<JobRun> {
    return this.#call('GET', `/api/runs/${encodeURIComponent(id)}`);
  }

  stopRun(id: string): Promise<JobRun> {
    return this.#call('POST', `/api/runs/${encodeURIComponent(id)}/stop`);
  }

  /** Every stream running, and each supervised job's stream even when it is not, with its liveness. */
  async listStreams(): Promise<StreamEntry[]> {
    return (await this.#call<{ streams: StreamEntry[] }>('GET', '/api/streams')).streams;
  }

  /** Checks and starts a backfill; `notes` say what the check changed or found (a range clamped to the listing). */
  backfill(body: BackfillBody): Promise<{ runId: string; workflowId: string; notes: string[] }> {
    return this.#call('POST', '/api/backfill', body);
  }

  async listJobs(): Promise<ApiJob[]> {
    return (await this.#call<{ jobs: ApiJob[] }>('GET', '/api/jobs')).jobs;
  }

  applyJobs(): Promise<ReconcileReport> {
    return this.#call('POST', '/api/jobs/apply');
  }

  /** Creates the jobs of one entry (one per symbol), kept in the daemon's config file; 409 (JobExists) when one exists. */
  createJob(body: JobEntryInput): Promise<ApiJobChange> {
    return this.#call('POST', '/api/jobs', body);
  }

  /** Replaces a job's definition; its operation, exchange, symbol, kind and span stay. */
  updateJob(id: string, body: JobEntryInput): Promise<ApiJobChange> {
    return this.#call('PUT', `/api/jobs/${encodeURIComponent(id)}`, body);
  }

  /** Deletes a job and its schedule; its data stays. */
  deleteJob(id: string): Promise<ApiJobDeleted> {
    return this.#call('DELETE', `/api/jobs/${encodeURIComponent(id)}`);
  }

  /** Runs a job now; while its dataset has a run, that run (started: false). */
  async runJob(id: string): Promise<JobRunStart> {
    const { status, json } = await this.#send<JobRun>('POST', `/api/jobs/${encodeURIComponent(id)}/run`);
    return { run: json, started: status === 201 };
  }

  async inventory(filter: { exchange?: string; kind?: string } = {}): Promise<InventoryEntry[]> {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    return (await this.#call<{ datasets: InventoryEntry[] }>('GET', `/api/inventory${q.size ? `?${q}` : ''}`)).datasets;
  }

  async listSchedules(): Promise<DccdSchedule[]> {
    return (await this.#call<{ schedules: DccdSchedule[] }>('GET', '/api/schedules')).schedules;
  }

  async scheduleAction(id: string, action: ScheduleAction): Promise<void> {
    await this.#call('POST', `/api/schedules/${encodeURIComponent(id)}/${action}`);
  }

  /** A run's events until it ends (or `signal` aborts): its status first, then progress and log. */
  async *runEvents(id: string, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    const res = await fetch(`${this.#base}/api/runs/${encodeURIComponent(id)}/events`, { headers: this.#headers, signal });
    if (!res.ok) throw errorOf(res.status, await res.json().catch(() => ({})));
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data !== undefined) yield { type, data: JSON.parse(data) } as RunEvent;
      }
    }
  }

  /**
   * A range of a dataset (GET /api/read) as the bytes of `format` (json unless given), to be
   * read as they arrive; `note` says why a read has no rows. Aborting `signal` ends the read.
   */
  async read(q: ReadRequest & { format?: ReadFormat }, signal?: AbortSignal): Promise<{ body: ReadableStream<Uint8Array>; note: string | null }> {
    const query = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
    const res = await fetch(`${this.#base}/api/read?${query}`, { headers: this.#headers, signal });
    if (!res.ok) throw errorOf(res.status, await res.json().catch(() => ({})));
    return { body: res.body!, note: res.headers.get('x-dccd-note') };
  }

  async #call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    return (await this.#send<T>(method, path, body)).json;
  }

  async #send<T>(method: Method, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(`${this.#base}${path}`, {
      method,
      headers: { ...this.#headers, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const json = (await res.json().catch(() => undefined)) as unknown;
    if (!res.ok) throw errorOf(res.status, json);
    return { status: res.status, json: json as T };
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

function errorOf(status: number, body: unknown): Error {
  const b = (body ?? {}) as { error?: string; field?: string | null; reason?: string; runId?: string; jobId?: string };
  const reason = b.reason ?? b.error ?? `HTTP ${status}`;
  if (status === 400) return new ValidationError(b.field ?? '', reason);
  if (status === 404) return new NotFound(b.error ?? reason);
  if (status === 409 && b.runId) return new AlreadyRunning(b.runId, /\((\S+)\)$/.exec(b.error ?? '')?.[1] ?? '');
  if (status === 409 && b.jobId) return new JobExists(b.jobId);
  if (status === 409) return new Conflict(b.error ?? reason);
  if (status === 422) return new NoCapability(/^(\w+):/.exec(b.error ?? '')?.[1] ?? 'exchange', reason.replace(/^\w+: /, ''));
  return new DccdApiError(status, b.error ?? reason);
}
