// The `dccd` command. Thin: parses flags and calls the same functions as the API.
import { Command, Option } from 'commander';
import { loadConfig, DEFAULT_CONFIG_PATH } from '../config/load-config.ts';
import { VERSION } from '../version.ts';
import { runApiOnly, runStart, runWorkerOnly } from './daemon.ts';
import { reportError } from './fail.ts';

const program = new Command('dccd')
  .description('Collects crypto market data (OHLC candles, trades, order books) from exchanges into Parquet, on Temporal.')
  .version(VERSION, '-V, --version')
  .addOption(new Option('-c, --config <path>', `config file (default ${DEFAULT_CONFIG_PATH} if present)`))
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  dccd start                                   embedded Temporal + worker + API on 127.0.0.1:8080
  dccd validate --config dccd.yml              check a config file
  TEMPORAL_ADDRESS=temporal:7233 dccd worker   one worker against a Temporal cluster
`,
  );

const config = () => loadConfig({ path: program.opts<{ config?: string }>().config });

program
  .command('start')
  .description('run everything in one process: the embedded Temporal dev server (unless TEMPORAL_ADDRESS is set), a worker and the HTTP API')
  .option('--headless', 'do not serve the Temporal Web UI')
  .addHelpText('after', '\nExamples:\n  dccd start\n  DCCD_API_PORT=9000 dccd start --headless\n  TEMPORAL_ADDRESS=127.0.0.1:7233 dccd start')
  .action(async (o: { headless?: boolean }) => {
    const cfg = config();
    if (o.headless) cfg.temporal.ui = false;
    await runStart(cfg);
  });

program
  .command('worker')
  .description('run one worker against TEMPORAL_ADDRESS (scale-out)')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal:7233 DATABASE_URL=postgres://... dccd worker')
  .action(async () => runWorkerOnly(config()));

program
  .command('api')
  .description('run the HTTP API against TEMPORAL_ADDRESS (scale-out)')
  .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal:7233 DCCD_API_HOST=0.0.0.0 DCCD_API_TOKEN=... dccd api')
  .action(async () => runApiOnly(config()));

program
  .command('validate')
  .description('check a config file and print what it holds')
  .argument('[file]', 'config file (default: --config or ./dccd.yml)')
  .addHelpText('after', '\nExamples:\n  dccd validate\n  dccd validate dccd.example.yml')
  .action((file?: string) => {
    const cfg = loadConfig({ path: file ?? program.opts<{ config?: string }>().config });
    const where = cfg.temporal.address ?? 'embedded dev server';
    console.log(`ok: ${cfg.jobs.length} job(s), data ${cfg.data}, Temporal ${where}, API ${cfg.api.host}:${cfg.api.port}`);
  });

try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.exitCode = reportError(e);
}
