import PostgresNIO
import ShmBalance

// The agent's side of the ledger: one host's lease of one currency. Each money move between the
// ledger and a host is two steps, one in each place, and the ledger's journal row is written
// first, so a crash between the two leaves a row the agent finishes on its next start:
//
//   grant  (ledger → host): ledger: pool −= g, lease += g, row 'granted'  →  local: pool += g
//                           (op id "<instance>-<seq>")  →  ledger: row 'done'
//   return (host → ledger): ledger: row 'pending'  →  local: withdraw g (checked like an
//                           allocate; op id "<instance>-<seq>")  →  ledger: lease −= g, pool += g,
//                           row 'done' (or 'cancelled' when the local step was refused)
//
// The local op id makes the local step happen once however often it is retried, and its first
// result (applied or refused) decides the row. Reports need no journal to be safe: each says
// "the lease was L, it is now L + d" and applies only if the lease is still L.

extension Ledger {
    /// The local op id of a transfer: unique per ledger instance, so a ledger made anew never
    /// replays an old one's transfer from a host's op-id memory.
    public func localOpId(_ seq: Int64) -> String { "\(instance)-\(seq)" }

    /// Renews `host`'s lease (joining when it has none: amount 0, generation 1, books not yet
    /// wiped for it) and returns it. Refused when the ledger has no account for `key`.
    public func renew(_ key: BookKey, host: String, ttlMs: Int64, agentState: String) async throws -> LedgerLease {
        let x = key.exchange.description, c = key.currency.description
        do {
            let rows = try await self.rows("""
                INSERT INTO shmbal_lease (exchange, currency, host, ttl_ms, agent_state) VALUES (\(x), \(c), \(host), \(ttlMs), \(agentState))
                ON CONFLICT (exchange, currency, host) DO UPDATE SET renewed_at = now(), ttl_ms = EXCLUDED.ttl_ms, agent_state = EXCLUDED.agent_state
                RETURNING amount::text, generation, host_generation, evicted, recall::text, ttl_ms, agent_state
                """)
            for row in rows {
                let (a, g, hg, ev, r, ttl, st) = try row.decode((String, Int64, Int64, Bool, String, Int64, String).self)
                return LedgerLease(host: host, amount: try Ledger.amount(a), generation: g, hostGeneration: hg, evicted: ev,
                                   recall: try Ledger.amount(r), ageMs: 0, ttlMs: ttl, agentState: st)
            }
            throw LedgerError.schema("renewing the lease returned no row")
        } catch {
            let e = LedgerError.from(error, url.description)
            if case .refused = e { throw LedgerError.refused("\(key) has no ledger account: `shmbal ledger reset \(key.currency) AMOUNT` first") }
            throw e
        }
    }

    /// The host's transfers that are not finished, oldest first.
    public func unfinished(_ key: BookKey, host: String) async throws -> [LedgerTransfer] {
        do {
            var out: [LedgerTransfer] = []
            let rows = try await self.rows("""
                SELECT seq, kind, amount::text, generation, local_op_seq FROM shmbal_journal
                WHERE exchange = \(key.exchange.description) AND currency = \(key.currency.description) AND host = \(host)
                  AND state IN ('granted', 'pending') ORDER BY seq
                """)
            for row in rows {
                let (seq, kind, a, g, l) = try row.decode((Int64, String, String, Int64, Int64).self)
                guard let k = LedgerTransfer.Kind(rawValue: kind) else { continue }
                out.append(LedgerTransfer(seq: seq, kind: k, amount: try Ledger.amount(a), generation: g, localOpSeq: l))
            }
            return out
        } catch { throw LedgerError.from(error, url.description) }
    }

    /// Locks the lease and refuses unless the host may trade on it: not evicted, and its books
    /// wiped for the current generation.
    func lockLease(_ key: BookKey, host: String, generation: Int64) async throws -> Wide {
        let rows = try await self.rows("""
            SELECT amount::text, generation, host_generation, evicted FROM shmbal_lease
            WHERE exchange = \(key.exchange.description) AND currency = \(key.currency.description) AND host = \(host) FOR UPDATE
            """)
        for row in rows {
            let (a, g, hg, ev) = try row.decode((String, Int64, Int64, Bool).self)
            guard !ev else { throw LedgerError.refused("host \(host) was evicted from \(key): it wipes its books and leases anew") }
            guard g == generation, hg == generation else { throw LedgerError.refused("\(key) host \(host): lease generation \(g) (books wiped for \(hg)), the agent expected \(generation)") }
            return try Ledger.amount(a).wide
        }
        throw LedgerError.refused("host \(host) has no lease of \(key)")
    }

    /// Leases up to `want` to the host: what the ledger's pool + credit can give, nil when nothing.
    /// The row is 'granted' until `finish` after the local step.
    public func grant(_ key: BookKey, host: String, want: Wide, generation: Int64, localOpSeq: UInt64) async throws -> LedgerTransfer? {
        guard want.amount.raw > 0, want.amount.isStorable else { throw LedgerError.badInput("a lease is above 0 (got \(want.amount))") }
        return try await transaction { _ in
            let want = want.amount
            guard let a = try await self.lockAccount(key) else { throw LedgerError.refused("\(key) has no ledger account") }
            _ = try await self.lockLease(key, host: host, generation: generation)
            let g = Amount(raw: min(want.raw, a.pool.raw + a.credit.raw))
            guard g.raw > 0 else { return nil }
            let x = key.exchange.description, c = key.currency.description, t = Ledger.text(g)
            let seq = try await self.journal(nil, kind: "grant", key, amount: g.wide, host: host, state: "granted",
                                             generation: generation, localOpSeq: Int64(truncatingIfNeeded: localOpSeq))
            try await self.exec("UPDATE shmbal_account SET pool = pool - \(t)::numeric WHERE exchange = \(x) AND currency = \(c)")
            try await self.exec("UPDATE shmbal_lease SET amount = amount + \(t)::numeric WHERE exchange = \(x) AND currency = \(c) AND host = \(host)")
            return LedgerTransfer(seq: seq, kind: .grant, amount: g, generation: generation, localOpSeq: Int64(truncatingIfNeeded: localOpSeq))
        }
    }

