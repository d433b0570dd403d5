// Runs the JobQueue contract against the SQLite implementation on a fresh file per test.
import { rmSync } from "node:fs";
import { openDatabase } from "../../src/store/db.ts";
import { SqliteJobQueue } from "../../src/store/sqlite-queue.ts";
import { tempDir } from "../support/temp.ts";
import { describeJobQueueContract } from "./queue-contract.ts";

describeJobQueueContract("sqlite", ({ now, random, policy }) => {
  const dir = tempDir("queue-contract");
  const db = openDatabase(`${dir}/queue.db`);
  return {
    queue: new SqliteJobQueue(db, policy, { now, random }),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
