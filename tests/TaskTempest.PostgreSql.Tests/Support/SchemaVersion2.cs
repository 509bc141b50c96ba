namespace TaskTempest.PostgreSql.Tests.Support;

/// <summary>The schema script of version 2 (TempestPostgreSqlSchema.Script at commit 256af22, unchanged): a schema as
/// workers of that version left it, for the upgrade test.</summary>
internal static class SchemaVersion2
{
    public static string Script(string schema) => $"""

            CREATE SCHEMA IF NOT EXISTS {schema};
            CREATE SEQUENCE IF NOT EXISTS {schema}.lease_tokens;
            CREATE TABLE IF NOT EXISTS {schema}.jobs (
                id                 text PRIMARY KEY,
                seq                bigserial NOT NULL,          -- enqueue order: the tie-break of equal run-ats
                queue              text NOT NULL DEFAULT 'default',               -- the queue name that claims it (the instance's)
                envelope_queue     text,                        -- the envelope's named queue, carried (routing by it comes later)
                task               text NOT NULL DEFAULT '?',             -- the wire name ('?' until a raw text is parsed)
                body               text NOT NULL,               -- the message as written (bare array or envelope)
                state              smallint NOT NULL DEFAULT 0,           -- 0 waiting, 1 retrying, 2 running, 3 dead, 4 completed (kept)
                priority           integer NOT NULL DEFAULT 0,
                run_at             timestamptz NOT NULL DEFAULT now(),        -- due from then, on the server's clock
                scheduled_for      timestamptz,                 -- the envelope's run-at, as submitted or retried
                attempt            integer NOT NULL DEFAULT 0,  -- runs started
                failures           integer NOT NULL DEFAULT 0,
                lease_expiries     integer NOT NULL DEFAULT 0,
                max_attempts       integer,
                unique_key         text,
                last_error_type    text,
                last_error_message text,
                trace_parent       text,
                body_is_envelope   boolean NOT NULL DEFAULT false,
                lease_owner        text,
                lease_token        bigint,
                lease_until        timestamptz,
                enqueued_at        timestamptz NOT NULL DEFAULT now(),
                dead_reason        text,
                dead_at            timestamptz
            ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000,
                    autovacuum_vacuum_cost_delay = 0, fillfactor = 90);
            CREATE INDEX IF NOT EXISTS jobs_claimable ON {schema}.jobs (queue, priority DESC, run_at, seq) WHERE state < 2;
            CREATE INDEX IF NOT EXISTS jobs_running ON {schema}.jobs (lease_until) WHERE state = 2;
            CREATE INDEX IF NOT EXISTS jobs_dead ON {schema}.jobs (dead_at) WHERE state = 3;
            -- Version 2: succeeded jobs kept for a while (TempestPostgreSqlOptions.KeepCompletedFor), and the maintenance leader.
            ALTER TABLE {schema}.jobs ADD COLUMN IF NOT EXISTS finished_at timestamptz;
            CREATE INDEX IF NOT EXISTS jobs_completed ON {schema}.jobs (finished_at) WHERE state = 4;
            -- The planner's row estimate of a query the queue writes: the inspector's counts above 10,000 rows of a state.
            CREATE OR REPLACE FUNCTION {schema}.count_estimate(query text) RETURNS bigint LANGUAGE plpgsql AS $fn$
            DECLARE plan jsonb;
            BEGIN
                EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
                RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
            END
            $fn$;
            CREATE TABLE IF NOT EXISTS {schema}.leaders (
                name  text PRIMARY KEY,                         -- the duty: 'maintenance'
                owner text NOT NULL,                            -- the queue instance that took it
                until timestamptz NOT NULL                      -- nobody else takes it before then
            );
            CREATE TABLE IF NOT EXISTS {schema}.workers (
                id             text PRIMARY KEY,
                engine         text NOT NULL,
                host           text NOT NULL,
                pid            integer NOT NULL,
                slots          integer NOT NULL,
                started_at     timestamptz NOT NULL,
                last_heartbeat timestamptz NOT NULL,
                running        integer NOT NULL
            );
            CREATE TABLE IF NOT EXISTS {schema}.failures (
                seq           bigserial PRIMARY KEY,
                job_id        text NOT NULL,
                task          text NOT NULL,
                attempt       integer NOT NULL,
                status        smallint NOT NULL,               -- TempestTaskStatus: 1 failure, 2 timeout
                error_type    text,
                error_message text,
                failed_at     timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE IF NOT EXISTS {schema}.migrations (
                version    integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            -- A table never analysed has no statistics, and the planner then sorts the whole backlog for a claim instead of
            -- walking jobs_claimable (43.6 ms against 2.9 ms for 256 of 100,000 rows, measured): analyse it once, empty.
            DO $analyse$ BEGIN
                IF (SELECT reltuples FROM pg_class WHERE oid = '{schema}.jobs'::regclass) < 0 THEN ANALYZE {schema}.jobs; END IF;
            END $analyse$;
            INSERT INTO {schema}.migrations (version) SELECT v FROM generate_series(1, 2) AS v ON CONFLICT DO NOTHING;
        """;
}
