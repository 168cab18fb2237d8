// A real Postgres through a `pg` pool: the database shared by every dccd process of a
// scaled-out deployment (DATABASE_URL).
import pg from 'pg';
import type { SqlDatabase, SqlSession } from './sql-database.ts';

// pg hands int8 over as a string (it may not fit a JS number); ns times need it exact.
const types: pg.CustomTypesConfig = {
  getTypeParser: (oid, format) => (oid === pg.types.builtins.INT8 ? (text: string) => BigInt(text) : pg.types.getTypeParser(oid, format)),
};

/** Connects lazily: the first query reports an unreachable server. */
export function connectPostgres(url: string): SqlDatabase {
  const pool = new pg.Pool({ connectionString: url, types });
  // An idle connection dropped by the server is discarded and replaced by the next query;
  // without a listener the pool's 'error' event would end the process.
  pool.on('error', () => {});
  return {
    ...session(pool),
    async transaction(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(session(client));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch((err: Error) => (broken = err));
        throw e;
      } finally {
        client.release(broken); // a connection that cannot roll back is closed, not reused
      }
    },
    close: () => pool.end(),
  };
}

function session(q: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async query<T>(sql: string, params: unknown[] = []) {
      return (await q.query(sql, params)).rows as T[];
    },
    async exec(sql) {
      await q.query(sql);
    },
  };
}
