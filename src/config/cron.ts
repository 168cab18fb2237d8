// Cron expressions as Temporal Schedules take them: five fields (minute, hour, day of month,
// month, day of week), evaluated in UTC, or one of the @ shorthands. Checked here with
// cron-parser so a typo is a config error naming the job, not a schedule that never fires.
import { CronExpressionParser } from 'cron-parser';

const SHORTHANDS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Why `text` is not a cron expression dccd accepts, or undefined when it is one. */
export function cronProblem(text: string): string | undefined {
  const s = text.trim();
  if (s.startsWith('@')) return SHORTHANDS.includes(s) ? undefined : `unknown shorthand (known: ${SHORTHANDS.join(', ')})`;
  const fields = s.split(/\s+/).length;
  if (fields !== 5) return `${fields} field${fields === 1 ? '' : 's'}; it takes 5 (minute hour day-of-month month day-of-week)`;
  try {
    CronExpressionParser.parse(s, { tz: 'UTC' });
    return undefined;
  } catch (e) {
    return (e as Error).message.replace(/^Validation error, /i, '').replace(/^Constraint error, /i, '');
  }
}
