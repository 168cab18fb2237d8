// What the Temporal dev server prints while it starts, read for why it failed. A failed bind
// is logged as one JSON line and then crashes the server with a nil-pointer panic whose
// stack is a hundred lines long, so the reason is kept as it passes, not looked for in a tail.

/** Lines kept for the error message when there is no file to write the whole output to. */
const TAIL_LINES = 20;
/** Output kept in memory until the server is ready (a panic with every goroutine's stack). */
const MAX_LINES = 5000;

export class ServerStartOutput {
  readonly lines: string[] = [];
  /** The first line that says why the server failed, as a readable sentence. */
  reason: string | undefined;
  /** `host:port` a listener of the server could not bind because another process holds it. */
  busyAddress: string | undefined;

  add(line: string): void {
    if (this.lines.length < MAX_LINES) this.lines.push(line);
    const busy = /listen tcp ([^\s]+:\d+): bind: address already in use/.exec(line);
    if (busy && this.busyAddress === undefined) this.busyAddress = busy[1];
    this.reason ??= reasonOf(line);
  }

  get busyPort(): number | undefined {
    return this.busyAddress === undefined ? undefined : Number(this.busyAddress.slice(this.busyAddress.lastIndexOf(':') + 1));
  }

  tail(): string {
    return this.lines.slice(-TAIL_LINES).join('\n');
  }
}

/** An error-level JSON log line as `msg: error`, a Go panic or a CLI `Error:` line as it is. */
function reasonOf(line: string): string | undefined {
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
      if (!/^(error|fatal|panic)$/i.test(entry.level ?? '')) return undefined;
      return entry.error ? `${entry.msg}: ${entry.error}` : entry.msg;
    } catch {
      return undefined;
    }
  }
  return /^(panic: |fatal error: |Error: )/.test(line) ? line : undefined;
}
