// The `dccd` command. Thin: parses flags and calls the same functions as the API.
import './heap-policy.ts';
import { Command, Option } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/config-error.ts';
import { ValidationError } from '../domain/errors.ts';
import { VERSION } from '../version.ts';
import type { BackfillFlags } from './backfill-command.ts';
import { reportError } from './fail.ts';
import type { InventoryFlags } from './inventory-command.ts';
import type { ReadFlags } from './read-command.ts';
import type { RunsFlags } from './runs-command.ts';
import type { StreamFlags } from './stream-command.ts';
import { setLogSink } from '../worker/log-sink.ts';
import { writeLine } from './terminal.ts';

// Each command's module is loaded when it runs: --help, validate and read must not pay for
// Temporal, DuckDB or the embedded Postgres they do not use.
// The SDK's log lines go above the progress line, never into it.
setLogSink(writeLine);
/** What the user ran, for other dccd processes' messages ("in use by dccd backfill ..."). */
const COMMAND_LINE = ['dccd', ...process.argv.slice(2)].join(' ');

/**
 * `--json` (backfill) asks for errors as one JSON object on stdout too. It is read from the
 * arguments rather than the parsed options so that it also covers the errors commander
 * raises while parsing them (an unknown option, a missing --kind).
 */
const operands = process.argv.indexOf('--');
const jsonErrors = process.argv.slice(2, operands < 0 ? undefined : operands).includes('--json');

const program = new Command('dccd')
  .description('Collects crypto market data (OHLC candles, trades, order books) from exchanges into Parquet, on Temporal.')
  .version(VERSION, '-V, --version')
  .addOption(new Option('-c, --config <path>', `config file (default ${DEFAULT_CONFIG_PATH} if present)`))
  // Set before the commands are added, which copy it.
  .configureOutput({
    writeErr: (text) => {
      if (!jsonErrors) process.stderr.write(text);
    },
    outputError: (text, write) => (jsonErrors ? reportError(new Error(text.trim().replace(/^error: /, '')), { json: true }) : write(text)),
  })
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  dccd start                                   embedded Temporal + worker + API on 127.0.0.1:8080
  dccd backfill binance BTCUSDT --kind ohlc --span 1m --start 2024-01-01 --end 2024-03-01 --wait
  dccd read binance BTCUSDT --kind ohlc --span 1m --start 2024-02-01 --format csv
  dccd validate --config dccd.yml              check a config file
  dccd jobs apply                              turn the config's jobs into Temporal Schedules and streams
  TEMPORAL_ADDRESS=temporal:7233 dccd worker   one worker against a Temporal cluster
`,
  );

const config = async (path = program.opts<{ config?: string }>().config) => (await import('../config/load-config.ts')).loadConfig({ path });
/** A daemon's jobs: the same file, read again on each call and changed by the API, relative to where dccd was started. */
const jobStore = async () => new (await import('../jobs/job-store.ts')).JobStore({ path: program.opts<{ config?: string }>().config, cwd: process.cwd() });
const parsePort = async (v: string, flag: string) => (await import('../config/app-config.ts')).parsePort(v, flag);

program
  .command('start')
  .description('run everything in one process: the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set), a worker and the HTTP API')
  .option('--headless', 'do not serve the Temporal Web UI')
  .option('--temporal-port <port>', 'the embedded Temporal server\'s gRPC port (default 7233; env DCCD_TEMPORAL_PORT)')
  .option('--temporal-ui-port <port>', 'the Temporal Web UI\'s port (default 8233; env DCCD_TEMPORAL_UI_PORT)')
  .option('--api-port <port>', 'the HTTP API\'s port (default 8080; env DCCD_API_PORT)')
  .addHelpText(
    'after',
    `
One dccd start serves one data folder ({data}/.dccd/daemon.json names it; other commands of
that folder reach it through that file). A second instance needs its own data folder and
ports; a busy port is refused with the process that holds it.

