// Where the SDK runtime's log lines go (runtime.ts); apart from it so that setting the sink
// does not load the SDK. The CLI swaps in one that writes above its progress line.
export type LogSink = (line: string) => void;

let sink: LogSink = (line) => process.stderr.write(`${line}\n`);

export function setLogSink(next: LogSink): void {
  sink = next;
}

export function logLine(line: string): void {
  sink(line);
}
