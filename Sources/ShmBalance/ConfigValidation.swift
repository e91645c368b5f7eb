// The rules a config's records must pass on their own (SPEC §5), in one place, so that
// `shmbal config check`, `shmbal config apply` and `Books.applyConfiguration` accept and refuse
// the same entries (SPEC §4). Rules that need a record's money (a count that would shrink over
// a non-zero slot) are the apply's, under the records' locks; this file needs only what a record's
// slot count is, and that only for records that already exist.

/// One thing wrong with a config's records: which entry, which of its fields, and why.
public struct ConfigProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Field: Sendable, Hashable {
        /// The entry as a whole (e.g. its key repeats an earlier entry's).
        case record
        case strategies
        case credit
        /// The name of slot `index`.
        case name(Int)
    }

    /// The index of the entry in the array that was checked.
    public var entry: Int
    public var key: BookKey
    public var field: Field
    /// What is wrong, without the key (the description adds it).
    public var message: String
    /// For an entry whose key repeats another's: the index of the first one.
    public var firstEntry: Int?

    public init(entry: Int, key: BookKey, field: Field, message: String, firstEntry: Int? = nil) {
        self.entry = entry
        self.key = key
        self.field = field
        self.message = message
        self.firstEntry = firstEntry
    }

    /// True when the problem was found assuming the record is new (a slot named beyond the
    /// default count): a record that exists with more slots does not have it.
    public var assumesANewRecord = false

    /// The field as a config key: `strategies`, `credit`, `names.2` (nil for the whole record).
    public var fieldKey: String? {
        switch field {
        case .record: return nil
        case .strategies: return "strategies"
        case .credit: return "credit"
        case .name(let i): return "names.\(i)"
        }
    }

    /// `KRAKEN USDC strategies: must be an integer from 2 to 64 (found 99)`.
    public var description: String { "\(key)\(fieldKey.map { " " + $0 } ?? ""): \(message)" }
}

extension RecordConfig {
    /// Every rule about the entries themselves, in entry order: each key once (exchange and
    /// currency names fold to upper case, so `usdc` and `USDC` are one record), strategies 2…64,
    /// a credit limit ≥ 0 that fits, slot names for slots 0…63 and below the record's count.
    /// The count is the entry's `strategies`, else `existingStrategyCount(key)` for a record that
    /// exists, else the count a new record gets (`Layout.defaultStrategyCount`).
    public static func problems(_ entries: [RecordConfig],
                                existingStrategyCount: (BookKey) -> Int? = { _ in nil }) -> [ConfigProblem] {
        var out: [ConfigProblem] = []
        var first: [BookKey: Int] = [:]
        first.reserveCapacity(entries.count)
        for n in entries.indices {
            let e = entries[n]
            func problem(_ field: ConfigProblem.Field, _ message: String) {
                out.append(ConfigProblem(entry: n, key: e.key, field: field, message: message))
            }
            if let earlier = first[e.key] {
                out.append(ConfigProblem(entry: n, key: e.key, field: .record,
                                         message: "configured twice (exchange and currency names fold to upper case)",
                                         firstEntry: earlier))
            } else {
                first[e.key] = n
            }
            let validCount = e.strategyCount.map { $0 >= Layout.minStrategyCount && $0 <= Layout.slotCount }
            if validCount == false {
                problem(.strategies, "must be an integer from \(Layout.minStrategyCount) to \(Layout.slotCount) (found \(e.strategyCount!))")
            }
            if let credit = e.creditLimit {
                if !credit.isStorable {
                    problem(.credit, "must fit in an amount (below 10^18 whole units)")
                } else if credit.raw < 0 {
                    problem(.credit, "a credit limit cannot be negative (found \(credit))")
                }
            }
            // An invalid `strategies` is reported above; the names are then checked against 0…63 only.
            let configured = validCount == true ? e.strategyCount : nil
            let existing = configured == nil && validCount == nil ? existingStrategyCount(e.key) : nil
            let count = configured ?? existing ?? Layout.defaultStrategyCount
            for i in e.names.isEmpty ? [] : e.names.keys.sorted() {
                if i < 0 || i >= Layout.slotCount {
                    problem(.name(i), "slot \(i) is outside 0…\(Layout.slotCount - 1)")
                } else if i >= count && validCount != false {
                    let whose = configured != nil ? "the record has only \(count) slots"
                        : existing != nil ? "the record has \(count) slots in the segment"
                        : "a new record gets \(count) slots"
                    problem(.name(i), "slot \(i) is named but \(whose) (0…\(count - 1)); set strategies to at least \(i + 1)")
                    if configured == nil && existing == nil { out[out.count - 1].assumesANewRecord = true }
                }
            }
        }
        return out
    }
}
