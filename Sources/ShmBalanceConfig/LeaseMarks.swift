import ShmBalance

/// How a host's agent keeps one currency's local pool supplied from the ledger (SPEC §10): when
/// the pool falls below `low` it leases whole chunks until it is at least `low`; when it rises
/// above `high` it returns what is above the middle of the two (so one return does not bring the
/// next lease at once). Written as `lease_low`, `lease_high`, `lease_chunk` in the currency's table.
public struct LeaseMarks: Sendable, Equatable {
    public var key: BookKey
    public var low: Amount
    public var high: Amount
    public var chunk: Amount
    /// The line of the currency's table.
    public var line: Int

    public init(key: BookKey, low: Amount, high: Amount, chunk: Amount, line: Int = 0) {
        self.key = key
        self.low = low
        self.high = high
        self.chunk = chunk
        self.line = line
    }

    /// What the local pool returns to: the middle of low and high (exact: raw units, rounded down).
    public var target: Amount { Amount(raw: low.raw + (high.raw - low.raw) / 2) }

    struct Problem: Error {
        var line: Int
        var field: String
        var message: String
    }

    /// All three marks, 0 ≤ low ≤ high, chunk > 0; and no local credit: a leased currency
    /// borrows through the ledger's credit (`ledger credit`), or each host could borrow it all.
    static func make(_ key: BookKey, _ marks: [String: (Amount, Int)], credit: Amount?, line: Int) -> Result<LeaseMarks, Problem> {
        for name in ["lease_low", "lease_high", "lease_chunk"] where marks[name] == nil {
            let other = marks.values.map(\.1).min() ?? line
            return .failure(Problem(line: other, field: name, message: "missing: a leased currency needs lease_low, lease_high and lease_chunk together"))
        }
        let (low, lowLine) = marks["lease_low"]!, (high, highLine) = marks["lease_high"]!, (chunk, chunkLine) = marks["lease_chunk"]!
        if low.raw < 0 { return .failure(Problem(line: lowLine, field: "lease_low", message: "must be 0 or more (got \(low))")) }
        if high.raw < low.raw { return .failure(Problem(line: highLine, field: "lease_high", message: "must be at least lease_low \(low) (got \(high))")) }
        if chunk.raw <= 0 { return .failure(Problem(line: chunkLine, field: "lease_chunk", message: "must be above 0 (got \(chunk))")) }
        if let credit, credit.raw != 0 {
            return .failure(Problem(line: lowLine, field: "lease_low",
                                    message: "a leased currency takes no local credit (credit = \(credit)): set the account's credit in the ledger (shmbal ledger credit)"))
        }
        return .success(LeaseMarks(key: key, low: low, high: high, chunk: chunk, line: line))
    }
}
