/// The ledger's tables (SPEC §10), made by `shmbal ledger init` (idempotent). Amounts are
/// `numeric(37,18)`, exactly the core's fixed point (18 decimals, below 10^18 whole units), and
/// cross the wire as decimal text, never as floats.
///
///     shmbal_meta     schema version; `instance`, a random id that prefixes the agents' local op
///                     ids, so a ledger made anew never replays an old ledger's transfer
///     shmbal_account  per (exchange, currency): total, pool, credit, epoch (+1 per central reset)
///     shmbal_lease    per (exchange, currency, host): amount; generation (+1 when the ledger
///                     takes the lease back: a central reset or an eviction) and host_generation
///                     (the generation the host's books were wiped for); evicted; recall (asked
///                     back by a reconcile); renewed_at and ttl_ms; the agent's state
///     shmbal_journal  every change, by op id: what a replay returns, and the transfers an agent
///                     has not finished (grant 'granted', return 'pending') that it finishes after
///                     a crash
///
/// The identity `total = pool + Σ lease` is the database's own rule: a deferred constraint
/// trigger checks it at every commit, so no client (this one included) can commit a break.
enum LedgerSchema {
    static let version = "1"

    static let statements: [String] = [
        """
        CREATE TABLE IF NOT EXISTS shmbal_meta (key text PRIMARY KEY, value text NOT NULL)
        """,
        """
        INSERT INTO shmbal_meta (key, value) VALUES ('schema', '\(version)'),
          ('instance', substr(md5(random()::text || clock_timestamp()::text), 1, 12))
          ON CONFLICT (key) DO NOTHING
        """,
        """
        CREATE TABLE IF NOT EXISTS shmbal_account (
          exchange text NOT NULL, currency text NOT NULL,
          total numeric(37,18) NOT NULL, pool numeric(37,18) NOT NULL,
          credit numeric(37,18) NOT NULL DEFAULT 0 CHECK (credit >= 0),
          epoch bigint NOT NULL DEFAULT 1,
          changed_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (exchange, currency))
        """,
        """
        CREATE TABLE IF NOT EXISTS shmbal_lease (
          exchange text NOT NULL, currency text NOT NULL, host text NOT NULL,
          amount numeric(37,18) NOT NULL DEFAULT 0,
          generation bigint NOT NULL DEFAULT 1,
          host_generation bigint NOT NULL DEFAULT 0,
          evicted boolean NOT NULL DEFAULT false,
          recall numeric(37,18) NOT NULL DEFAULT 0 CHECK (recall >= 0),
          renewed_at timestamptz NOT NULL DEFAULT now(),
          ttl_ms bigint NOT NULL DEFAULT 10000,
          agent_state text NOT NULL DEFAULT 'connected',
          PRIMARY KEY (exchange, currency, host),
          FOREIGN KEY (exchange, currency) REFERENCES shmbal_account ON DELETE CASCADE)
        """,
        """
        CREATE TABLE IF NOT EXISTS shmbal_journal (
          seq bigserial PRIMARY KEY,
          op_id text UNIQUE,
          host text,
          exchange text NOT NULL, currency text NOT NULL,
          kind text NOT NULL,
          amount numeric(37,18) NOT NULL,
          state text NOT NULL,
          generation bigint NOT NULL DEFAULT 0,
          local_op_seq bigint NOT NULL DEFAULT 0,
          outcome text NOT NULL DEFAULT '',
          at timestamptz NOT NULL DEFAULT now())
        """,
        """
        CREATE INDEX IF NOT EXISTS shmbal_journal_open ON shmbal_journal (exchange, currency, host)
          WHERE state IN ('granted', 'pending')
        """,
        """
        CREATE OR REPLACE FUNCTION shmbal_identity() RETURNS trigger LANGUAGE plpgsql AS $f$
        DECLARE t numeric; p numeric; s numeric; x text; c text;
        BEGIN
          IF TG_OP = 'DELETE' THEN x := OLD.exchange; c := OLD.currency; ELSE x := NEW.exchange; c := NEW.currency; END IF;
          SELECT total, pool INTO t, p FROM shmbal_account WHERE exchange = x AND currency = c;
          IF NOT FOUND THEN RETURN NULL; END IF;
          SELECT coalesce(sum(amount), 0) INTO s FROM shmbal_lease WHERE exchange = x AND currency = c;
          IF t <> p + s THEN
            RAISE EXCEPTION 'ledger % %: total % is not pool % + leases %', x, c, t, p, s
              USING ERRCODE = '23514';
          END IF;
          RETURN NULL;
        END $f$
        """,
        "DROP TRIGGER IF EXISTS shmbal_account_identity ON shmbal_account",
        """
        CREATE CONSTRAINT TRIGGER shmbal_account_identity AFTER INSERT OR UPDATE ON shmbal_account
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION shmbal_identity()
        """,
        "DROP TRIGGER IF EXISTS shmbal_lease_identity ON shmbal_lease",
        """
        CREATE CONSTRAINT TRIGGER shmbal_lease_identity AFTER INSERT OR UPDATE OR DELETE ON shmbal_lease
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION shmbal_identity()
        """,
    ]
}
