// dccd's custom search attributes (run id, spec, operation, dataset, state, rows) must exist
// on the namespace before the first run: lists and the Web UI filter by them, and a workflow
// that sets an unknown one fails. The embedded server registers them at start; on a cluster a
// worker registers the missing ones, or says which command does when it may not.
import { SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import type { OperatorService } from '@temporalio/client';
import proto from '@temporalio/proto';
import { CLI_TYPE_NAMES } from '../workflows/search-attribute-keys.ts';

type Key = SearchAttributeKey<SearchAttributeType>;

const { IndexedValueType } = proto.temporal.api.enums.v1;

const INDEXED: Record<string, number> = {
  [SearchAttributeType.KEYWORD]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.TEXT]: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  [SearchAttributeType.INT]: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.DOUBLE]: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  [SearchAttributeType.BOOL]: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  [SearchAttributeType.DATETIME]: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.KEYWORD_LIST]: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Registers the keys the namespace lacks; returns their names. */
export async function ensureSearchAttributes(operator: OperatorService, namespace: string, keys: readonly Key[]): Promise<string[]> {
  const existing = await operator.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = keys.filter((k) => !known.has(k.name));
  if (missing.length === 0) return [];
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((k) => [k.name, INDEXED[k.type]!])) });
  } catch (e) {
    const command = [
      `temporal operator search-attribute create --namespace ${namespace}`,
      ...missing.map((k) => `--name ${k.name} --type ${CLI_TYPE_NAMES[k.type]}`),
    ].join(' ');
    throw new Error(`temporal: the namespace '${namespace}' lacks dccd's search attributes and they could not be added (${(e as Error).message}); run: ${command}`);
  }
  return missing.map((k) => k.name);
}
