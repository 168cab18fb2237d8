// dccd's custom search attributes as plain data: the workflows set them, clients filter by
// them, and a server is started with them. No SDK module is loaded here, so a command can
// spawn its embedded server before it has loaded any of Temporal's JavaScript.
import type { SearchAttributeType } from '@temporalio/common';

// The same object the SDK's defineSearchAttributeKey makes (its SearchAttributeKey<T>).
const key = <T extends SearchAttributeType>(name: string, type: T): { name: string; type: T } => ({ name, type });

export const SA = {
  /** The run id users see: the first execution's run id, stable across continue-as-new. */
  runId: key('DccdRunId', 'KEYWORD'),
  specId: key('DccdSpecId', 'KEYWORD'),
  operation: key('DccdOperation', 'KEYWORD'),
  exchange: key('DccdExchange', 'KEYWORD'),
  symbol: key('DccdSymbol', 'KEYWORD'),
  kind: key('DccdKind', 'KEYWORD'),
  /** running, stopping, completed, stopped or failed: a stopped run is not a completed one in any list. */
  state: key('DccdState', 'KEYWORD'),
  rowsWritten: key('RowsWritten', 'INT'),
} as const;

/** Every custom search attribute the runs model needs, for registration on a server. */
export const SEARCH_ATTRIBUTE_KEYS = Object.values(SA);

/** The Temporal CLI's name of a type: Keyword, Int, ... */
export const CLI_TYPE_NAMES: Record<SearchAttributeType, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};
