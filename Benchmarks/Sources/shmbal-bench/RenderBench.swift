import Glibc
import ShmBalance
import ShmBalanceDashboard

// `--only render`: the dashboard's pure render (`Render.frame` into the cell grid, no terminal)
// of a 500-currency frame beside its peer, the same frame with 5 currencies, in the same rounds.

extension Suite {
    func renderPass() throws {
        let size = Size(width: 120, height: 35)
        let small = renderWorld(5)
        let large = renderWorld(500)
        let middle = UIState(selectedKey: large.records[250].key, selectedSlot: 2)
        var filtered = middle
        filtered.filter = CurrencyFilter("kr:t1")
        var byTotal = middle
        byTotal.sort = .total
        let cases: [(String, World, UIState)] = [
            ("render 120×35 frame, 5 currencies", small, UIState(selectedKey: small.records[2].key, selectedSlot: 2)),
            ("render 120×35 frame, 500 currencies, scrolled to the middle", large, middle),
            ("render 120×35 frame, 500 currencies, filtered (kr:t1)", large, filtered),
            ("render 120×35 frame, 500 currencies, sorted by total", large, byTotal),
        ]
        let frames = o.quick ? 20 : 50
        var perRound = Array(repeating: [Double](), count: cases.count)
        var ratios: [Double] = []
        var sink = 0
        for _ in 0..<rounds {
            for (i, c) in cases.enumerated() {
                let t0 = monotonicNs()
                for _ in 0..<frames { sink &+= Render.frame(c.1, c.2, size).cells.count }
                perRound[i].append(Double(monotonicNs() - t0) / Double(frames))
            }
            ratios.append(perRound[1].last! / perRound[0].last!)
        }
        precondition(sink == rounds * frames * cases.count * size.width * size.height)
        for (i, c) in cases.enumerated() {
            let m = median(perRound[i])
            rows.append(Row(name: c.0, median: m, p99: perRound[i].max()!, throughput: 1e9 / m, ratio: i == 0 ? .nan : median(perRound[i]) / median(perRound[0]),
                            note: i == 0 ? "the peer of the rows below" : "Ratio: ÷ the 5-currency frame"))
        }
        let worst = (1..<cases.count).map { median(perRound[$0]) }.max()!
        targets.append(("a 500-currency frame renders in under 2 ms (median of \(rounds) rounds of \(frames) frames; slowest of the three)",
                        worst < 2_000_000, fmtNs(worst)))
        notes.append("Render rows: p99 is the slowest round's mean per frame; 500 ÷ 5 currencies, median of per-round ratios: \(fmtRatio(median(ratios))).")
    }
}

/// Nanoseconds on the monotonic clock.
func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// `count` currencies `T000`… (a fifth on BINANCE, the rest on KRAKEN), 4 slots each, every third
/// with a BALANCE quote, and an activity ring's worth of entries: what `top` holds for such books.
func renderWorld(_ count: Int) -> World {
    let now: Int64 = 1_764_107_403_000_000
    var records: [BalanceRecord] = []
    var quotes: [BookKey: SingleQuote] = [:]
    for i in 0..<count {
        let name = "T" + String(repeating: "0", count: max(0, 3 - String(i).count)) + String(i)
        let key = try! BookKey(i < count / 5 ? "BINANCE" : "KRAKEN", name)
        let total = (i * 7919) % 1000 * 10 + 100
        let allocated = (i * 104_729) % (total / 2 + 1)
        var s = RecordState()
        s.strategyCount = 4
        s.epoch = 1
        s.lastChangeMicros = now - Int64(i % 50) * 1_000_000
        s.creditLimit = Amount(raw: Int128((i * 31) % 7 * 100) * Amount.scale)
        s.slots[0] = Amount(raw: Int128(total) * Amount.scale)
        s.slots[1] = Amount(raw: Int128(total - allocated) * Amount.scale)
        s.slots[2] = Amount(raw: Int128(allocated) * Amount.scale)
        let names = [try! ShortName("total", kind: .label), try! ShortName("pool", kind: .label), try! ShortName("bot", kind: .label),
                     try! ShortName("", kind: .label)]
        records.append(BalanceRecord(key, state: s, names: names, slotChangedMicros: Array(repeating: now - 5_000_000, count: 4)))
        if i % 3 == 0 { quotes[key] = SingleQuote(timestamp: now, localTimestamp: now, mid: Double(total + (i * 13) % 40 - 20)) }
    }
    let activity = (0..<100).map { n in
        ActivityEntry(UInt64(n + 1), timeMicros: now - Int64(100 - n) * 1_000_000, pid: 4121, operation: .allocate, refusal: nil, index: 2,
                      epoch: 1, key: records[n % count].key, amount: Amount(raw: 100 * Amount.scale), detail: .zero,
                      after: records[n % count].state.slots[2])
    }
    return World(segmentPath: "/dev/shm/shmbal", readOnly: false, nowMicros: now, records: records, balanceQuotes: quotes,
                 activity: activity, activityHead: 100, defaultExchange: try! ShortName("KRAKEN"))
}
