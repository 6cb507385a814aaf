// One transaction on a pooled PostgreSQL connection, for the store and the regional cache's log.
import type {Pool, PoolClient} from 'pg';

/**
 * Runs `fn` between BEGIN and COMMIT on a connection of `pool` and returns what it returns.
 * When `fn` (or the COMMIT) throws, the transaction is rolled back, the connection is dropped from
 * the pool instead of reused (it may be the one that broke: a server restart, a network cut), and
 * the error is rethrown. A `fn` that only read commits harmlessly.
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken = true;
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release(broken);
  }
}
