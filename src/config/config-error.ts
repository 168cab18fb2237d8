// A configuration's problems, apart from the loader so that reporting them (every CLI
// error path) does not load the YAML parser and the schema.

export const DEFAULT_CONFIG_PATH = './dccd.yml';

/** One problem: the key path (or the environment variable) at fault, and why. */
export interface ConfigProblem {
  field: string;
  reason: string;
}

/**
 * A configuration that failed validation. Problems of the file are listed under its name
 * (a single one on the same line); problems of an environment variable name the variable,
 * one line each, since the file is not at fault.
 */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(
    readonly source: string | undefined,
    readonly fileProblems: ConfigProblem[],
    readonly envProblems: ConfigProblem[] = [],
  ) {
    const line = (p: ConfigProblem) => (p.field ? `${p.field}: ${p.reason}` : p.reason);
    super([...envProblems.map(line), ...underFile(source, fileProblems.map(line))].join('\n'));
    this.problems = [...envProblems, ...fileProblems].map(line);
  }

  /** The problem when there is exactly one, for reports that name a field. */
  get only(): ConfigProblem | undefined {
    const all = [...this.envProblems, ...this.fileProblems];
    return all.length === 1 ? all[0] : undefined;
  }
}

/** A file's problems under its name: one on the same line, several indented below it. */
function underFile(source: string | undefined, lines: string[]): string[] {
  if (!source || lines.length === 0) return lines;
  if (lines.length === 1) return [`${source}: ${lines[0]}`];
  return [`${source}: invalid configuration`, ...lines.map((l) => `  ${l}`)];
}
