import ShmBalance

// What the campaign does to the books, and how every effect stays checkable exactly.
//
// Records CAMPAIGN R0…R(K-1), each with 2 + W slots. Writer w owns sub-strategy slot 2 + w in
// every record: only it allocates, releases, sets or adjusts that slot, so the slot's value is the
// fold of writer w's applied operations, in order. The total is shared: every writer adjusts it,
// but writer w only ever by k · M^w raw units (|k| ≤ 9, M = 10^7). So total − T0 = Σ_w S_w · M^w,
// and each writer's own sum S_w can be read back from the total exactly (balanced base-M digits),
// while the other writers keep going. That is what lets the killer's side decide, for a writer
// that died inside an operation, whether that one in-flight operation was applied or not: it must
// be exactly one of the two, for the slot and for the writer's digit of the total at once.

enum Plan {
    static let exchange = "CAMPAIGN"
    static func currency(_ r: Int) -> String { "R\(r)" }
    static func key(_ r: Int) -> BookKey { try! BookKey(exchange, currency(r)) }

    /// Base of the per-writer digits of the total.
    static let band: Int128 = 10_000_000
    static let halfBand: Int128 = 5_000_000
    /// The starting total (and pool) of every record: 1,000,000 whole units.
    static let initialTotal = Amount(whole: 1_000_000)!
    static let credit = Amount(whole: 50_000)!
    static let maxWriters = 4

    static func slot(_ writer: Int) -> Int { 2 + writer }
    static func unit(_ writer: Int) -> Int128 {
        var u: Int128 = 1
        for _ in 0..<writer { u *= band }
        return u
    }

    static func name(_ index: Int) -> String {
        index == 0 ? "total" : index == 1 ? "pool" : "w\(index - 2)"
    }

    /// Splits total − T0 into each writer's digit; nil when it is not a clean sum of W digits
    /// (a torn or damaged total).
    static func digits(of total: Amount, writers: Int) -> [Int64]? {
        var d = total.raw - initialTotal.raw
        var out: [Int64] = []
        for _ in 0..<writers {
            var r = d % band
            if r > halfBand { r -= band } else if r < -halfBand { r += band }
            out.append(Int64(r))
            d = (d - r) / band
        }
        return d == 0 ? out : nil
    }
}

/// The operations a writer draws. Raw values are what goes to the log.
enum OpKind: String, CaseIterable {
    case allocate = "alloc", release = "rel", adjustTotal = "adjT", adjustOwn = "adjO", setOwn = "set"
    /// Always refused by the rules (wrong slot or amount ≤ 0): a refusal must change nothing.
    case bait = "bait"
}


/// A random exact amount in (0, maxWhole] with up to 18 random decimals.
func randomAmount(_ rng: inout SplitMix64, maxWhole: Int64) -> Amount {
    let whole = Int128(Int64.random(in: 0..<maxWhole, using: &rng)) * Amount.scale
    let decimals = Int.random(in: 0...18, using: &rng)
    var frac = Int128(UInt64.random(in: 0..<1_000_000_000_000_000_000, using: &rng))
    for _ in 0..<(18 - decimals) { frac /= 10 }
    for _ in 0..<(18 - decimals) { frac *= 10 }
    let raw = whole + frac
    return Amount(raw: raw == 0 ? 1 : raw)
}
