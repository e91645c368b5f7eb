import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// One operation as a worker logged it ("I" line), with its outcome ("A" line) if it got one.
struct LoggedOp {
    var seq: Int
    var op: String
    var currency: String
    var index: Int
    var amount: Int128
    /// nil: no outcome line (the process died while the operation was in flight).
    var applied: Bool?

    /// Adds this operation's effect to `slots` (index 0 total, 1 pool, 2… budgets).
    func apply(to slots: inout [Int128]) {
        switch op {
        case "allocate": slots[1] -= amount; slots[index] += amount
        case "release": slots[index] -= amount; slots[1] += amount
        case "adjust": slots[index] += amount; slots[1] -= amount
        case "adjust0": slots[0] += amount; slots[1] += amount
        default: XCTFail("unknown op \(op)")
        }
    }
}

/// Reads a worker's log: every operation it started, in order, with its outcome.
func readWorkerLog(_ path: String) throws -> [LoggedOp] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var ops: [LoggedOp] = []
    for line in text.split(separator: "\n") {
        let f = line.split(separator: " ")
        switch f.first {
        case "I":
            ops.append(LoggedOp(seq: Int(f[1])!, op: String(f[2]), currency: String(f[3]), index: Int(f[4])!,
                                amount: Int128(String(f[5]))!, applied: nil))
        case "A":
            guard let last = ops.indices.last, ops[last].seq == Int(f[1])! else {
                XCTFail("outcome line without its intent in \(path): \(line)")
                continue
            }
            ops[last].applied = f[2] == "applied"
        default:
            continue  // "P n": where a paused writer was
        }
    }
    return ops
}

extension RecordState {
    var rawSlots: [Int128] { (0..<strategyCount).map { slots[$0].raw } }
}
