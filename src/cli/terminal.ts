// stderr as the CLI shares it: a status line redrawn in place (the progress bar, on a
// terminal) and whole lines printed above it, so a log line never lands in the middle of
// the bar and the bar comes back after it.
let status: string | undefined;
const tty = (): boolean => Boolean(process.stderr.isTTY);

/** Shows `line` as the status line (a terminal only; elsewhere nothing is drawn). */
export function setStatus(line: string): void {
  if (!tty()) return;
  // A line wider than the terminal wraps, and only its last row would be redrawn.
  const width = process.stderr.columns || 80;
  status = line.length < width ? line : `${line.slice(0, width - 2)}…`;
  process.stderr.write(`\r\x1b[2K${status}`);
}

/** Ends the status line, leaving its last state on screen. */
export function endStatus(): void {
  if (status === undefined) return;
  status = undefined;
  process.stderr.write('\n');
}

/** Prints a whole line on stderr, above the status line. */
export function writeLine(line: string): void {
  if (status === undefined) {
    process.stderr.write(`${line}\n`);
    return;
  }
  process.stderr.write(`\r\x1b[2K${line}\n${status}`);
}
