/// The PostgreSQL store's schema versions, applied in order and recorded in `schema_migrations`.
/// Never edit a shipped migration; add a new one. Every table is keyed by `site` first: one
/// database holds many sites.
enum PostgresSchema {
    struct Migration: Sendable {
        let version: String
        /// One statement each: the extended query protocol takes one at a time.
        let statements: [String]
    }

    /// The transaction-level advisory lock that serialises migrations across processes. Its
    /// two-integer form lives in another key space than the sites' one-bigint apply locks.
    static let migrationLockKey = "1684234849, 1"

    static let migrations: [Migration] = [
        Migration(version: "1-initial", statements: [
            "CREATE TABLE site_state (site TEXT PRIMARY KEY NOT NULL, serial BIGINT NOT NULL, manifest_digest TEXT, revision TEXT)",
            """
            CREATE TABLE node_assignment (site TEXT NOT NULL, node TEXT NOT NULL, pool TEXT, power_state TEXT NOT NULL,
                                          estimated_w DOUBLE PRECISION NOT NULL DEFAULT 0, PRIMARY KEY (site, node))
            """,
            "CREATE TABLE workload_state (site TEXT NOT NULL, workload TEXT NOT NULL, unplaced BIGINT NOT NULL, PRIMARY KEY (site, workload))",
            """
            CREATE TABLE replica (site TEXT NOT NULL, workload TEXT NOT NULL, replica_index BIGINT NOT NULL, position BIGINT NOT NULL,
                                  node TEXT NOT NULL, PRIMARY KEY (site, workload, replica_index, position))
            """,
            """
            CREATE TABLE tier_state (site TEXT NOT NULL, tier TEXT NOT NULL, raw_tib DOUBLE PRECISION NOT NULL, satisfied BOOLEAN NOT NULL,
                                     PRIMARY KEY (site, tier))
            """,
            "CREATE TABLE tier_drive (site TEXT NOT NULL, node TEXT NOT NULL, drive TEXT NOT NULL, tier TEXT NOT NULL, PRIMARY KEY (site, node, drive))",
            "CREATE TABLE access_grant (site TEXT NOT NULL, policy TEXT NOT NULL, pool TEXT NOT NULL, PRIMARY KEY (site, policy, pool))",
            "CREATE TABLE node_drain (site TEXT NOT NULL, node TEXT NOT NULL, cause TEXT NOT NULL, PRIMARY KEY (site, node))",
            """
            CREATE TABLE node_observed (site TEXT NOT NULL, node TEXT NOT NULL, health TEXT, power_state TEXT, updated_at TEXT NOT NULL,
                                        PRIMARY KEY (site, node))
            """,
            """
            CREATE TABLE apply_history (site TEXT NOT NULL, id BIGINT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
                                        user_name TEXT NOT NULL, host TEXT NOT NULL, revision TEXT, manifest_digest TEXT NOT NULL,
                                        plan_digest TEXT NOT NULL, summary TEXT NOT NULL, change_count BIGINT NOT NULL, serial BIGINT NOT NULL,
                                        status TEXT NOT NULL, done BIGINT, failed BIGINT NOT NULL, skipped BIGINT NOT NULL, resumes BIGINT,
                                        actor TEXT, PRIMARY KEY (site, id))
            """,
            """
            CREATE TABLE apply_lock (site TEXT PRIMARY KEY NOT NULL, host TEXT NOT NULL, pid BIGINT NOT NULL, process_start TEXT,
                                     since TEXT NOT NULL, command TEXT NOT NULL, backend_pid INTEGER NOT NULL)
            """,
            """
            CREATE TABLE apply_journal (site TEXT NOT NULL, id BIGINT NOT NULL, plan_json TEXT NOT NULL, base_serial BIGINT NOT NULL,
                                        started_at TEXT NOT NULL, user_name TEXT NOT NULL, host TEXT NOT NULL, finished_at TEXT,
                                        history_id BIGINT, PRIMARY KEY (site, id))
            """,
            """
            CREATE TABLE journal_step (site TEXT NOT NULL, apply_id BIGINT NOT NULL, step BIGINT NOT NULL, action TEXT NOT NULL,
                                       resource TEXT NOT NULL, state TEXT NOT NULL, attempts BIGINT NOT NULL, error TEXT,
                                       updated_at TEXT NOT NULL, PRIMARY KEY (site, apply_id, step),
                                       FOREIGN KEY (site, apply_id) REFERENCES apply_journal (site, id))
            """,
            """
            CREATE TABLE audit_log (site TEXT NOT NULL, id BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, revision TEXT,
                                    plan_digest TEXT NOT NULL, status TEXT NOT NULL, actions TEXT NOT NULL, previous_hash TEXT NOT NULL,
                                    hash TEXT NOT NULL, PRIMARY KEY (site, id))
            """,
            """
            CREATE TABLE actuator_record (site TEXT NOT NULL, resource_site TEXT NOT NULL, actuator TEXT NOT NULL, key TEXT NOT NULL,
                                          value TEXT NOT NULL, PRIMARY KEY (site, resource_site, actuator, key))
            """,
        ]),
        // Issue 16, HA serve: who leads each site (the row is only believed while its session
        // holds the site's leader lock).
        Migration(version: "2-serve-leader", statements: [
            """
            CREATE TABLE serve_leader (site TEXT PRIMARY KEY NOT NULL, host TEXT NOT NULL, pid BIGINT NOT NULL, since TEXT NOT NULL,
                                       backend_pid INTEGER NOT NULL)
            """,
        ]),
        // Issue 16, fencing: each new leader bumps the epoch; fenced writes check it FOR SHARE.
        Migration(version: "3-leader-epoch", statements: [
            "ALTER TABLE serve_leader ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0",
        ]),
    ]
}