Examples:
  dccd start
  DCCD_DATA=/srv/dccd-b dccd start --temporal-port 7300 --temporal-ui-port 8300 --api-port 8100
  DCCD_API_PORT=9000 dccd start --headless
  TEMPORAL_ADDRESS=127.0.0.1:7233 dccd start`,
  )
  .action(async (o: { headless?: boolean; temporalPort?: string; temporalUiPort?: string; apiPort?: string }) => {
    const cfg = await config();
    if (o.headless) cfg.temporal.ui = false;
    if (o.temporalPort !== undefined) cfg.temporal.port = await parsePort(o.temporalPort, '--temporal-port');
    if (o.temporalUiPort !== undefined) cfg.temporal.uiPort = await parsePort(o.temporalUiPort, '--temporal-ui-port');
    if (o.apiPort !== undefined) cfg.api.port = await parsePort(o.apiPort, '--api-port');
    const { runStart } = await import('./daemon.ts');
    process.exitCode = await runStart(cfg, await jobStore());
  });

program
  .command('worker')
  .description('run one worker against TEMPORAL_ADDRESS (scale-out); registers dccd\'s search attributes on the namespace if missing')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal:7233 DATABASE_URL=postgres://... dccd worker')
  .action(async () => {
    const { runWorkerOnly } = await import('./daemon.ts');
    process.exitCode = await runWorkerOnly(await config());
  });

program
  .command('api')
  .description('run the HTTP API against TEMPORAL_ADDRESS (scale-out)')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal:7233 DCCD_API_HOST=0.0.0.0 DCCD_API_TOKEN=... dccd api')
  .action(async () => {
    const { runApiOnly } = await import('./daemon.ts');
    process.exitCode = await runApiOnly(await config(), await jobStore());
  });

program
  .command('validate')
  .description('check a config file and print what it holds')
  .argument('[file]', 'config file (default: --config or ./dccd.yml)')
  .addHelpText('after', '\nExamples:\n  dccd validate\n  dccd validate dccd.example.yml')
  .action(async (file?: string) => {
    const cfg = await config(file);
    const { checkConfigJobs } = await import('../jobs/job-plan.ts');
    const jobs = checkConfigJobs(cfg);
    const where = cfg.temporal.address ?? 'embedded dev server';
    console.log(`ok: ${jobs.length} job(s), data ${cfg.data}, Temporal ${where}, API ${cfg.api.host}:${cfg.api.port}`);
  });

program
  .command('backfill')
  .description('download history over REST into the store, as a durable Temporal run (one per dataset at a time)')
  .argument('<exchange>', 'e.g. binance')
  .argument('<symbol>', 'BTCUSDT, BTC/USDT or BTC-USDT')
  .requiredOption('-k, --kind <kind>', 'ohlc, trades or book')
  .option('-s, --span <span>', 'candle span for --kind ohlc: 1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M')
  .option('--start <time>', "last (after what is stored; the default), origin (the exchange's first data), a date, a date-time or ns")
  .option('--end <time>', 'a date, a date-time or ns; exclusive (default: now)')
  .option('--depth <levels>', 'book levels per side for --kind book (default 100)')
  .option('-w, --wait', 'follow the run with a progress bar until it ends')
  .option('--json', 'print the run (or with --wait, its result) as JSON, and an error as {"error", "field", "reason"} on stdout')
  .option('--stop-on-exit', 'with --wait: Ctrl-C stops the run instead of detaching from it')
  .addHelpText(
    'after',
    `
Ranges are half-open, [start, end), in UTC; a date alone means its midnight.
With --json, an error is one JSON object on stdout, e.g.
  {"error":"--kind: unknown kind 'candles' (known: ohlc, trades, book)","field":"--kind","reason":"unknown kind 'candles' (known: ohlc, trades, book)"}
and the exit code is non-zero.

