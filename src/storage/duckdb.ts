// DuckDB as the Parquet engine: one in-memory database per store, a small pool of
// connections reused across calls. A DuckDB connection runs one statement at a time and
// its temp tables are its own, so each caller borrows a connection for a whole sequence of
// statements; several datasets can then be written at once, one connection each.
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Every connection's statement occupies a libuv worker thread (4 by default) while it
 * runs; capping at 3 leaves one for the file system calls the store makes in between.
 */
const MAX_CONNECTIONS = 3;

export class DuckDBEngine {
  #instance: Promise<DuckDBInstance> | undefined;
  readonly #idle: DuckDBConnection[] = [];
  readonly #waiting: Array<(c: DuckDBConnection) => void> = [];
  #open = 0;
  #closed = false;
  #drained: (() => void) | undefined;

  /** `config`: DuckDB settings, e.g. { temp_directory: '...' }. */
  constructor(private readonly config: Record<string, string>) {}

  /** Runs `fn` with a connection no one else uses meanwhile. */
  async use<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = await this.#acquire();
    try {
      return await fn(c);
    } finally {
      this.#release(c);
    }
  }

  /**
   * Yields what `fn` yields, with a connection no one else uses until the consumer has taken
   * the last item or stopped early (return() or a throw hands the connection back too).
   */
  async *hold<T>(fn: (c: DuckDBConnection) => AsyncIterable<T>): AsyncGenerator<T> {
    const c = await this.#acquire();
    try {
      yield* fn(c);
    } finally {
      this.#release(c);
    }
  }

  /** Waits for running statements, then closes every connection and the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idle.length < this.#open) await new Promise<void>((resolve) => (this.#drained = resolve));
    for (const c of this.#idle.splice(0)) c.closeSync();
    if (this.#instance) (await this.#instance).closeSync();
  }

  async #acquire(): Promise<DuckDBConnection> {
    if (this.#closed) throw new Error('the Parquet store is closed');
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#open < MAX_CONNECTIONS) {
      this.#open++;
      try {
        this.#instance ??= DuckDBInstance.create(':memory:', this.config).catch((e: unknown) => {
          this.#instance = undefined;
          throw e;
        });
        return await (await this.#instance).connect();
      } catch (e) {
        this.#open--;
        throw e;
      }
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(c: DuckDBConnection): void {
    const next = this.#waiting.shift();
    if (next) return next(c);
    this.#idle.push(c);
    if (this.#closed && this.#idle.length === this.#open) this.#drained?.();
  }
}
