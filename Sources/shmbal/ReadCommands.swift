import ArgumentParser
import Glibc
import ShmBalance
import ShmBalanceConfig
import ShmBalanceJSON

// Commands that read the books: get, balance, list, check (log is in LogCommand.swift).

/// One line after a change: what the record looks like now.
func printSummary(_ books: Books, _ key: BookKey) throws {
    let r = try core { () throws(BooksError) in try books.get(key) }
    print("\(key)  total \(r.state.total)  pool \(r.state.pool)  allocated \(r.state.allocated)  credit \(r.creditLimit)  headroom \(r.headroom)  \(r.identityHolds ? "identity ok" : "IDENTITY BROKEN by \(r.state.identityDifference)")\(r.state.fenced ? "  FENCED" : "")")
}

struct Get: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "A consistent copy of a whole record.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Flag(help: "JSON: exchange, currency, strategyCount, slots, names, creditLimit, headroom, identityHolds, epoch, …") var json = false

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        return { books, target in
            let key = try target.key(books, currency)
            let r = try core { () throws(BooksError) in try books.get(key) }
            if json { print(r.json.text); return }
            print("\(key)  \(r.strategyCount) slots  epoch \(r.epoch)  credit \(r.creditLimit)  headroom \(r.headroom)\(r.headroom.raw < 0 ? " (NEGATIVE: reconcile or reset)" : "")\(r.state.fenced ? "  FENCED: allocate refused until this host's agent reaches the ledger" : "")")
            // Sub-strategies also show what their open orders hold and what is free of their budget.
            let width = max(8, (r.slots + r.held + r.free).map { $0.description.count }.max() ?? 0)
            print("   #  \("NAME".rightPadded(15))  \("AMOUNT".leftPadded(width))  \("HELD".leftPadded(width))  HOLDS  \("FREE".leftPadded(width))")
            for (i, amount) in r.slots.enumerated() {
                var line = "  \(String(i).leftPadded(2))  \(r.names[i].description.rightPadded(15))  \(amount.description.leftPadded(width))"
                if i >= 2 && i < r.held.count && i < r.holdCounts.count {
                    line += "  \(r.held[i].description.leftPadded(width))  \(String(r.holdCounts[i]).leftPadded(5))  \(r.free[i].description.leftPadded(width))"
                }
                print(line)
            }
            print(r.identityHolds ? "  identity: \(r.state.total) = \(r.state.pool) + \(r.state.allocated) ok"
                                  : "  identity BROKEN: total \(r.state.total) differs from pool + budgets by \(r.state.identityDifference)")
            print("  op ids: \(r.opIdsRemembered) remembered, window \(r.opIdWindow) (a retry with the same --op-id within it is applied once)")
        }
    }
}

struct Balance: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "One slot's amount (default the total).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Currency.") var currency: String
    @Option(help: "Slot: 0 total, 1 pool, 2… a sub-strategy.") var index = 0

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        let currency = try CLIError.name(self.currency)
        return { books, target in
            let key = try target.key(books, currency)
            print(try core { () throws(BooksError) in try books.balance(key, index: index) })
        }
    }
}

struct List: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Every record: total, pool, allocated, credit, headroom, identity.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "A JSON array of the records (as get --json).") var json = false

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work { { books, _ in try list(books) } }

    func list(_ books: Books) throws {
        let records = try core { () throws(BooksError) in try books.allRecords() }
        if json { print(JSON.array(records.map(\.json)).text); return }
        if records.isEmpty { print("no records yet (start with: shmbal reset CURRENCY BALANCE --exchange NAME)"); return }
        let rows = records.map { r in
            [r.key.exchange.description, r.key.currency.description, r.state.total.description, r.state.pool.description,
             r.state.allocated.description, r.creditLimit.description, r.headroom.description, r.identityHolds ? "ok" : "BROKEN"]
        }
        printTable(["EXCHANGE", "CURRENCY", "TOTAL", "POOL", "ALLOCATED", "CREDIT", "HEADROOM", "IDENTITY"], rows, rightAligned: 2...6)
    }
}

func printTable(_ header: [String], _ rows: [[String]], rightAligned: ClosedRange<Int>) {
    let widths = header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
    for row in [header] + rows {
        print(row.indices.map { c in rightAligned.contains(c) ? row[c].leftPadded(widths[c]) : row[c].rightPadded(widths[c]) }
            .joined(separator: "  "))
    }
}

struct Check: BooksCommand {
    static let configuration = CommandConfiguration(abstract: "Verify every record (identity, headroom, negative budgets, holds over budgets, amounts and counts out of range; expired holds are noticed); exit 6 if any is broken.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the findings as JSON.") var json = false

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work { { books, target in try check(books, segment: target.path) } }

    func check(_ books: Books, segment: String) throws {
        let records = try core { () throws(BooksError) in try books.allRecords() }
        defer { if !json { checkAgents(records, segment: segment) } }
        var broken = 0
        var out: [JSON] = []
        for r in records {
            // One list of what can be wrong, shared with the dashboard and the snapshots (RecordHealth.swift).
            let problems = r.problems.map(\.description)
            if r.isBroken { broken += 1 }  // a notice (expired holds) is printed but is not broken
            if json {
                out.append(.object([("exchange", .string(r.key.exchange.description)), ("currency", .string(r.key.currency.description)),
                                    ("ok", .bool(!r.isBroken)), ("problems", .array(problems.map { .string($0) }))]))
            } else {
                print("\(r.key): \(problems.isEmpty ? "ok" : (r.isBroken ? "" : "ok; ") + problems.joined(separator: "; "))")
            }
        }
        if json { print(JSON.array(out).text) } else { print("\(records.count) records checked, \(broken) broken") }
        if broken > 0 { throw CLIError(.broken, "\(broken) of \(records.count) records have broken books") }
    }

    /// SPEC §10 "check on a host compares its total with its lease": for each agent that ran beside
    /// this segment, its state and age, and each served currency's local total against the lease
    /// the ledger last gave it. A difference is what strategies did since the agent's last report
    /// (it reports each round); an agent silent for longer than its ttl is said loudly. Notices:
    /// the books themselves are judged above.
    func checkAgents(_ records: [BalanceRecord], segment: String) {
        let (statuses, unreadable) = AgentStatus.all(beside: segment)
        for path in unreadable { print("agent status \(path): not an agent status file") }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let nowMicros = Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
        for s in statuses {
            let age = max(0, nowMicros - s.updatedMicros) / 1000, contact = max(0, nowMicros - s.contactMicros) / 1000
            let silent = age > s.ttlMs
            print("agent \(s.host) (pid \(s.pid)): \(silent ? "SILENT for \(age / 1000) s (is it running? its host trades on a lease nobody renews)" : s.state), the ledger answered \(contact < 10_000 ? "\(Double(contact / 100) / 10) s" : "\(contact / 1000) s") ago (ttl \(s.ttlMs / 1000) s)")
            for l in s.leases {
                guard let r = records.first(where: { $0.key == l.key }) else {
                    print("  \(l.key): lease \(l.amount), but this segment has no such record")
                    continue
                }
                let d = Amount(raw: r.state.total.raw - l.amount.raw)
                print("  \(l.key): local total \(r.state.total) " + (d.raw == 0 ? "= lease \(l.amount)" : "vs lease \(l.amount): \(d.raw > 0 ? "+" : "")\(d) not yet reported"))
            }
        }
    }
}