Examples:
  dccd backfill binance BTCUSDT --kind ohlc --span 1m --start 2024-01-01 --end 2024-03-01 --wait
  dccd backfill binance ETH/USDT --kind trades --start last --wait
  dccd backfill binance BTCUSDT --kind book --depth 500`,
  )
  .action(async (exchange: string, symbol: string, o: BackfillFlags) => {
    const { runBackfill } = await import('./backfill-command.ts');
    process.exitCode = await runBackfill(await config(), exchange, symbol, o, COMMAND_LINE);
  });

program
  .command('stream')
  .description('record a dataset live (a stream run, one per dataset; a supervised stream job keeps one running); Binance trades, candles and books today')
  .argument('<exchange>', 'e.g. binance')
  .argument('<symbol>', 'BTCUSDT, BTC/USDT or BTC-USDT')
  .requiredOption('-k, --kind <kind>', 'trades, ohlc (candles, stored once closed) or book (snapshots and the diffs between them)')
  .option('-s, --span <span>', 'candle span for --kind ohlc')
  .option('--depth <levels>', 'book levels per side kept, for --kind book (default 20; binance: up to 5000)')
  .option('--snapshot-interval <time>', 'for --kind book: a whole snapshot stored this often, in seconds or as 30s, 5m, 1h (default 60)')
  .option('--flush-rows <n>', 'rows buffered before they are written (default 1000)')
  .option('--flush-secs <s>', 'longest a received row waits to be written (default 10)')
  .option('-w, --wait', 'follow the stream on one live line (rows, rate, last price, reconnects, gaps); Ctrl-C detaches')
  .option('--json', 'print the run (or with --wait, its result) as JSON')
  .addHelpText(
    'after',
    `
With a daemon (dccd start) serving the data folder the stream runs there until stopped
(dccd stop <run>); without one, this command hosts it, and Ctrl-C stops it after it has
written every row received.

A book stream stores a snapshot of the top levels at its start, after every resync and every
snapshot interval, and between them each change of those levels; dccd read --at rebuilds
the book at any instant from them.