    /// Starts a return of `amount`: only the row ('pending'); the money moves in `finish`.
    public func beginReturn(_ key: BookKey, host: String, amount: Wide, generation: Int64, localOpSeq: UInt64) async throws -> LedgerTransfer {
        guard amount.amount.raw > 0, amount.amount.isStorable else { throw LedgerError.badInput("a return is above 0 (got \(amount.amount))") }
        return try await transaction { _ in
            let amount = amount.amount
            guard try await self.lockAccount(key) != nil else { throw LedgerError.refused("\(key) has no ledger account") }
            let lease = try await self.lockLease(key, host: host, generation: generation).amount
            guard amount.raw <= lease.raw else { throw LedgerError.refused("\(key) host \(host): return \(amount) exceeds the lease \(lease)") }
            let seq = try await self.journal(nil, kind: "return", key, amount: amount.wide, host: host, state: "pending",
                                             generation: generation, localOpSeq: Int64(truncatingIfNeeded: localOpSeq))
            return LedgerTransfer(seq: seq, kind: .return, amount: amount, generation: generation, localOpSeq: Int64(truncatingIfNeeded: localOpSeq))
        }
    }

    /// Finishes a transfer after its local step: `applied` says whether that step was applied (a
    /// grant's always is). A row already finished or void is left alone (a retry after a lost
    /// answer); a void one means the ledger took the lease back meanwhile and the host wipes.
    public func finish(_ key: BookKey, host: String, seq: Int64, kind: LedgerTransfer.Kind, amount: Wide, applied: Bool) async throws {
        _ = try await transaction { _ in
            let amount = amount.amount
            guard try await self.lockAccount(key) != nil else { return }
            let rows = try await self.rows("SELECT state FROM shmbal_journal WHERE seq = \(seq) FOR UPDATE")
            var state = ""
            for row in rows {
                let s = try row.decode(String.self)
                state = s
            }
            switch (kind, state) {
            case (.grant, "granted"):
                try await self.exec("UPDATE shmbal_journal SET state = 'done' WHERE seq = \(seq)")
            case (.return, "pending"):
                guard applied else {
                    try await self.exec("UPDATE shmbal_journal SET state = 'cancelled' WHERE seq = \(seq)")
                    return
                }
                let x = key.exchange.description, c = key.currency.description, a = Ledger.text(amount)
                try await self.exec("UPDATE shmbal_lease SET amount = amount - \(a)::numeric, recall = greatest(recall - \(a)::numeric, 0) WHERE exchange = \(x) AND currency = \(c) AND host = \(host)")
                try await self.exec("UPDATE shmbal_account SET pool = pool + \(a)::numeric WHERE exchange = \(x) AND currency = \(c)")
                try await self.exec("UPDATE shmbal_journal SET state = 'done' WHERE seq = \(seq)")
            default:
                return
            }
        }
    }

    /// The host's local total moved by `delta` (fills, receipts, adjusts): lease and total move with
    /// it, if the lease is still `expected`. False when it was not (the agent reads again).
    public func report(_ key: BookKey, host: String, expected: Wide, delta: Wide, generation: Int64) async throws -> Bool {
        guard delta.amount.raw != 0 else { return true }
        return try await transaction { _ in
            let expected = expected.amount, delta = delta.amount
            guard try await self.lockAccount(key) != nil else { throw LedgerError.refused("\(key) has no ledger account") }
            let lease = try await self.lockLease(key, host: host, generation: generation).amount
            guard lease == expected else { return false }
            guard let after = lease.adding(delta) else { throw LedgerError.refused("\(key): the lease would go beyond the storable range") }
            let x = key.exchange.description, c = key.currency.description, d = Ledger.text(delta)
            try await self.exec("UPDATE shmbal_lease SET amount = \(Ledger.text(after))::numeric WHERE exchange = \(x) AND currency = \(c) AND host = \(host)")
            try await self.exec("UPDATE shmbal_account SET total = total + \(d)::numeric, changed_at = now() WHERE exchange = \(x) AND currency = \(c)")
            _ = try await self.journal(nil, kind: "report", key, amount: delta.wide, host: host, generation: generation)
            return true
        }
    }

    /// After the host wiped its books for `generation`: it may trade on the lease again.
    public func rejoin(_ key: BookKey, host: String, generation: Int64) async throws {
        _ = try await transaction { _ in
            guard try await self.lockAccount(key) != nil else { return }
            let x = key.exchange.description, c = key.currency.description
            try await self.exec("""
                UPDATE shmbal_lease SET host_generation = \(generation), evicted = false
                WHERE exchange = \(x) AND currency = \(c) AND host = \(host) AND generation = \(generation)
                """)
            try await self.exec("UPDATE shmbal_journal SET state = 'void' WHERE exchange = \(x) AND currency = \(c) AND host = \(host) AND state IN ('granted', 'pending') AND generation < \(generation)")
        }
    }
}


