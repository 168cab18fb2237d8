// Reads dccd.yml, applies environment overrides and validates the result.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve, dirname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { EXCHANGES } from '../domain/target.ts';
import { AppConfigSchema, type AppConfig } from './app-config.ts';

export const DEFAULT_CONFIG_PATH = './dccd.yml';

/** A config that failed validation; `problems` holds one line per issue. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface LoadOptions {
  /** Path given by --config; when absent, ./dccd.yml if it exists, else defaults. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function loadConfig(opts: LoadOptions = {}): AppConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const path = resolve(cwd, opts.path ?? DEFAULT_CONFIG_PATH);
  let raw: unknown = {};
  if (existsSync(path)) raw = readYaml(path);
  else if (opts.path) throw new ConfigError(opts.path, [`file not found: ${path}`]);
  const source = existsSync(path) ? path : 'defaults';
  const withEnv = applyEnv(raw ?? {}, env, source);
  const cfg = parseConfig(withEnv, source);
  // A relative data path is relative to the config file (or the working directory).
  const base = existsSync(path) ? dirname(path) : cwd;
  return { ...cfg, data: isAbsolute(cfg.data) ? cfg.data : resolve(base, cfg.data) };
}

export function parseConfig(raw: unknown, source = 'config'): AppConfig {
  const result = AppConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, result.error.issues.map(formatIssue));
  return result.data;
}

function readYaml(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const [line, col] = [e.linePos?.[0].line, e.linePos?.[0].col];
      throw new ConfigError(path, [`line ${line}, column ${col}: ${e.message.split('\n')[0]}`]);
    }
    throw e;
  }
}

/** `jobs[2].span: required for kind ohlc` */
export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
  let message = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'unrecognized_keys') message = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = `required (${issue.expected})`;
  return path ? `${path}: ${message}` : message;
}

type Json = Record<string, unknown>;

/** Environment variables override the file: DCCD_DATA, TEMPORAL_ADDRESS, ... */
function applyEnv(raw: unknown, env: NodeJS.ProcessEnv, source: string): Json {
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(source, ['the file must hold a mapping of keys']);
  const cfg = structuredClone(raw) as Json;
  // A section left with only comments in YAML reads as null: treat it as absent.
  for (const [k, v] of Object.entries(cfg)) if (v === null) delete cfg[k];
  const section = (k: string): Json => {
    const v = cfg[k];
    if (v === undefined || v === null) return (cfg[k] = {});
    return v as Json;
  };
  const set = (name: string, apply: (v: string) => void) => {
    const v = env[name];
    if (v !== undefined && v !== '') apply(v);
  };
  set('DCCD_DATA', (v) => (cfg.data = v));
  set('TEMPORAL_ADDRESS', (v) => (section('temporal').address = v));
  set('TEMPORAL_NAMESPACE', (v) => (section('temporal').namespace = v));
  set('DCCD_TASK_QUEUE', (v) => (section('temporal').taskQueue = v));
  set('DATABASE_URL', (v) => (section('database').url = v));
  set('DCCD_API_HOST', (v) => (section('api').host = v));
  set('DCCD_API_PORT', (v) => (section('api').port = numberFrom(v, 'DCCD_API_PORT', source)));
  set('DCCD_API_TOKEN', (v) => (section('api').token = v));
  for (const ex of EXCHANGES) {
    const up = ex.toUpperCase();
    const endpoints = () => ((section('exchanges')[ex] ??= {}) as Json);
    set(`DCCD_${up}_REST_URL`, (v) => (endpoints().restUrl = v));
    set(`DCCD_${up}_WS_URL`, (v) => (endpoints().wsUrl = v));
  }
  return cfg;
}

function numberFrom(v: string, name: string, source: string): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(source, [`${name}: '${v}' is not a port number`]);
  return Number(v);
}
