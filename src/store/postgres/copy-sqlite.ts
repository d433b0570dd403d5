// Moving an install onto PostgreSQL: a SQLite state's jobs, attempts, outcomes, stored-URL index and
// settings copied in batches (ids and sequence numbers kept, so manifests and `queue show` stay true),
// each batch one transaction with ON CONFLICT DO NOTHING: a second run copies nothing twice, and an
// interrupted one resumes after the last id it committed. Then both sides are counted and a sample
// of rows is compared by checksum.
import type { Database } from "bun:sqlite";
import type { SQL } from "bun";

interface TableCopy {
  table: string;
  /** The key batches walk in order (on the SQLite side). */
  key: string;
  /** A numeric key: a resumed copy starts after the highest one already in PostgreSQL. */
  numeric: boolean;
  /** Identity column whose sequence must continue after the copied ids. */
  identity?: string;
}

/** In dependency order: attempts and outcomes reference jobs. */
export const COPIED_TABLES: readonly TableCopy[] = [
  { table: "settings", key: "key", numeric: false },
  { table: "jobs", key: "id", numeric: true, identity: "id" },
  { table: "attempts", key: "id", numeric: true, identity: "id" },
  { table: "outcomes", key: "seq", numeric: true, identity: "seq" },
  { table: "stored_urls", key: "url", numeric: false },
];

export interface TableCount {
  table: string;
  sqlite: number;
  postgres: number;
  /** Rows this run inserted (0 on a repeat). */
  copied: number;
}

export interface CopyReport {
  tables: TableCount[];
  samples: TableSample[];
}

export interface CopyOptions {
  /** Rows per batch (one PostgreSQL transaction each). */
  batch?: number;
  /** Rows per table compared by checksum. */
  sample?: number;
  onProgress?: (table: string, copied: number) => void;
}

/** Column names and PostgreSQL types of a table, in order. */
async function pgColumns(sql: SQL, table: string): Promise<{ name: string; type: string }[]> {
  const rows = await sql<{ name: string; type: string }[]>`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
    FROM pg_attribute a WHERE a.attrelid = ${table}::regclass AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`;
  return rows;
}

