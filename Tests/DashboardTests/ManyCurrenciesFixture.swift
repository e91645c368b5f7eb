import ShmBalanceTestSupport
import ShmBalance
import ShmBalanceDashboard

// Hundreds of currencies for the long-list frames (filter, sort, scroll), built by hand like the
// other fixtures: deterministic amounts, a fixed clock, no segment.

extension Fixture {
    /// `count` currencies `T000`… on two exchanges (the first fifth on BINANCE, the rest on
    /// KRAKEN), listed by exchange then name as a snapshot is; every third has a BALANCE quote.
    static func many(_ count: Int = 500) -> World {
        var records: [BalanceRecord] = []
        var quotes: [BookKey: SingleQuote] = [:]
        for i in 0..<count {
            let exchange = i < count / 5 ? "BINANCE" : "KRAKEN"
            let currency = "T" + String(repeating: "0", count: max(0, 3 - String(i).count)) + String(i)
            // Scrambled but fixed amounts, so the three amount sorts give three different orders.
            let total = (i * 7919) % 1000 * 10 + 100
            let allocated = (i * 104_729) % (total / 2 + 1)
            let credit = (i * 31) % 7 * 100
            var r = record(currency, [String(total), String(total - allocated), String(allocated)], credit: String(credit),
                           names: ["bot"], agesSeconds: [5, 5, 5], lastChangeAgo: Int64(i % 50))
            r = BalanceRecord(try! BookKey(exchange, currency), state: r.state, names: r.names, slotChangedMicros: r.slotChangedMicros)
            records.append(r)
            if i % 3 == 0 { quotes[r.key] = quote(Double(total + (i * 13) % 40 - 20)) }
        }
        return World(segmentPath: "/dev/shm/shmbal", readOnly: false, nowMicros: now, records: records, balanceQuotes: quotes,
                     activity: activity, activityHead: 106, defaultExchange: try! ShortName("KRAKEN"))
    }

    static func manyKey(_ exchange: String, _ currency: String) -> BookKey { try! BookKey(exchange, currency) }

    /// USDC #2's history (grid-bot): allocations and releases with the slot's value after each,
    /// one refusal, and entries about other slots and currencies that must not show.
    static var usdcHistory: SlotHistory {
        let k = key("USDC")
        func e(_ seq: UInt64, _ agoMs: Int64, _ op: Operation, index: Int?, _ amount: String, after: String,
               refused: RefusalCode? = nil, detail: String = "0", currency: String = "USDC") -> ActivityEntry {
            ActivityEntry(seq, timeMicros: now - agoMs * 1000, pid: 4121, operation: op, refusal: refused, index: index, epoch: 1,
                          key: key(currency), amount: Amount(amount), detail: Amount(detail), after: Amount(after))
        }
        var h = SlotHistory(key: k, slot: 2)
        h.append([
            e(90, 70_000, .reset, index: nil, "10000", after: "10000"),
            e(91, 65_000, .allocate, index: 2, "1500", after: "1500"),
            e(92, 60_000, .allocate, index: 3, "3000", after: "3000"),
            e(93, 50_000, .allocate, index: 2, "1000", after: "2500"),
            e(94, 40_000, .release, index: 2, "800", after: "1700"),
            e(95, 30_000, .allocate, index: 2, "9900", after: "0", refused: .insufficientHeadroom, detail: "9000"),
            e(96, 20_000, .allocate, index: 2, "300", after: "2000", currency: "USD"),
            e(97, 10_000, .release, index: 2, "200", after: "1500"),
            e(98, 5_000, .allocate, index: 2, "500", after: "2000"),
        ], head: 98)
        return h
    }
}