Examples:
  dccd stream binance BTCUSDT --kind trades --wait
  dccd stream binance BTCUSDT --kind book --depth 50 --snapshot-interval 5m
  dccd stop stream/binance/trades/BTC-USDT`,
  )
  .action(async (exchange: string, symbol: string, o: StreamFlags) => {
    const { runStream } = await import('./stream-command.ts');
    process.exitCode = await runStream(await config(), exchange, symbol, o, COMMAND_LINE);
  });

program
  .command('streams')
  .description("list the streams: each one running and each supervised job's (running or not), with rows, rate, last price, reconnects and gaps")
  .option('--json', 'print them as JSON, as GET /api/streams answers')
  .addHelpText('after', '\nExamples:\n  dccd streams\n  dccd stop stream/binance/trades/BTC-USDT')
  .action(async (o: { json?: boolean }) => {
    const { runStreams } = await import('./streams-command.ts');
    await runStreams(await config(), o, COMMAND_LINE);
  });

const runs = program
  .command('runs')
  .description('list runs (scheduled, manual and API), newest first')
  .option('--state <state>', 'pending, running, stopping, succeeded, failed, stopped, cancelled or timed_out')
  .option('--spec <job>', 'only the runs of this job (backfill:binance:BTC-USDT:ohlc-1m)')
  .option('--limit <n>', 'at most this many (default 50)')
  .option('--json', 'print the page as JSON')
  .addHelpText('after', '\nExamples:\n  dccd runs --state running\n  dccd runs show 0193f0c4-1b7e-7c1a-9d2e-6f1f1c0e2a11\n  dccd runs follow backfill/binance/ohlc-1m/BTC-USDT')
  .action(async (o: RunsFlags) => {
    const { runRuns } = await import('./runs-command.ts');
    await runRuns(await config(), o, COMMAND_LINE);
  });
runs
  .command('show')
  .description('one run: state, progress, error, its log tail')
  .argument('<run>', 'run id, or the workflow id (backfill/<exchange>/<dataset kind>/<BASE-QUOTE>)')
  .option('--json', 'print it as JSON')
  .action(async (run: string, o: { json?: boolean }) => {
    const { runRunsShow } = await import('./runs-command.ts');
    await runRunsShow(await config(), run, o, COMMAND_LINE);
  });
runs
  .command('follow')
  .description('follow a run live until it ends (Ctrl-C detaches; the run goes on)')
  .argument('<run>', 'run id or workflow id')
  .action(async (run: string) => {
    const { runRunsFollow } = await import('./runs-command.ts');
    process.exitCode = await runRunsFollow(await config(), run, COMMAND_LINE);
  });

const jobs = program.command('jobs').description("the config's jobs: each one dataset and operation, with its trigger");
jobs
  .command('list')
  .description('list the jobs the config declares, one per dataset (an entry with several symbols is several jobs)')
  .option('--json', 'print them as JSON')
  .action(async (o: { json?: boolean }) => {
    const { runJobsList } = await import('./jobs-command.ts');
    runJobsList(await config(), o);
  });
jobs
  .command('apply')
  .description("make the Temporal Schedules and supervised streams match the config's jobs (dccd start does this too); changes only what changed")
  .addHelpText('after', '\nExample:\n  dccd jobs apply --config dccd.yml')
  .action(async () => {
    const { runJobsApply } = await import('./schedules-command.ts');
    await runJobsApply(await config(), COMMAND_LINE);
  });
jobs
  .command('run')
  .description("run a job now, outside its schedule; while its dataset has a run going, names that run instead")
  .argument('<job>', 'a job id, as dccd jobs list shows it')
  .option('-w, --wait', 'follow the run until it ends')
  .addHelpText('after', '\nExample:\n  dccd jobs run backfill:binance:BTC-USDT:ohlc-1m --wait')
  .action(async (job: string, o: { wait?: boolean }) => {
    const { runJobsRun } = await import('./jobs-command.ts');
    process.exitCode = await runJobsRun(await config(), job, o, COMMAND_LINE);
  });

program
  .command('inventory')
  .description('list every dataset stored (tracked by a job or not): rows, files, size, first and last ts, holes')
  .option('--exchange <name>', 'only this exchange')
  .option('--kind <kind>', 'only this dataset kind: ohlc-<span>, trades or book')
  .option('--json', 'print it as JSON (ns as strings), as GET /api/inventory answers')
  .addHelpText('after', '\nExample:\n  dccd inventory --kind ohlc-1m')
  .action(async (o: InventoryFlags) => {
    const { runInventory } = await import('./inventory-command.ts');
    await runInventory(await config(), o);
  });

const schedules = program.command('schedules').description('the Temporal Schedules of scheduled jobs (dccd/<job id>)');
schedules
  .command('list')
  .description('list the schedules: state, next run, runs taken, summary')
  .option('--json', 'print them as JSON')
  .action(async (o: { json?: boolean }) => {
    const { runSchedulesList } = await import('./schedules-command.ts');
    await runSchedulesList(await config(), o, COMMAND_LINE);
  });
for (const [action, what] of [
  ['pause', 'stop taking scheduled actions'],
  ['unpause', 'take scheduled actions again'],
  ['trigger', 'run the job now (skipped while its last run still runs)'],
] as const) {
  schedules
    .command(action)
    .description(`${what}`)
    .argument('<job>', 'job id (backfill:binance:BTC-USDT:ohlc-1m) or schedule id (dccd/...)')
    .action(async (job: string) => {
      const { runScheduleAction } = await import('./schedules-command.ts');
      await runScheduleAction(await config(), action, job, COMMAND_LINE);
    });
}

program
  .command('read')
  .description('print or save a range of a dataset from the store')
  .argument('<exchange>')
  .argument('<symbol>')
  .requiredOption('-k, --kind <kind>', 'ohlc, trades or book')
  .option('-s, --span <span>', 'candle span for --kind ohlc')
  .option('--start <time>', 'a date, a date-time or ns (default: the first row)')
  .option('--end <time>', 'exclusive (default: after the last row)')
  .option('--at <time>', 'for --kind book: the book at this instant, rebuilt from the last snapshot before it and the diffs after it (instead of a range)')
  .option('--depth <levels>', 'with --at: levels per side at most')
  .option('-f, --format <format>', 'csv, json (an array), jsonl (one object per line), arrow (an Arrow IPC stream) or parquet; ts as ISO text and ts_ns as a string', 'csv')
  .option('-o, --out <file>', 'write to a file (written whole, then renamed into place) instead of stdout')
  .addHelpText(
    'after',
    `
