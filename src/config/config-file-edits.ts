// Edits of the config file's `jobs:` list that leave every other byte as it was: the YAML is
// parsed only to find where an entry's text lies (yaml's node ranges), and the edit splices
// that span, so the user's comments, key order, quoting and layout survive. A new entry takes
// the style of its neighbour (flow `{ … }` or block). The result is written atomically.
import { randomUUID } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Document, isMap, isSeq, parseDocument, type Node, type Pair, type YAMLSeq } from 'yaml';
import { StorageError } from '../domain/errors.ts';

/** A job entry as its keys are to be written. */
export type JobEntryText = Record<string, unknown>;

const NEW_FILE_HEADER = '# dccd configuration (see dccd.example.yml); jobs created through the API are kept here.\n';

/** `text` (undefined: no file yet) with `entry` added at the end of `jobs:`, which is made if missing. */
export function appendJobEntry(text: string | undefined, entry: JobEntryText): string {
  const source = text ?? NEW_FILE_HEADER;
  const { seq, pair } = jobsList(source);
  if (seq && seq.items.length > 0) return insertAfter(source, seq, seq.items.length - 1, entry);
  const item = `  - ${render(entry, true, 4)}\n`;
  if (!pair) return `${source}${source === '' || source.endsWith('\n') ? '' : '\n'}jobs:\n${item}`;
  // `jobs:` with nothing under it, or `jobs: []`: the entry goes on the next line, and an
  // empty value written out (`[]`, `~`) goes, so that the list is the key's value.
  const value = pair.value as Node;
  const colon = source.indexOf(':', keyEnd(pair)) + 1;
  const end = valueEnd(source, value)!;
  const at = lineEnd(source, colon);
  const withItem = splice(source, at, at, `${at === source.length && !source.endsWith('\n') ? '\n' : ''}${item}`);
  return end > value.range![0] ? splice(withItem, colon, end, '') : withItem;
}

/** Entry `i` replaced by `entry`, written in the style the old one had. */
export function replaceJobEntry(text: string, i: number, entry: JobEntryText): string {
  const seq = jobsList(text).seq!;
  const item = seq.items[i] as Node;
  const [start] = item.range!;
  return splice(text, start, valueEnd(text, item)!, render(entry, isFlow(seq, item), start - lineStart(text, start)));
}

export function removeJobEntry(text: string, i: number): string {
  return removeItem(text, jobsList(text).seq!, i);
}

/** Symbol `k` taken out of entry `i`'s `symbols`; the rest of the entry stays as written. */
export function removeEntrySymbol(text: string, i: number, k: number): string {
  const entry = jobsList(text).seq!.items[i];
  const symbols = isMap(entry) ? entry.get('symbols', true) : undefined;
  if (!isSeq(symbols)) throw new Error(`jobs[${i}] lists no symbols`);
  return removeItem(text, symbols, k);
}

/** Symbol `k` of entry `i` split out into `entry`, written right after what is left of it. */
export function splitJobEntry(text: string, i: number, k: number, entry: JobEntryText): string {
  const rest = removeEntrySymbol(text, i, k);
  return insertAfter(rest, jobsList(rest).seq!, i, entry);
}

function jobsList(text: string): { seq?: YAMLSeq; pair?: Pair } {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message);
  const root = doc.contents;
  const pair = isMap(root) ? root.items.find((p) => (p.key as { value?: unknown } | null)?.value === 'jobs') : undefined;
  return { ...(isSeq(pair?.value) && { seq: pair.value }), ...(pair && { pair }) };
}

/** `entry` as YAML text; lines after the first are indented to `indent` columns. */
function render(entry: JobEntryText, flow: boolean, indent: number): string {
  const doc = new Document(entry);
  if (flow && isMap(doc.contents)) doc.contents.flow = true;
  return doc.toString({ lineWidth: 0 }).trimEnd().split('\n').join(`\n${' '.repeat(indent)}`);
}

const isFlow = (seq: YAMLSeq, item: Node) => Boolean(seq.flow) || (isMap(item) && Boolean(item.flow));

function insertAfter(text: string, seq: YAMLSeq, i: number, entry: JobEntryText): string {
  const item = seq.items[i] as Node;
  const end = valueEnd(text, item)!;
  if (seq.flow) return splice(text, end, end, `, ${render(entry, true, 0)}`);
  const dash = text.lastIndexOf('-', item.range![0]);
  const column = dash - lineStart(text, dash);
  const at = lineEnd(text, end);
  const newline = at === text.length && !text.endsWith('\n') ? '\n' : '';
  return splice(text, at, at, `${newline}${' '.repeat(column)}- ${render(entry, isFlow(seq, item), column + 2)}\n`);
}

/** Item `k` out of a list: from a flow list with the comma beside it, from a block list with its lines. */
function removeItem(text: string, seq: YAMLSeq, k: number): string {
  const items = seq.items as Node[];
  const item = items[k]!;
  if (seq.flow) {
    if (k > 0) return splice(text, valueEnd(text, items[k - 1]!)!, valueEnd(text, item)!, '');
    return splice(text, item.range![0], items[1] ? items[1].range![0] : valueEnd(text, item)!, '');
  }
  const dash = text.lastIndexOf('-', item.range![0]);
  return splice(text, lineStart(text, dash), lineEnd(text, valueEnd(text, item)!), '');
}

/** Where a node's own text ends (a block mapping's range runs on over its newline). */
function valueEnd(text: string, node: Node | null): number | undefined {
  if (!node?.range) return undefined;
  let end = node.range[1];
  while (end > node.range[0] && /\s/.test(text[end - 1]!)) end--;
  return end;
}

const keyEnd = (pair: Pair) => (pair.key as Node).range![1];
const lineStart = (text: string, pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
/** The end of the line `pos` is on, past its newline (a trailing comment stays with its line). */
function lineEnd(text: string, pos: number): number {
  const nl = text.indexOf('\n', pos);
  return nl < 0 ? text.length : nl + 1;
}
const splice = (text: string, from: number, to: number, insert: string) => text.slice(0, from) + insert + text.slice(to);

/**
 * Replaces the file at `path` (through a symlink, the file it names) with `text`, whole or
 * not at all: written to a temporary file beside it with the old one's permissions, synced,
 * then renamed over it, and the folder synced so the rename survives a power loss.
 */
export async function replaceFile(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const mode = (await stat(target).catch(() => undefined))?.mode ?? 0o644;
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomUUID().slice(0, 8)}.tmp`);
  const refused = (e: unknown) => new StorageError(path, (e as Error).message);
  const fh = await open(tmp, 'wx').catch((e) => Promise.reject(refused(e)));
  try {
    try {
      await fh.chmod(mode & 0o7777);
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw refused(e);
  }
  const folder = await open(dirname(target), 'r');
  // Some file systems cannot sync a folder; the rename holds all the same.
  await folder.sync().catch(() => undefined);
  await folder.close();
}
