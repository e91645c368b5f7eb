import ShmBalanceTestSupport
import ShmBalance

// A tiny model of SPEC §3, written from the spec and separately from the core: plain Int128
// arithmetic on dictionaries, no shared memory, no latch, no fast paths. The property tests run
// the same random operations against it and the real books and demand identical results.

enum ModelOp: CustomStringConvertible {
    case reset(BookKey, Int128, Int?)
    case set(BookKey, Int128, Int)
    case adjust(BookKey, Int128, Int)
    case allocate(BookKey, Int, Int128)
    case release(BookKey, Int, Int128)
    case reconcile(BookKey, Int128)
    case credit(BookKey, Int128)
    case count(BookKey, Int)
    case name(BookKey, Int, String)
    case balance(BookKey, Int)

    /// The record the operation is about.
    var key: BookKey {
        switch self {
        case .reset(let k, _, _), .set(let k, _, _), .adjust(let k, _, _), .allocate(let k, _, _), .release(let k, _, _),
             .reconcile(let k, _), .credit(let k, _), .count(let k, _), .name(let k, _, _), .balance(let k, _):
            return k
        }
    }

    var description: String {
        func a(_ v: Int128) -> String { Amount(raw: v).exactText }
        switch self {
        case .reset(let k, let v, let c): return "reset(\(k), \(a(v)), count: \(c.map(String.init) ?? "nil"))"
        case .set(let k, let v, let i): return "set(\(k), \(a(v)), index: \(i))"
        case .adjust(let k, let v, let i): return "adjust(\(k), \(a(v)), index: \(i))"
        case .allocate(let k, let i, let v): return "allocate(\(k), index: \(i), \(a(v)))"
        case .release(let k, let i, let v): return "release(\(k), index: \(i), \(a(v)))"
        case .reconcile(let k, let v): return "reconcile(\(k), \(a(v)))"
        case .credit(let k, let v): return "setCreditLimit(\(k), \(a(v)))"
        case .count(let k, let c): return "setStrategyCount(\(k), \(c))"
        case .name(let k, let i, let n): return "setName(\(k), index: \(i), '\(n)')"
        case .balance(let k, let i): return "balance(\(k), index: \(i))"
        }
    }
}

/// What an operation gave: applied (with a reconcile's kind or a balance's value), or refused and why.
enum ModelOutcome: Equatable, CustomStringConvertible {
    case applied(String)
    case refused(RefusalCode)

    var description: String {
        switch self {
        case .applied(let s): return "applied \(s)"
        case .refused(let c): return "refused \(c)"
        }
    }
}

struct ModelRecord: Equatable {
    var count = 8
    var credit: Int128 = 0
    var slots = [Int128](repeating: 0, count: 64)
    var epoch: UInt64 = 0
    var ops: UInt64 = 0
    var names: [String] = ["total", "pool"] + [String](repeating: "", count: 62)

    /// SPEC §3 reset: total = pool = balance, every budget 0, epoch + 1 (one more applied op).
    mutating func reset(to balance: Int128) {
        slots = [Int128](repeating: 0, count: 64)
        slots[0] = balance
        slots[1] = balance
        epoch += 1
        ops += 1
    }
}

struct ReferenceModel {
    static let limit: Int128 = 999_999_999_999_999_999_999_999_999_999_999_999
    var records: [BookKey: ModelRecord] = [:]

    static func fits(_ v: Int128) -> Bool { v >= -limit && v <= limit }

