import ShmBalance

// Fixtures for the read races (ReadRaceTests, CABIReadRaceTests): values that flip between legal
// states chosen so that a torn copy is an illegal value, and the race itself (`raceReaders`).

/// Reads per reader in a read race: enough that a reader without its re-check returns torn values
/// several times over (measured: one in a few hundred thousand reads of a debug build on two
/// cores). An eighth under a sanitizer, which is then the detector.
public let raceReads = runningUnderSanitizer ? 125_000 : 1_000_000

/// A 6-slot record whose budgets (slots 2…5) each hold 2^64 − 1 or 2^64, toggled by allocate /
/// release of one raw unit; the total stays put and the pool moves across 2^64.
public struct FlippingRecord: Sendable {
    /// 2^64 − 1: low word all ones, high word 0. One more is 2^64: low word 0, high word 1.
    public static let low: Int128 = (Int128(1) << 64) - 1

    public let key: BookKey
    public let rec: RecordRef
    /// The values each slot may hold at any moment (slots 0…5): ranges, so a check costs two
    /// comparisons and the readers spend their time reading.
    public let legal: [ClosedRange<Int128>]

    public init(_ books: Books, _ key: BookKey) throws {
        self.key = key
        let low = FlippingRecord.low
        let total = 4 * low + (Int128(1) << 64) + 2
        try books.reset(key, balance: Amount(raw: total), strategyCount: 6)
        for i in 2..<6 { try books.allocate(key, index: i, Amount(raw: low)) }
        guard let r = books.record(key) else { throw BooksError.badInput("no record") }
        rec = r
        legal = [total...total, (total - 4 * low - 4)...(total - 4 * low)] + [ClosedRange<Int128>](repeating: low...(low + 1), count: 4)
    }

    /// `shmbal-worker read-slot` / `read-record` arguments for the legal values: every slot, the
    /// pool (rewritten by every commit) between each two others, so a slot reader reads it half the time.
    public var legalArguments: [String] {
        func spec(_ i: Int) -> String { "\(i)=" + (legal[i].lowerBound...legal[i].upperBound).map { String($0) }.joined(separator: ",") }
        return [spec(0)] + (2..<6).flatMap { [spec(1), spec($0)] }
    }

    /// What is wrong with a copy of the record, or nil.
    public func problem(_ s: RecordState) -> String? {
        if s.strategyCount != 6 { return "count \(s.strategyCount)" }
        for i in 0..<6 where !legal[i].contains(s.slots[i].raw) { return "slot \(i) \(rawHex(s.slots[i].raw))" }
        for i in 6..<64 where s.slots[i] != .zero { return "slot \(i) past the count holds \(s.slots[i].raw)" }
        if !s.identityHolds { return "identity off by \(s.identityDifference.raw)" }
        return nil
    }

    /// A writer owning `mine`: each call toggles one of them, chosen at random (seeded), so that
    /// what each of the record's two copies holds keeps changing.
    public func writer(_ books: Books, slots mine: [Int], seed: UInt64) -> () throws -> Void {
        var g = SplitMix64(seed: seed)
        var high = [Bool](repeating: false, count: mine.count)
        let rec = self.rec
        return {
            let j = g.below(mine.count)
            if high[j] { try books.release(rec, index: mine[j], Amount(raw: 1)) } else { try books.allocate(rec, index: mine[j], Amount(raw: 1)) }
            high[j].toggle()
        }
    }
}

/// Raw words in hex, for messages about torn values.
public func rawHex(_ v: Int128) -> String { "0x" + String(UInt128(bitPattern: v), radix: 16) }
public func rawHex(_ n: ShortName) -> String { "\(n) (0x\(String(n.hi, radix: 16)):\(String(n.lo, radix: 16)))" }
