import Glibc

// Issue 10 asked that allocate/release and the read be no slower than before its hardening,
// "ratios in the same run". `Benchmarks/run` builds `Benchmarks/before` (core-batch: the suite's
// own loops, Workloads.swift's swiftOps and swiftReads) twice: against this tree and against the
// commit before the hardening. Both run here as child processes, one batch set each per round,
// the order alternating, so the ratio is per round and only the core differs between the two.

extension Suite {
    func beforeSection() throws {
        guard let now = o.nowBatch, let before = o.beforeBatch else {
            rows.append(Row(name: "ShmBalance before the hardening", note: "not measured: Benchmarks/run builds core-batch for it"))
            targets.append(("allocate/release no slower than before issue 10's hardening", nil, "not measured"))
            return
        }
        let rev = o.beforeRev ?? "?"
        func batch(_ exe: String, _ mode: String) throws -> Double {
            let n = mode == "ops" ? 200_000 : 1_000_000
            let out = try Child.spawn([mode, "\(n)", o.quick ? "3" : "5"], executable: exe).finish()
            guard let ns = Double(out[...].trimmingCharacters()) else { throw BenchError("core-batch \(mode): \(out)") }
            return ns
        }
        for mode in ["ops", "read"] {
            var nowNs: [Double] = [], beforeNs: [Double] = []
            for r in 0..<rounds {
                for which in r % 2 == 0 ? [true, false] : [false, true] {
                    if which { nowNs.append(try batch(now, mode)) } else { beforeNs.append(try batch(before, mode)) }
                }
            }
            let ratio = median(zip(nowNs, beforeNs).map { $0 / $1 })
            let what = mode == "ops" ? "allocate or release" : "consistent read of a record, 9 slots (`RecordRef.read`)"
            let note = "core-batch in its own process, \(rounds) rounds alternating with the row below; ratio: this tree ÷ before, median of per-round ratios"
            rows.append(Row(name: "**ShmBalance** \(what), this tree", median: median(nowNs), throughput: 1e9 / median(nowNs),
                            instructions: o.instructions["batch-now-\(mode)"] ?? .nan, ratio: ratio, note: note))
            rows.append(Row(name: "ShmBalance \(what), before issue 10's hardening (\(rev))", median: median(beforeNs),
                            throughput: 1e9 / median(beforeNs), instructions: o.instructions["batch-before-\(mode)"] ?? .nan,
                            ratio: 1, note: "the same harness built against \(rev)"))
            let label = mode == "ops" ? "allocate/release" : "the consistent read"
            targets.append(("\(label) no slower than before issue 10's hardening (this tree ÷ \(rev), same harness, median of \(rounds) per-round ratios)",
                            ratio <= 1.0, fmtRatio(ratio)))
        }
    }
}
