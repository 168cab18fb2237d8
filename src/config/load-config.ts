// Reads dccd.yml, applies environment overrides and validates the result.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ValidationError } from '../domain/errors.ts';
import { EXCHANGES } from '../domain/target.ts';
import { AppConfigSchema, JobEntrySchema, parsePort, type AppConfig, type JobConfig, type PortClash } from './app-config.ts';
import { ConfigError, DEFAULT_CONFIG_PATH, type ConfigProblem } from './config-error.ts';


export interface LoadOptions {
  /** Path given by --config; when absent, ./dccd.yml if it exists, else defaults. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The config file `opts` names: --config's path, else ./dccd.yml (which need not exist). */
export const configPath = (opts: LoadOptions) => resolve(opts.cwd ?? process.cwd(), opts.path ?? DEFAULT_CONFIG_PATH);

export function loadConfig(opts: LoadOptions = {}): AppConfig {
  const path = configPath(opts);
  return configFromText(existsSync(path) ? readFileSync(path, 'utf8') : undefined, opts);
}

/**
 * The config `text` makes when it is the file `opts` names (undefined: no such file, so
 * defaults), as loadConfig reads it: environment overrides applied, everything validated.
 */
export function configFromText(text: string | undefined, opts: LoadOptions = {}): AppConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const path = configPath(opts);
  const file = text === undefined ? undefined : path;
  if (!file && opts.path) throw new ConfigError(opts.path, [{ field: '', reason: `file not found: ${path}` }]);
  const overrides = environmentOverrides(env);
  const raw = withOverrides(file ? readYaml(file, text!) : {}, overrides.values, file);
  const result = AppConfigSchema.safeParse(raw);
  const problems = result.success ? [] : result.error.issues.map((i) => problemOf(i, raw, overrides.names));
  const fromEnv = (p: ConfigProblem) => Object.values(overrides.names).includes(p.field);
  const envProblems = [...overrides.problems, ...problems.filter(fromEnv)];
  if (envProblems.length > 0 || !result.success) throw new ConfigError(file, problems.filter((p) => !fromEnv(p)), envProblems);
  const cfg = result.data;
  // A relative data path is relative to the config file (or the working directory).
  const base = file ? dirname(file) : cwd;
  return { ...cfg, data: isAbsolute(cfg.data) ? cfg.data : resolve(base, cfg.data) };
}

export function parseConfig(raw: unknown, source = 'config'): AppConfig {
  const result = AppConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, result.error.issues.map((i) => problemOf(i, raw)));
  return result.data;
}

/**
 * One `jobs:` entry (the API's job bodies), validated as the config validates it; its first
 * problem is a ValidationError under `field` (`body.schedule.cron`, `body.colour`).
 */
export function parseJobEntry(raw: unknown, field: string): JobConfig {
  const result = JobEntrySchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // An unknown key is named itself, as a request's other fields are.
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const { reason } = problemOf(issue, raw);
  throw new ValidationError(path.length ? `${field}.${keyPath(path)}` : field, reason);
}

function readYaml(path: string, text: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLParseError) {
      // The library's message ends with its own copy of the position and a code excerpt.
      const reason = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const at = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}: ` : '';
      throw new ConfigError(path, [{ field: '', reason: `${at}${reason}` }]);
    }
    throw e;
  }
}

/** Key paths as the file spells them: `jobs[2].span`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
}

/**
 * `jobs[2].span: required for kind ohlc`. `given` is the input validated: a port clash is laid
 * on a key it holds rather than on one left at its default. `envNames` maps key paths set
 * from the environment to their variables, which the problem then names instead.
 */
function problemOf(issue: z.core.$ZodIssue, given: unknown, envNames: Record<string, string> = {}): ConfigProblem {
  const name = (path: readonly PropertyKey[]) => envNames[keyPath(path)] ?? keyPath(path);
  if (issue.code === 'custom' && issue.params?.sameAs) {
    const clash = issue.params as PortClash;
    const [key, sameAs] = !has(given, clash.key) && has(given, clash.sameAs) ? [clash.sameAs, clash.key] : [clash.key, clash.sameAs];
    return { field: name(key), reason: `${clash.port} is also ${name(sameAs)}` };
  }
  let reason = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'unrecognized_keys') reason = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(reason)) reason = `required (${issue.expected})`;
  return { field: name(issue.path), reason };
}

function has(value: unknown, path: readonly string[]): boolean {
  let v = value;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || !(k in v)) return false;
    v = (v as Json)[k];
  }
  return true;
}

type Json = Record<string, unknown>;

/** Every environment variable that overrides a key, with the key path it sets. */
const ENV_KEYS: { name: string; key: string[]; port?: true }[] = [
  { name: 'DCCD_DATA', key: ['data'] },
  { name: 'TEMPORAL_ADDRESS', key: ['temporal', 'address'] },
  { name: 'TEMPORAL_NAMESPACE', key: ['temporal', 'namespace'] },
  { name: 'DCCD_TASK_QUEUE', key: ['temporal', 'taskQueue'] },
  { name: 'DCCD_TEMPORAL_PORT', key: ['temporal', 'port'], port: true },
  { name: 'DCCD_TEMPORAL_UI_PORT', key: ['temporal', 'uiPort'], port: true },
  { name: 'DATABASE_URL', key: ['database', 'url'] },
  { name: 'DCCD_API_HOST', key: ['api', 'host'] },
  { name: 'DCCD_API_PORT', key: ['api', 'port'], port: true },
  { name: 'DCCD_API_TOKEN', key: ['api', 'token'] },
  ...EXCHANGES.flatMap((ex) => [
    { name: `DCCD_${ex.toUpperCase()}_REST_URL`, key: ['exchanges', ex, 'restUrl'] },
    { name: `DCCD_${ex.toUpperCase()}_WS_URL`, key: ['exchanges', ex, 'wsUrl'] },
  ]),
];

/** The set (non-empty) variables: their values by key path, and problems of those unusable as they are. */
function environmentOverrides(env: NodeJS.ProcessEnv) {
  const values = new Map<string[], unknown>();
  const names: Record<string, string> = {};
  const problems: ConfigProblem[] = [];
  for (const { name, key, port } of ENV_KEYS) {
    const v = env[name];
    if (v === undefined || v === '') continue;
    try {
      values.set(key, port ? parsePort(v, name) : v);
      names[keyPath(key)] = name;
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      problems.push({ field: e.field, reason: e.reason });
    }
  }
  return { values, names, problems };
}

/** Environment variables override the file: DCCD_DATA, TEMPORAL_ADDRESS, ... */
function withOverrides(raw: unknown, values: Map<string[], unknown>, file: string | undefined): Json {
  if (raw === null || raw === undefined) raw = {}; // an empty file
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(file, [{ field: '', reason: 'the file must hold a mapping of keys' }]);
  const cfg = structuredClone(raw) as Json;
  // A section left with only comments in YAML reads as null: treat it as absent.
  for (const [k, v] of Object.entries(cfg)) if (v === null) delete cfg[k];
  for (const [key, value] of values) setAt(cfg, key, value);
  return cfg;
}

/** Sets `value` at `key`, making sections as needed; a section that is not a mapping is left for validation to report. */
function setAt(cfg: Json, key: readonly string[], value: unknown): void {
  let at = cfg;
  for (const k of key.slice(0, -1)) {
    at[k] ??= {};
    const next = at[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return;
    at = next as Json;
  }
  at[key.at(-1)!] = value;
}
