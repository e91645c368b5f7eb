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
    /// Writes a whole config into the segment, all or nothing (SPEC §4, §5).
    ///
    /// Every check that can refuse runs before the first write: the entries themselves, the
    /// record-table lock (taken first: it serialises record creation and the default exchange),
    /// every existing record's lock (in key order, so two appliers cannot deadlock), the rules
    /// against each locked state, and room in the record table for the new ones. Only then are the
    /// records, names and default exchange published, each through its latch; the new records
    /// appear together, with one store. A writer killed midway leaves each record wholly old or
    /// wholly new, and applying the same file again finishes the job.
    public func applyConfiguration(_ entries: [RecordConfig], defaultExchange: ShortName?) throws(BooksError) -> ConfigReport {
        try requireWritable()
        // The entries' own rules first (no lock needed for most: a bad file is refused at once).
        if let p = RecordConfig.problems(entries).first(where: { !$0.assumesANewRecord }) { throw .badInput(p.description) }
        let sorted = entries.sorted { $0.key < $1.key }
        let table = try lockHeaderMutex(Layout.Header.tableMutex, what: "record table")
        defer { pthread_mutex_unlock(table) }
        var locked: [RecordRef] = []
        defer { for r in locked.reversed() { unlock(r) } }
        var states: [BookKey: RecordState] = [:]
        for e in sorted {
            guard let rec = record(e.key) else { continue }
            try lock(rec)
            locked.append(rec)
            states[e.key] = try lockedState(rec)
        }
        // Check everything against the locked states before writing anything: the same rules as
        // `config check` (ConfigValidation.swift), now with the counts the existing records have.
        if let p = RecordConfig.problems(entries, existingStrategyCount: { states[$0]?.strategyCount }).first {
            throw .badInput(p.description)
        }
        var next: [BookKey: RecordState] = [:]
        var created: [(key: BookKey, state: RecordState, names: [ShortName])] = []
        let now = shmbal_now_micros()
        for e in sorted {
            let count = e.strategyCount ?? states[e.key]?.strategyCount ?? Layout.defaultStrategyCount
            if var s = states[e.key] {
                if let c = e.strategyCount {
                    let counts = record(e.key).map { HoldBooks(from: $0.stateLatch.lockedCurrent).counts } ?? InlineArray(repeating: 0)
                    do { try Books.applyCount(&s, c, key: e.key, operation: .configure, holdCounts: counts) } catch { throw .refused(error) }
                }
                if let credit = e.creditLimit { s.creditLimit = credit }
                next[e.key] = s
            } else {
                let initial = NewRecord(strategyCount: count, creditLimit: e.creditLimit ?? .zero, names: e.names)
                created.append((e.key, initial.initialState(now: now, pid: pid), initial.slotNames))
            }
        }
        if created.count > segment.geometry.recordCapacity - publishedRecordCount {
            let r = Refusal(.tableFull, .configure, created[0].key, index: 0, amount: .zero, detail: Amount(raw: Int128(segment.geometry.recordCapacity)))
            recordRefusal(r)
            throw .refused(r)
        }

        var report = ConfigReport()
        for e in sorted {
            guard let rec = locked.first(where: { $0.key == e.key }), var s = next[e.key] else { continue }
            // Money, limits and names of one record: one publish, so a kill leaves it wholly old or new.
            if s != states[e.key] || !e.names.isEmpty {
                if s != states[e.key] {
                    s.opCount &+= 1
                    s.lastChangeMicros = now
                    s.lastChangePid = pid
                }
                let published = s
                rec.stateLatch.publish { (nextCopy, cur, _) in
                    writeState(published, to: nextCopy)
                    copyNames(from: cur, to: nextCopy)
                    copyHoldBooks(from: cur, to: nextCopy)
                    Books.settleExpiryBit(nextCopy)
                    Books.writeNames(e.names, to: nextCopy)
                }
            }
            appendActivity(.configure, e.key, index: -1, outcome: 0, epoch: s.epoch,
                           amount: e.creditLimit ?? s.creditLimit, detail: Amount(raw: Int128(s.strategyCount)), after: .zero, now: now)
            report.updated.append(e.key)
        }
        if !created.isEmpty {
            guard try appendRecords(created) != nil else { throw .corrupt("\(segment.path): the record table filled while locked") }
            for c in created {
                appendActivity(.configure, c.key, index: -1, outcome: 0, epoch: 0, amount: c.state.creditLimit,
                               detail: Amount(raw: Int128(c.state.strategyCount)), after: .zero, now: now)
                report.created.append(c.key)
            }
        }
        if let d = defaultExchange {
            publishDefaultExchange(d)
            report.defaultExchange = d
        }
        try confirmWritten(now)
        return report
    }
}