A range with no rows prints a note on stderr (CSV still prints its header, JSON []) and exits 0.
With --at, the rows are the book's levels (side, level from 0 = best, price, amount), each with
the ts and seq of the last update applied; an instant before the first snapshot is an error.

Examples:
  dccd read binance BTCUSDT --kind ohlc --span 1m --start 2024-02-01 --end 2024-02-02
  dccd read binance BTCUSDT --kind trades --format jsonl --out trades.jsonl
  dccd read binance BTCUSDT --kind book --at 2024-02-01T12:00:00Z --depth 10
  dccd read binance BTCUSDT --kind ohlc --span 1h --format parquet --out btc-1h.parquet`,
  )
  .action(async (exchange: string, symbol: string, o: ReadFlags) => {
    const { runRead } = await import('./read-command.ts');
    await runRead(await config(), exchange, symbol, o);
  });

program
  .command('stop')
  .description('end a run and wait until it has ended: windows in flight finish, or end at once if they are retrying')
  .argument('<run>', 'run id, or the workflow id (backfill/<exchange>/<dataset kind>/<BASE-QUOTE>, e.g. backfill/binance/ohlc-1m/BTC-USDT)')
  .option('--no-wait', 'only ask the run to stop (not with nothing else running: then this command runs the worker that stops it)')
  .addHelpText(
    'after',
    '\nExamples:\n  dccd stop 0193f0c4-1b7e-7c1a-9d2e-6f1f1c0e2a11\n  dccd stop backfill/binance/ohlc-1m/BTC-USDT --no-wait',
  )
  .action(async (run: string, o: { wait: boolean }) => {
    const { runStop } = await import('./stop-command.ts');
    process.exitCode = await runStop(await config(), run, o, COMMAND_LINE);
  });

program
  .command('migrate')
  .description('move datasets stored in the first layout ({data}/{exchange}/{kind}/{SYMBOL}) to {data}/{kind}/exchange=…/symbol=…')
  .addHelpText(
    'after',
    `
Any dccd command does this by itself the first time it opens such a data folder; migrate
does it on demand (e.g. after copying old datasets in) and prints one line per dataset moved.
A part in both layouts keeps the newer write.

Example:
  DCCD_DATA=/srv/dccd/data dccd migrate`,
  )
  .action(async () => {
    const { runMigrate } = await import('./migrate-command.ts');
    await runMigrate(await config());
  });

program
  .command('sim')
  .description('run the local exchange simulator (real REST/WebSocket dialects, synthetic deterministic markets)')
  .option('-p, --port <port>', 'port on 127.0.0.1', '9100')
  .option('--seed <n>', 'market seed', '1')
  .addHelpText('after', '\nExample:\n  dccd sim --port 9100 &\n  DCCD_BINANCE_REST_URL=http://127.0.0.1:9100/binance dccd backfill binance BTCUSDT --kind ohlc --span 1m --start 2024-01-01 --wait')
  .action(async (o: { port: string; seed: string }) => {
    const { startSim } = await import('../sim/index.ts');
    const sim = await startSim({ port: await parsePort(o.port, '--port'), seed: positiveInt(o.seed, '--seed') });
    console.log(`dccd sim ready  ${sim.url}  (binance REST ${sim.url}/binance)`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    await sim.close();
  });

function positiveInt(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new ValidationError(flag, `'${v}' is not a whole number`);
  return Number(v);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e, { json: jsonErrors });
}