    mutating func apply(_ op: ModelOp) -> ModelOutcome {
        switch op {
        case .reset(let k, let balance, let count):
            if let c = count, !(2...64).contains(c) { return .refused(.badCount) }
            guard ReferenceModel.fits(balance) else { return .refused(.overflow) }
            var r = records[k] ?? ModelRecord(count: count ?? 8)
            if let c = count { r.count = c }
            r.reset(to: balance)
            records[k] = r
            return .applied("")
        case .set(let k, let value, let i):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 0 && i < r.count else { return .refused(.indexOutOfRange) }
            if i >= 2 && value < 0 { return .refused(.negativeBudget) }
            guard ReferenceModel.fits(value) else { return .refused(.overflow) }
            guard ReferenceModel.move(&r, i, value - r.slots[i]) else { return .refused(.overflow) }
            r.ops += 1
            records[k] = r
            return .applied("")
        case .adjust(let k, let delta, let i):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 0 && i < r.count else { return .refused(.indexOutOfRange) }
            guard ReferenceModel.fits(delta) else { return .refused(.overflow) }
            if i >= 2 && r.slots[i] + delta < 0 { return .refused(.negativeBudget) }
            guard ReferenceModel.move(&r, i, delta) else { return .refused(.overflow) }
            r.ops += 1
            records[k] = r
            return .applied("")
        case .allocate(let k, let i, let amount):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 2 && i < r.count else { return .refused(.notASubStrategy) }
            guard amount > 0 else { return .refused(.nonPositiveAmount) }
            guard amount <= r.slots[1] + r.credit else { return .refused(.insufficientHeadroom) }
            guard ReferenceModel.fits(r.slots[i] + amount) else { return .refused(.overflow) }
            r.slots[i] += amount
            r.slots[1] -= amount
            r.ops += 1
            records[k] = r
            return .applied("")
        case .release(let k, let i, let amount):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 2 && i < r.count else { return .refused(.notASubStrategy) }
            guard amount > 0 else { return .refused(.nonPositiveAmount) }
            guard amount <= r.slots[i] else { return .refused(.exceedsBudget) }
            guard ReferenceModel.fits(r.slots[1] + amount) else { return .refused(.overflow) }
            r.slots[i] -= amount
            r.slots[1] += amount
            r.ops += 1
            records[k] = r
            return .applied("")
        case .reconcile(let k, let balance):
            guard ReferenceModel.fits(balance) else { return .refused(.overflow) }
            guard var r = records[k] else {
                var fresh = ModelRecord()
                fresh.slots[0] = balance
                fresh.slots[1] = balance
                fresh.epoch = 1
                fresh.ops = 1
                records[k] = fresh
                return .applied("created")
            }
            let delta = balance - r.slots[0]
            if delta == 0 { return .applied("in sync") }
            let pool = r.slots[1] + delta
            if ReferenceModel.fits(pool) && pool + r.credit >= 0 {
                r.slots[0] = balance
                r.slots[1] = pool
                r.ops += 1
                records[k] = r
                return .applied("repaired")
            }
            r.reset(to: balance)
            records[k] = r
            return .applied("reset")
        case .credit(let k, let credit):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard credit >= 0 else { return .refused(.negativeCredit) }
            guard ReferenceModel.fits(credit) else { return .refused(.overflow) }
            r.credit = credit
            r.ops += 1
            records[k] = r
            return .applied("")
        case .count(let k, let c):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard (2...64).contains(c) else { return .refused(.badCount) }
            if c < r.count, r.slots[c..<r.count].contains(where: { $0 != 0 }) { return .refused(.shrinkOverNonZero) }
            r.count = c
            r.ops += 1
            records[k] = r
            return .applied("")
        case .name(let k, let i, let name):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 0 && i < r.count else { return .refused(.indexOutOfRange) }
            r.names[i] = name
            records[k] = r
            return .applied("")
        case .balance(let k, let i):
            guard let r = records[k] else { return .refused(.noRecord) }
            guard i >= 0 && i < r.count else { return .refused(.indexOutOfRange) }
            return .applied(Amount(raw: r.slots[i]).exactText)
        }
    }

    /// SPEC §3 "rebalance": a change of the total or a budget is absorbed by the pool; a change
    /// of the pool moves the total with it. False when a slot would not fit.
    static func move(_ r: inout ModelRecord, _ i: Int, _ delta: Int128) -> Bool {
        if i <= 1 {
            guard fits(r.slots[0] + delta), fits(r.slots[1] + delta) else { return false }
            r.slots[0] += delta
            r.slots[1] += delta
        } else {
            guard fits(r.slots[i] + delta), fits(r.slots[1] - delta) else { return false }
            r.slots[i] += delta
            r.slots[1] -= delta
        }
        return true
    }
}
