import PostgresNIO
import ShmBalance

/// What a central reconcile did (SPEC §10), as the local one says it (SPEC §3 "recovery").
public enum LedgerReconcileOutcome: Sendable, Equatable, CustomStringConvertible {
    /// The account did not exist: made with total = pool = the balance.
    case created
    case inSync
    /// The total moved by `delta`; the pool absorbed it (after `recalled` came back from hosts).
    case repaired(delta: Wide, recalled: Wide)
    /// The pool could not cover the shortfall even with what the hosts returned: every lease was
    /// taken back (each host wipes its books and leases again), total = pool = the balance.
    case reset(dropped: [String: Amount])

    public var description: String {
        switch self {
        case .created: return "created"
        case .inSync: return "in sync"
        case .repaired(let d, let r): return "repaired by \(d.amount)" + (r.amount.raw == 0 ? "" : " (hosts returned \(r.amount))")
        case .reset(let dropped):
            return "reset: every lease taken back" + (dropped.isEmpty ? "" : " (" + dropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
        }
    }

    var journal: String {
        switch self {
        case .created: return "created"
        case .inSync: return "in sync"
        case .repaired(let d, let r): return "repaired \(d.amount) \(r.amount)"
        case .reset: return "reset"
        }
    }
}

extension Ledger {
    /// total = pool = `total`, epoch + 1; every lease is taken back (generation + 1: each host wipes
    /// its books before it leases again) and unfinished transfers are void. Creates the account
    /// when missing (credit 0). Returns the leases it took back.
    @discardableResult
    public func reset(_ key: BookKey, total: Wide, opId: String? = nil) async throws -> [String: Amount] {
        guard total.amount.isStorable else { throw LedgerError.badInput("\(key): \(total.amount) is beyond the largest storable amount") }
        return try await transaction { _ in
            let total = total.amount
            if try await self.replay(opId, kind: "reset", key, amount: total.wide) != nil { return [:] }
            let dropped = try await self.takeBackLeases(key, total: total.wide)
            _ = try await self.journal(opId, kind: "reset", key, amount: total.wide)
            return dropped
        }
    }

    /// Inside a transaction: the reset's writes. Returns each host's lease before it.
    func takeBackLeases(_ key: BookKey, total: Wide) async throws -> [String: Amount] {
        let total = total.amount
        let x = key.exchange.description, c = key.currency.description, t = Ledger.text(total)
        guard try await lockAccount(key) != nil else {
            try await exec("INSERT INTO shmbal_account (exchange, currency, total, pool) VALUES (\(x), \(c), \(t)::numeric, \(t)::numeric)")
            return [:]
        }
        var dropped: [String: Amount] = [:]
        let rows = try await self.rows("""
            UPDATE shmbal_lease l SET amount = 0, recall = 0, generation = l.generation + 1
            FROM shmbal_lease old WHERE l.exchange = \(x) AND l.currency = \(c)
              AND old.exchange = l.exchange AND old.currency = l.currency AND old.host = l.host
            RETURNING l.host, old.amount::text
            """)
        for row in rows {
            let (h, a) = try row.decode((String, String).self)
            guard try Ledger.amount(a).raw != 0 else { continue }
            dropped[h] = try Ledger.amount(a)
        }
        try await exec("UPDATE shmbal_account SET total = \(t)::numeric, pool = \(t)::numeric, epoch = epoch + 1, changed_at = now() WHERE exchange = \(x) AND currency = \(c)")
        try await exec("UPDATE shmbal_journal SET state = 'void' WHERE exchange = \(x) AND currency = \(c) AND state IN ('granted', 'pending')")
        return dropped
    }

