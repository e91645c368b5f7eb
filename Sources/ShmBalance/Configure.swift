import CShmBalanceSys
import Glibc

/// What a config file says about one (exchange, currency) record (SPEC §5).
public struct RecordConfig: Sendable, Equatable {
    public var key: BookKey
    public var strategyCount: Int?
    public var creditLimit: Amount?
    public var names: [Int: ShortName]

    public init(key: BookKey, strategyCount: Int? = nil, creditLimit: Amount? = nil, names: [Int: ShortName] = [:]) {
        self.key = key
        self.strategyCount = strategyCount
        self.creditLimit = creditLimit
        self.names = names
    }
}

/// What applying a config changed.
public struct ConfigReport: Sendable, Equatable {
    public var created: [BookKey] = []
    public var updated: [BookKey] = []
    public var defaultExchange: ShortName?
}

extension Books {
    /// Writes a whole config into the segment, all or nothing with respect to other writers:
    /// every existing record it touches is locked (in key order, so two appliers cannot deadlock),
    /// every rule is checked against the locked state, and only then is anything written.
    /// Missing records are created complete with their count, credit and names.
    public func applyConfiguration(_ entries: [RecordConfig], defaultExchange: ShortName?) throws(BooksError) -> ConfigReport {
        try requireWritable()
        var seen = Set<BookKey>()
        for e in entries {
            guard seen.insert(e.key).inserted else { throw .badInput("\(e.key) is configured twice") }
            if let c = e.strategyCount, c < Layout.minStrategyCount || c > Layout.slotCount {
                throw .badInput("\(e.key): strategies = \(c) is outside 2…64")
            }
            if let credit = e.creditLimit, credit.raw < 0 || !credit.isStorable {
                throw .badInput("\(e.key): credit \(credit) must be 0 or more, and storable")
            }
            for i in e.names.keys where i < 0 || i >= Layout.slotCount {
                throw .badInput("\(e.key): slot name index \(i) is outside 0…63")
            }
        }
        let sorted = entries.sorted { $0.key < $1.key }
        var locked: [RecordRef] = []
        defer { for r in locked.reversed() { unlock(r) } }
        var states: [BookKey: RecordState] = [:]
        for e in sorted {
            guard let rec = record(e.key) else { continue }
            try lock(rec)
            locked.append(rec)
            states[e.key] = try lockedState(rec, generation: rec.p.loadRelaxed(Layout.Record.generation))
        }
        // Check everything before writing anything.
        var next: [BookKey: RecordState] = [:]
        for e in sorted {
            let count = e.strategyCount ?? states[e.key]?.strategyCount ?? Layout.defaultStrategyCount
            if let i = e.names.keys.first(where: { $0 >= count }) {
                throw .badInput("\(e.key): slot name index \(i) is beyond the record's \(count) slots")
            }
            guard var s = states[e.key] else { continue }
            if let c = e.strategyCount {
                do { try Books.applyCount(&s, c, key: e.key, operation: .configure) } catch { throw .refused(error) }
            }
            if let credit = e.creditLimit { s.creditLimit = credit }
            next[e.key] = s
        }
        var report = ConfigReport()
        let now = shmbal_now_micros()
        for e in sorted {
            if let rec = locked.first(where: { $0.key == e.key }), var s = next[e.key] {
                let g = rec.p.loadRelaxed(Layout.Record.generation)
                if s != states[e.key] {
                    s.opCount &+= 1
                    s.lastChangeMicros = now
                    s.lastChangePid = pid
                    writeState(s, to: rec.state(g &+ 1))
                    rec.p.storeReleasing(g &+ 1, Layout.Record.generation)
                }
                if !e.names.isEmpty { writeNames(rec) { names in for (i, n) in e.names { names[i] = n } } }
                appendActivity(.configure, e.key, index: -1, outcome: 0, epoch: s.epoch,
                               amount: e.creditLimit ?? s.creditLimit, detail: Amount(raw: Int128(s.strategyCount)), after: .zero, now: now)
                report.updated.append(e.key)
            } else {
                let initial = NewRecord(strategyCount: e.strategyCount ?? Layout.defaultStrategyCount,
                                        creditLimit: e.creditLimit ?? .zero, names: e.names)
                let (_, created) = try findOrCreate(e.key, initial, operation: .configure)
                if created {
                    appendActivity(.configure, e.key, index: -1, outcome: 0, epoch: 0, amount: initial.creditLimit,
                                   detail: Amount(raw: Int128(initial.strategyCount)), after: .zero, now: now)
                    report.created.append(e.key)
                }
            }
        }
        if let d = defaultExchange {
            try storeDefaultExchange(d)
            report.defaultExchange = d
        }
        return report
    }
}
