import CPeers
import Glibc
import Histogram

/// Median of a non-empty sample (mean of the middle two for an even count).
func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    let n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// The TSC's rate, measured against CLOCK_MONOTONIC over 200 ms.
let nsPerTick: Double = {
    let t0 = bench_now_ns(), c0 = bench_ticks()
    var req = timespec(tv_sec: 0, tv_nsec: 200_000_000)
    nanosleep(&req, nil)
    let t1 = bench_now_ns(), c1 = bench_ticks()
    return Double(t1 - t0) / Double(c1 - c0)
}()

/// Latency figures of one sample, in ns.
struct Latency {
    var p50: Double, p99: Double, p999: Double, max: Double, count: UInt64

    init(_ h: Histogram<UInt64>) {
        p50 = Double(h.valueAtPercentile(50))
        p99 = Double(h.valueAtPercentile(99))
        p999 = Double(h.valueAtPercentile(99.9))
        max = Double(h.max)
        count = h.totalCount
    }

    init(p50: Double, p99: Double, p999: Double, max: Double, count: UInt64) {
        self.p50 = p50; self.p99 = p99; self.p999 = p999; self.max = max; self.count = count
    }

    /// One line a child process prints and the parent parses.
    var line: String { "count=\(count) p50=\(p50) p99=\(p99) p999=\(p999) max=\(max)" }

    init?(line: String) {
        var d: [String: Double] = [:]
        for part in line.split(separator: " ") {
            let kv = part.split(separator: "=")
            if kv.count == 2, let v = Double(kv[1]) { d[String(kv[0])] = v }
        }
        guard let c = d["count"], let a = d["p50"], let b = d["p99"], let e = d["p999"], let m = d["max"] else { return nil }
        self.init(p50: a, p99: b, p999: e, max: m, count: UInt64(c))
    }
}

func newHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
}

/// Formats ns for the table: "27.6 ns", "1.34 µs", "141 µs".
func fmtNs(_ ns: Double) -> String {
    if ns.isNaN { return "–" }
    if ns < 100 { return String(format1: ns, "ns") }
    if ns < 1_000 { return "\(Int(ns.rounded())) ns" }
    if ns < 100_000 { return String(format2: ns / 1_000, "µs") }
    if ns < 1_000_000 { return "\(Int((ns / 1_000).rounded())) µs" }
    return String(format2: ns / 1_000_000, "ms")
}

func fmtRate(_ perSecond: Double) -> String {
    if perSecond >= 1_000_000 { return String(format2: perSecond / 1_000_000, "M/s") }
    if perSecond >= 1_000 { return String(format2: perSecond / 1_000, "k/s") }
    return "\(Int(perSecond.rounded()))/s"
}

func fmtRatio(_ r: Double) -> String {
    if r.isNaN { return "–" }
    if r >= 100 { return "\(Int(r.rounded()))×" }
    if r >= 10 { return String(format1: r, "×", space: false) }
    return String(format2: r, "×", space: false)
}

extension String {
    /// One decimal: "27.6 ns".
    init(format1 v: Double, _ unit: String, space: Bool = true) {
        let t = (v * 10).rounded() / 10
        self = "\(Int(t)).\(Int((abs(t) * 10).rounded()) % 10)\(space ? " " : "")\(unit)"
    }

    /// Two decimals: "1.34 µs".
    init(format2 v: Double, _ unit: String, space: Bool = true) {
        let t = (v * 100).rounded() / 100
        let frac = Int((abs(t) * 100).rounded()) % 100
        self = "\(Int(t)).\(frac < 10 ? "0" : "")\(frac)\(space ? " " : "")\(unit)"
    }
}
