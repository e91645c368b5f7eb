import PostgresNIO
import ShmBalance

/// One connection to the ledger (SPEC §10). Every change is one transaction that first locks the
/// account's row (`FOR UPDATE`), so the changes of one currency are applied one after another
/// whoever sends them; the database checks the identity at every commit (`LedgerSchema`).
public final class Ledger: Sendable {
    let conn: PostgresConnection
    let logger: Logger
    public let url: LedgerURL
    /// `shmbal_meta.instance`: the prefix of the agents' local op ids.
    public let instance: String

    init(conn: PostgresConnection, logger: Logger, url: LedgerURL, instance: String) {
        self.conn = conn
        self.logger = logger
        self.url = url
        self.instance = instance
    }

    /// Connects; with `requireSchema` (every command but `init`) refuses a database without the
    /// ledger's tables or with another schema version.
    public static func connect(_ url: LedgerURL, requireSchema: Bool = true) async throws -> Ledger {
        var logger = Logger(label: "shmbal.ledger")
        logger.logLevel = .critical
        let configuration = try url.configuration()
        let conn: PostgresConnection
        do { conn = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger) } catch {
            throw LedgerError.unreachable("\(url): cannot connect (\(LedgerError.from(error, url.description)))")
        }
        let ledger = Ledger(conn: conn, logger: logger, url: url, instance: "")
        guard requireSchema else { return ledger }
        do {
            let meta = try await ledger.meta()
            guard meta["schema"] == LedgerSchema.version, let instance = meta["instance"] else {
                throw LedgerError.schema("\(url): ledger schema \(meta["schema"] ?? "?") here, this build uses \(LedgerSchema.version)")
            }
            return Ledger(conn: conn, logger: logger, url: url, instance: instance)
        } catch {
            try? await conn.close()
            throw LedgerError.from(error, url.description)
        }
    }

    public func close() async { try? await conn.close() }

    /// Creates the tables and the identity trigger (idempotent); returns the ledger's instance id.
    public func initSchema() async throws -> String {
        _ = try await transaction { _ in
            for sql in LedgerSchema.statements { try await self.exec(PostgresQuery(unsafeSQL: sql)) }
        }
        do { return try await meta()["instance"] ?? "" } catch { throw LedgerError.from(error, url.description) }
    }

    func meta() async throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try await self.rows("SELECT key, value FROM shmbal_meta") {
            let (k, v) = try row.decode((String, String).self)
            out[k] = v
        }
        return out
    }

    // MARK: - Plumbing

    func exec(_ q: PostgresQuery) async throws { _ = try await rows(q) }

    /// Every row of `q`, read to the end before any is looked at. A loop over the driver's row
    /// stream that returns early leaves the stream to be torn down behind it, and with
    /// postgres-nio 1.33 that crashed the next query (a job with a null function). Our results
    /// are a few rows, so collecting costs nothing.
    func rows(_ q: PostgresQuery) async throws -> [PostgresRow] {
        try await conn.query(q, logger: logger).collect()
    }

    /// `body` inside BEGIN … COMMIT, rolled back when it throws. A COMMIT whose answer is lost
    /// (the server went away) surfaces as `unreachable`: the change may or may not have been made,
    /// and the caller finds out from the journal, never by repeating it blindly.
    func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await untypedTransaction(body)
        } catch {
            throw LedgerError.from(error, url.description)
        }
    }

    // Untyped inside: typed throws across a generic async closure miscompiled here (a call through
    // a null resume pointer, Swift 6.3.1), so only the outermost layer converts the error.
    private func untypedTransaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await exec("BEGIN")
        do {
            let value = try await body(conn)
            try await exec("COMMIT")
            return value
        } catch {
            try? await exec("ROLLBACK")
            throw error
        }
    }

    static func text(_ a: Amount) -> String { a.description }

    static func amount(_ text: String) throws -> Amount {
        do { return try Amount(parsing: text) } catch { throw LedgerError.schema("the ledger holds \(TerminalText.safe(text)), which is not a storable amount") }
    }

    /// An account's row as `lockAccount` read it (amounts as `Wide`: an async function's result).
    struct AccountRow {
        var wideTotal, widePool, wideCredit: Wide
        var epoch: Int64
        var total: Amount { wideTotal.amount }
        var pool: Amount { widePool.amount }
        var credit: Amount { wideCredit.amount }
    }

    /// Locks the account's row (every change starts here); nil when it has none.
    func lockAccount(_ key: BookKey) async throws -> AccountRow? {
        let rows = try await self.rows("""
            SELECT total::text, pool::text, credit::text, epoch FROM shmbal_account
            WHERE exchange = \(key.exchange.description) AND currency = \(key.currency.description) FOR UPDATE
            """)
        guard let row = rows.first else { return nil }
        let (t, p, c, e) = try row.decode((String, String, String, Int64).self)
        return AccountRow(wideTotal: try Ledger.amount(t).wide, widePool: try Ledger.amount(p).wide, wideCredit: try Ledger.amount(c).wide, epoch: e)
    }

    /// What a central op id was first used for: nil when new; the first outcome when the same
    /// operation is asked again; a refusal naming the first use when the arguments differ.
    func replay(_ opId: String?, kind: String, _ key: BookKey, amount: Wide, host: String? = nil) async throws -> String? {
        guard let opId else { return nil }
        let amount = amount.amount
        let rows = try await self.rows("""
            SELECT kind, exchange, currency, coalesce(host, ''), amount::text, outcome FROM shmbal_journal WHERE op_id = \(opId)
            """)
        for row in rows {
            let (k, x, c, h, a, outcome) = try row.decode((String, String, String, String, String, String).self)
            let same = k == kind && x == key.exchange.description && c == key.currency.description && h == (host ?? "")
                && (try? Ledger.amount(a)) == amount
            guard same else {
                throw LedgerError.refused("op id \(TerminalText.safe(opId)) was used for \(k) \(x) \(c)\(h.isEmpty ? "" : " host \(h)") \(a): a different operation needs a new op id")
            }
            return outcome
        }
        return nil
    }

    func journal(_ opId: String?, kind: String, _ key: BookKey, amount: Wide, host: String? = nil, state: String = "done",
                 generation: Int64 = 0, localOpSeq: Int64 = 0, outcome: String = "") async throws -> Int64 {
        let amount = amount.amount
        let rows = try await self.rows("""
            INSERT INTO shmbal_journal (op_id, host, exchange, currency, kind, amount, state, generation, local_op_seq, outcome)
            VALUES (\(opId), \(host), \(key.exchange.description), \(key.currency.description), \(kind), \(Ledger.text(amount))::numeric,
                    \(state), \(generation), \(localOpSeq), \(outcome)) RETURNING seq
            """)
        for row in rows {
            let seq = try row.decode(Int64.self)
            return seq
        }
        throw LedgerError.schema("the journal gave no sequence number")
    }

    // MARK: - Reads

    /// One account and its leases, as one snapshot; nil when the ledger has no such account.
    public func account(_ key: BookKey) async throws -> LedgerAccount? {
        try await accounts(only: key).first
    }

    /// Every account, by exchange then currency, each with its leases by host.
    public func accounts(only: BookKey? = nil) async throws -> [LedgerAccount] {
        try await transaction { conn in
            try await self.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            var out: [LedgerAccount] = []
            let ex = only?.exchange.description, cur = only?.currency.description
            let rows = try await self.rows("""
                SELECT exchange, currency, total::text, pool::text, credit::text, epoch FROM shmbal_account
                WHERE (\(ex)::text IS NULL OR exchange = \(ex)) AND (\(cur)::text IS NULL OR currency = \(cur)) ORDER BY exchange, currency
                """)
            for row in rows {
                let (x, c, t, p, cr, e) = try row.decode((String, String, String, String, String, Int64).self)
                let key = try BookKey(x, c)
                out.append(LedgerAccount(key: key, total: try Ledger.amount(t), pool: try Ledger.amount(p), credit: try Ledger.amount(cr), epoch: e, leases: []))
            }
            let leases = try await self.rows("""
                SELECT exchange, currency, host, amount::text, generation, host_generation, evicted, recall::text,
                       (extract(epoch FROM now() - renewed_at) * 1000)::bigint, ttl_ms, agent_state
                FROM shmbal_lease WHERE (\(ex)::text IS NULL OR exchange = \(ex)) AND (\(cur)::text IS NULL OR currency = \(cur))
                ORDER BY exchange, currency, host
                """)
            for row in leases {
                let (x, c, h, a, g, hg, ev, r, age, ttl, st) = try row.decode((String, String, String, String, Int64, Int64, Bool, String, Int64, Int64, String).self)
                guard let i = out.firstIndex(where: { $0.key.exchange.description == x && $0.key.currency.description == c }) else { continue }
                out[i].leases.append(LedgerLease(host: h, amount: try Ledger.amount(a), generation: g, hostGeneration: hg, evicted: ev,
                                                 recall: try Ledger.amount(r), ageMs: age, ttlMs: ttl, agentState: st))
            }
            return out
        }
    }
}