function sqliteColumns(db: Database, table: string): Set<string> {
  return new Set(
    db
      .query<{ name: string }, []>(`PRAGMA table_info(${table})`)
      .all()
      .map((c) => c.name),
  );
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A table's copy plan: the columns both sides have (PostgreSQL-only ones stay NULL or default). */
async function planTable(db: Database, sql: SQL, t: TableCopy) {
  const pg = await pgColumns(sql, t.table);
  const lite = sqliteColumns(db, t.table);
  const columns = pg.filter((c) => lite.has(c.name));
  if (!columns.some((c) => c.name === t.key)) throw new Error(`${t.table}: no column ${t.key} on both sides`);
  const list = columns.map((c) => ident(c.name)).join(", ");
  const recordset = columns.map((c) => `${ident(c.name)} ${c.type}`).join(", ");
  return {
    columns,
    read: db.query<Record<string, unknown>, [string | number | null, number]>(
      `SELECT ${list} FROM ${t.table} WHERE ?1 IS NULL OR ${t.key} > ?1 ORDER BY ${t.key} LIMIT ?2`,
    ),
    insert: `INSERT INTO ${t.table} (${list}) SELECT ${list} FROM jsonb_to_recordset($1::text::jsonb) AS r(${recordset})
      ON CONFLICT DO NOTHING`,
  };
}

async function copyTable(
  db: Database,
  sql: SQL,
  t: TableCopy,
  batch: number,
  onProgress?: (table: string, copied: number) => void,
): Promise<number> {
  const plan = await planTable(db, sql, t);
  let after: string | number | null = null;
  if (t.numeric) {
    // Batches commit in key order, so everything up to the highest key present is already there.
    const [row] = await sql.unsafe<{ k: string | null }[]>(`SELECT max(${t.key}) AS k FROM ${t.table}`);
    if (row?.k != null) after = Number(row.k);
  }
  let copied = 0;
  for (;;) {
    const rows = plan.read.all(after, batch);
    if (rows.length === 0) break;
    const result = await sql.begin((tx) => tx.unsafe(plan.insert, [JSON.stringify(rows)]));
    copied += result.count;
    after = (rows.at(-1) as Record<string, string | number>)[t.key] ?? null;
    onProgress?.(t.table, copied);
  }
  if (t.identity) {
    // Explicit ids do not move an identity's sequence: new rows must continue after the copied ones.
    await sql.unsafe(
      `SELECT setval(pg_get_serial_sequence('${t.table}', '${t.identity}'),
        greatest((SELECT max(${t.identity}) FROM ${t.table}), 1), (SELECT max(${t.identity}) IS NOT NULL FROM ${t.table}))`,
    );
  }
  return copied;
}

/** A row as text both databases agree on: integers as numbers (PostgreSQL answers bigint as text). */
function canonical(
  row: Record<string, unknown>,
  columns: readonly string[],
  numeric: ReadonlySet<string>,
): string {
  return JSON.stringify(
    columns.map((c) => {
      const v = row[c];
      if (v === null || v === undefined) return null;
      return numeric.has(c) ? Number(v) : v;
    }),
  );
}

export interface TableSample {
  table: string;
  rows: number;
  /** One hash over the sampled rows, as each side holds them; equal when the sample matched. */
  sqliteChecksum: string;
  postgresChecksum: string;
  /** Keys of sampled rows that differ or are missing in PostgreSQL. */
  mismatches: string[];
}

async function sampleChecksums(db: Database, sql: SQL, t: TableCopy, sample: number): Promise<TableSample> {
  const plan = await planTable(db, sql, t);
  const names = plan.columns.map((c) => c.name);
  const list = names.map(ident).join(", ");
  const numeric = new Set(
    plan.columns.filter((c) => /^(bigint|integer|smallint)$/.test(c.type)).map((c) => c.name),
  );
  // Spread over the whole table: every n-th row in key order.
  const n = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${t.table}`).get()?.n ?? 0;
  const step = Math.max(1, Math.floor(n / Math.max(1, sample)));
  const rows = db
    .query<Record<string, unknown>, [number, number]>(
      `SELECT ${list} FROM (SELECT *, row_number() OVER (ORDER BY ${t.key}) AS rn FROM ${t.table})
       WHERE (rn - 1) % ?1 = 0 LIMIT ?2`,
    )
    .all(step, sample);
  const mismatches: string[] = [];
  const ours = new Bun.CryptoHasher("sha256");
  const theirs = new Bun.CryptoHasher("sha256");
  for (const row of rows) {
    const [other] = await sql.unsafe<Record<string, unknown>[]>(
      `SELECT ${list} FROM ${t.table} WHERE ${ident(t.key)} = $1`,
      [row[t.key]],
    );
    const a = canonical(row, names, numeric);
    const b = other ? canonical(other, names, numeric) : "missing";
    ours.update(`${a}\n`);
    theirs.update(`${b}\n`);
    if (a !== b) mismatches.push(String(row[t.key]));
  }
  return {
    table: t.table,
    rows: rows.length,
    sqliteChecksum: ours.digest("hex").slice(0, 16),
    postgresChecksum: theirs.digest("hex").slice(0, 16),
    mismatches,
  };
}

/** Copy the SQLite state `db` into the migrated PostgreSQL database `sql`, then verify. */
export async function copySqliteToPostgres(
  db: Database,
  sql: SQL,
  options: CopyOptions = {},
): Promise<CopyReport> {
  const batch = options.batch ?? 5_000;
  const sample = options.sample ?? 20;
  const copied = new Map<string, number>();
  for (const t of COPIED_TABLES) copied.set(t.table, await copyTable(db, sql, t, batch, options.onProgress));
  const report: CopyReport = { tables: [], samples: [] };
  for (const t of COPIED_TABLES) {
    const lite = db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${t.table}`).get()?.n ?? 0;
    const [row] = await sql.unsafe<{ n: string }[]>(`SELECT count(*) AS n FROM ${t.table}`);
    report.tables.push({
      table: t.table,
      sqlite: lite,
      postgres: Number(row?.n ?? 0),
      copied: copied.get(t.table) ?? 0,
    });
    report.samples.push(await sampleChecksums(db, sql, t, sample));
  }
  return report;
}

/** Whether every table has as many rows in PostgreSQL as in SQLite, and the sample matched. */
export function copyVerified(r: CopyReport): boolean {
  return r.samples.every((s) => s.mismatches.length === 0) && r.tables.every((t) => t.sqlite === t.postgres);
}