    /// The account's credit limit: how far below 0 the ledger's pool may lease (hosts keep none).
    public func setCredit(_ key: BookKey, _ credit: Wide, opId: String? = nil) async throws {
        guard credit.amount.raw >= 0, credit.amount.isStorable else { throw LedgerError.badInput("\(key): a credit limit is 0 or more (got \(credit.amount))") }
        _ = try await transaction { _ in
            let credit = credit.amount
            if try await self.replay(opId, kind: "credit", key, amount: credit.wide) != nil { return }
            guard try await self.lockAccount(key) != nil else { throw LedgerError.refused("\(key) has no ledger account: `shmbal ledger reset` it first") }
            try await self.exec("UPDATE shmbal_account SET credit = \(Ledger.text(credit))::numeric, changed_at = now() WHERE exchange = \(key.exchange.description) AND currency = \(key.currency.description)")
            _ = try await self.journal(opId, kind: "credit", key, amount: credit.wide)
        }
    }

    /// Brings the ledger's total to the exchange's figure, the pool absorbing the difference. When
    /// pool + credit would then be below 0, asks every host to return its free lease (`recall`)
    /// and waits up to `wait` for them; if that is still not enough, resets (every lease taken back).
    public func reconcile(_ key: BookKey, exchangeBalance: Wide, opId: String? = nil,
                          wait: Duration = .seconds(10)) async throws -> LedgerReconcileOutcome {
        guard exchangeBalance.amount.isStorable else { throw LedgerError.badInput("\(key): \(exchangeBalance.amount) is beyond the largest storable amount") }
        let x = key.exchange.description, c = key.currency.description
        let first: (LedgerReconcileOutcome?, pool: Wide, delta: Wide) = try await transaction { _ in
            let exchangeBalance = exchangeBalance.amount
            if let outcome = try await self.replay(opId, kind: "reconcile", key, amount: exchangeBalance.wide) {
                return (LedgerReconcileOutcome.replayed(outcome), Amount.zero.wide, Amount.zero.wide)
            }
            guard let a = try await self.lockAccount(key) else {
                _ = try await self.takeBackLeases(key, total: exchangeBalance.wide)
                _ = try await self.journal(opId, kind: "reconcile", key, amount: exchangeBalance.wide, outcome: "created")
                return (.created, Amount.zero.wide, Amount.zero.wide)
            }
            let delta = Amount(raw: exchangeBalance.raw - a.total.raw)
            guard let pool = a.pool.adding(delta) else { throw LedgerError.refused("\(key): the pool would go beyond the storable range") }
            try await self.exec("UPDATE shmbal_account SET total = \(Ledger.text(exchangeBalance))::numeric, pool = \(Ledger.text(pool))::numeric, changed_at = now() WHERE exchange = \(x) AND currency = \(c)")
            if pool.raw + a.credit.raw >= 0 {
                let outcome: LedgerReconcileOutcome = delta.raw == 0 ? .inSync : .repaired(delta: delta.wide, recalled: Amount.zero.wide)
                _ = try await self.journal(opId, kind: "reconcile", key, amount: exchangeBalance.wide, outcome: outcome.journal)
                return (outcome, pool.wide, delta.wide)
            }
            // Short: ask every host for its lease back; agents return what their pools have free.
            try await self.exec("UPDATE shmbal_lease SET recall = amount WHERE exchange = \(x) AND currency = \(c) AND amount > 0 AND NOT evicted")
            return (nil, pool.wide, delta.wide)
        }
        if let done = first.0 { return done }
        // Wait for the hosts, outside any transaction (agents need the rows).
        let clock = ContinuousClock(), deadline = clock.now + wait
        while clock.now < deadline {
            guard let a = try await account(key), a.headroom.raw < 0 else { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await transaction { _ in
            let exchangeBalance = exchangeBalance.amount
            guard let a = try await self.lockAccount(key) else { throw LedgerError.refused("\(key) vanished during its reconcile") }
            try await self.exec("UPDATE shmbal_lease SET recall = 0 WHERE exchange = \(x) AND currency = \(c)")
            // Grants are refused while the headroom is below 0 and reports leave the pool alone:
            // what the pool gained since the first step is what the hosts returned.
            let recalled = Amount(raw: a.pool.raw - first.pool.amount.raw)
            if a.pool.raw + a.credit.raw >= 0 {
                let outcome = LedgerReconcileOutcome.repaired(delta: first.delta, recalled: recalled.wide)
                _ = try await self.journal(opId, kind: "reconcile", key, amount: exchangeBalance.wide, outcome: outcome.journal)
                return outcome
            }
            let dropped = try await self.takeBackLeases(key, total: exchangeBalance.wide)
            _ = try await self.journal(opId, kind: "reconcile", key, amount: exchangeBalance.wide, outcome: "reset")
            return .reset(dropped: dropped)
        }
    }

    /// Takes `host`'s leases back into the pool (only `keys` when given): the operator's word that
    /// the host is gone. Its unfinished transfers are void; the host, if it comes back, wipes its
    /// books (a new local epoch) and leases anew. Returns what each currency's lease held.
    public func evict(host: String, keys: [BookKey] = [], opId: String? = nil) async throws -> [(BookKey, Amount)] {
        try LedgerHost.check(host)
        return try await transaction { _ in
            var out: [(BookKey, Amount)] = []
            let targets = keys.isEmpty ? try await self.leaseKeys(host: host) : keys
            for key in targets.sorted() {
                let x = key.exchange.description, c = key.currency.description
                guard try await self.lockAccount(key) != nil else { continue }
                if let opId, try await self.replay("\(opId):\(key)", kind: "evict", key, amount: Amount.zero.wide, host: host) != nil { continue }
                let rows = try await self.rows("""
                    UPDATE shmbal_lease l SET amount = 0, recall = 0, evicted = true, generation = l.generation + 1
                    FROM shmbal_lease old WHERE l.exchange = \(x) AND l.currency = \(c) AND l.host = \(host)
                      AND old.exchange = l.exchange AND old.currency = l.currency AND old.host = l.host
                    RETURNING old.amount::text
                    """)
                var taken = Amount.zero
                var found = false
                for row in rows {
                    let a = try row.decode(String.self)
                    taken = try Ledger.amount(a); found = true
                }
                guard found else { continue }
                try await self.exec("UPDATE shmbal_account SET pool = pool + \(Ledger.text(taken))::numeric, changed_at = now() WHERE exchange = \(x) AND currency = \(c)")
                try await self.exec("UPDATE shmbal_journal SET state = 'void' WHERE exchange = \(x) AND currency = \(c) AND host = \(host) AND state IN ('granted', 'pending')")
                _ = try await self.journal(opId.map { "\($0):\(key)" }, kind: "evict", key, amount: Amount.zero.wide, host: host, outcome: Ledger.text(taken))
                out.append((key, taken))
            }
            let held = try await self.leaseKeys(host: host)
            if out.isEmpty && held.isEmpty {
                throw LedgerError.refused("host \(host) has no lease in this ledger")
            }
            return out
        }
    }

    func leaseKeys(host: String) async throws -> [BookKey] {
        var out: [BookKey] = []
        for row in try await self.rows("SELECT exchange, currency FROM shmbal_lease WHERE host = \(host)") {
            let (x, c) = try row.decode((String, String).self)
            out.append(try BookKey(x, c))
        }
        return out
    }
}

extension LedgerReconcileOutcome {
    /// A replayed op id: the first outcome as the journal kept it.
    static func replayed(_ journal: String) -> LedgerReconcileOutcome {
        if journal == "created" { return .created }
        if journal == "in sync" { return .inSync }
        if journal.hasPrefix("repaired ") {
            let parts = journal.split(separator: " ")
            if parts.count == 3, let d = try? Amount(parsing: parts[1]), let r = try? Amount(parsing: parts[2]) { return .repaired(delta: d.wide, recalled: r.wide) }
        }
        return .reset(dropped: [:])
    }
}

/// Host names: what `--host` and `ledger evict` take.
public enum LedgerHost {
    public static func check(_ host: String) throws(LedgerError) {
        let ok = (1...63).contains(host.utf8.count) && host.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F
        }
        guard ok else { throw LedgerError.badInput("host \(TerminalText.safe(String(host.prefix(64)))): 1–63 letters, digits, '-', '.' or '_'") }
    }
}
