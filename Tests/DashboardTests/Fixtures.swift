import ShmBalanceTestSupport
import ShmBalance
import ShmBalanceDashboard

// Hand-built snapshots for the golden frames: no segment, a fixed clock (2025-11-25 21:50:03
// UTC), so a frame depends on nothing but the code that draws it.

enum Fixture {
    static let now: Int64 = 1_764_107_403_000_000
    static let second: Int64 = 1_000_000

    /// A record as `get` would return it. `slots` are the meaningful slots' amounts, from the total.
    static func record(_ currency: String, _ slots: [String], credit: String = "0", names: [String] = [], epoch: UInt64 = 1,
                       agesSeconds: [Int64] = [], lastChangeAgo: Int64 = 2) -> BalanceRecord {
        var s = RecordState()
        s.strategyCount = slots.count
        s.epoch = epoch
        s.opCount = 7
        s.lastChangePid = 4121
        s.lastChangeMicros = now - lastChangeAgo * second
        s.creditLimit = Amount(credit)
        for (i, a) in slots.enumerated() { s.slots[i] = Amount(a) }
        var allNames = ["total", "pool"] + names
        allNames += Array(repeating: "", count: max(0, slots.count - allNames.count))
        let changed = (0..<slots.count).map { i in i < agesSeconds.count ? (agesSeconds[i] < 0 ? 0 : now - agesSeconds[i] * second) : 0 }
        return BalanceRecord(key(currency), state: s, names: allNames.prefix(slots.count).map(label), slotChangedMicros: changed)
    }

    static func activity(_ seq: UInt64, agoMs: Int64, pid: Int32 = 4121, _ op: Operation, _ currency: String, index: Int?, _ amount: String,
                         refused: RefusalCode? = nil, detail: String = "0") -> ActivityEntry {
        ActivityEntry(seq, timeMicros: now - agoMs * 1000, pid: pid, operation: op, refusal: refused, index: index, epoch: 1,
                      key: key(currency), amount: Amount(amount), detail: Amount(detail), after: .zero)
    }

    static func quote(_ mid: Double) -> SingleQuote { SingleQuote(timestamp: now - 500_000, localTimestamp: now - 400_000, mid: mid) }

    static var usdc: BalanceRecord {
        record("USDC", ["10000", "4000", "2000", "3000", "1000"], credit: "5000", names: ["grid-bot", "arb", "mm"],
               agesSeconds: [200, 2, 5, 60, 180], lastChangeAgo: 2)
    }
    static var usd: BalanceRecord { record("USD", ["5000", "5000", "0", "0"], credit: "1000", names: ["hedger", "mm"], agesSeconds: [300, 300], lastChangeAgo: 300) }
    static var btc: BalanceRecord {
        record("BTC", ["2.5", "1.65", "0.75", "0.1"], names: ["grid-bot", "arb"], agesSeconds: [40, 3, 40, 3], lastChangeAgo: 3)
    }

    static var activity: [ActivityEntry] {
        [
            activity(101, agoMs: 62_000, .reset, "USDC", index: nil, "10000"),
            activity(102, agoMs: 61_000, .allocate, "USDC", index: 3, "3000"),
            activity(103, agoMs: 9_000, .adjust, "USD", index: 0, "-120.5"),
            activity(104, agoMs: 5_997, pid: 4133, .allocate, "USDC", index: 3, "9900", refused: .insufficientHeadroom, detail: "9000"),
            activity(105, agoMs: 5_000, .allocate, "USDC", index: 2, "2000"),
            activity(106, agoMs: 2_000, pid: 4133, .release, "BTC", index: 3, "0.05"),
        ]
    }

    /// The seed's example, healthy: USDC 10,000 = 4,000 + 6,000 with credit 5,000, USD, BTC in sync with its quote.
    static var healthy: World {
        World(segmentPath: "/dev/shm/shmbal", readOnly: false, nowMicros: now, records: [btc, usd, usdc],
              balanceQuotes: [key("BTC"): quote(2.5), key("USDC"): quote(10000)],
              activity: activity, activityHead: 106, defaultExchange: try! ShortName("KRAKEN"))
    }

    /// USDC's budgets add up to 100.00 less than the total says (a corrupted record).
    static var identityBroken: World {
        var w = healthy
        w.records[2] = record("USDC", ["10000", "4000", "2000", "2900", "1000"], credit: "5000", names: ["grid-bot", "arb", "mm"],
                              agesSeconds: [200, 2, 5, 60, 180])
        return w
    }

    /// A withdrawal booked on USDC's total left the pool at -6,000 with credit 5,000: headroom -1,000.
    static var negativeHeadroom: World {
        var w = healthy
        w.records[2] = record("USDC", ["0", "-6000", "2000", "3000", "1000"], credit: "5000", names: ["grid-bot", "arb", "mm"],
                              agesSeconds: [1, 1, 5, 60, 180], lastChangeAgo: 1)
        w.activity.append(activity(107, agoMs: 1_000, .adjust, "USDC", index: 0, "-10000"))
        return w
    }

    /// The exchange says BTC 2.55 and USDC 9,950 while the books say 2.5 and 10,000; USD low on headroom.
    static var drift: World {
        var w = healthy
        w.balanceQuotes[key("BTC")] = quote(2.55)
        w.balanceQuotes[key("USDC")] = quote(9950)
        w.records[1] = record("USD", ["5000", "300", "4700", "0"], names: ["hedger", "mm"], agesSeconds: [300, 4, 4], lastChangeAgo: 4)
        return w
    }

    static var healthyUI: UIState {
        UIState(selectedKey: key("USDC"), selectedSlot: 2)
    }
}
