import ShmBalanceTestSupport
import ShmBalance

// A tiny model of SPEC §3 and §9, written from the spec (and docs/holds.md) and separately from
// the core: plain Int128 arithmetic on dictionaries, no shared memory, no latch, no fast paths. The
// property tests run the same random operations against it and the real books and demand
// identical results. §9: per record a table of open holds (id → slot, remaining, original, ttl),
// held/free per slot, and the op-id log (the last `opIdWindow` remembered calls: id, the call's
// signature, its first result).

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
    // SPEC §9. A hold's id is its op id.
    case hold(BookKey, Int, Int128, String, Int64?)
    /// fill(key, hold id, amount, fee, final, op id)
    case fill(BookKey, String, Int128, Int128, Bool, String?)
    case void(BookKey, String, String?)
    case receive(BookKey, Int, Int128, String?)
    /// reset(…, dropHolds: true)
    case resetDropping(BookKey, Int128, Int?)
    /// Any of reset, resetDropping, set, adjust, allocate, release, reconcile, credit, count, name with an op id.
    indirect case withOpId(String, ModelOp)

    /// The record the operation is about.
    var key: BookKey {
        switch self {
        case .reset(let k, _, _), .set(let k, _, _), .adjust(let k, _, _), .allocate(let k, _, _), .release(let k, _, _),
             .reconcile(let k, _), .credit(let k, _), .count(let k, _), .name(let k, _, _), .balance(let k, _),
             .hold(let k, _, _, _, _), .fill(let k, _, _, _, _, _), .void(let k, _, _), .receive(let k, _, _, _), .resetDropping(let k, _, _):
            return k
        case .withOpId(_, let op): return op.key
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
        case .hold(let k, let i, let v, let id, let ttl): return "hold(\(k), index: \(i), \(a(v)), id: \(id)\(ttl.map { ", ttl: \($0)" } ?? ""))"
        case .fill(let k, let id, let v, let fee, let final, let op):
            return "fill(\(k), id: \(id), \(a(v)), fee: \(a(fee)), final: \(final)\(op.map { ", opId: \($0)" } ?? ""))"
        case .void(let k, let id, let op): return "void(\(k), id: \(id)\(op.map { ", opId: \($0)" } ?? ""))"
        case .receive(let k, let i, let v, let op): return "receive(\(k), index: \(i), \(a(v))\(op.map { ", opId: \($0)" } ?? ""))"
        case .resetDropping(let k, let v, let c): return "reset(\(k), \(a(v)), count: \(c.map(String.init) ?? "nil"), dropHolds: true)"
        case .withOpId(let id, let op): return "\(op) [opId \(id)]"
        }
    }

    /// The call as an op id remembers it: the operation and every argument (a replay must match all).
    var signature: String {
        switch self {
        case .reset(_, let v, let c): return "reset \(v) \(c ?? 0) keep"
        case .resetDropping(_, let v, let c): return "reset \(v) \(c ?? 0) drop"
        case .set(_, let v, let i): return "set \(i) \(v)"
        case .adjust(_, let v, let i): return "adjust \(i) \(v)"
        case .allocate(_, let i, let v): return "allocate \(i) \(v)"
        case .release(_, let i, let v): return "release \(i) \(v)"
        case .reconcile(_, let v): return "reconcile \(v)"
        case .credit(_, let v): return "credit \(v)"
        case .count(_, let c): return "count \(c)"
        case .name(_, let i, let n): return "name \(i) \(n)"
        case .balance(_, let i): return "balance \(i)"
        case .hold(_, let i, let v, _, let ttl): return "hold \(i) \(v) \(ttl ?? 0)"
        case .fill(_, let id, let v, let fee, let final, _): return "fill \(id) \(v) \(fee) \(final)"
        case .void(_, let id, _): return "void \(id)"
        case .receive(_, let i, let v, _): return "receive \(i) \(v)"
        case .withOpId(_, let op): return op.signature
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

/// An open hold: its slot, what it still covers, what it was opened with, its ttl (µs).
struct ModelHold: Equatable {
    var slot: Int
    var amount: Int128
    var original: Int128
    var ttl: Int64?
}

/// One remembered call carrying an op id: the id, the call's signature, its first result.
struct ModelOpEntry: Equatable {
    var id: String
    var signature: String
    var result: ModelOutcome
}

struct ModelRecord: Equatable {
    var count = 8
    var credit: Int128 = 0
    var slots = [Int128](repeating: 0, count: 64)
    var epoch: UInt64 = 0
    var ops: UInt64 = 0
    var names: [String] = ["total", "pool"] + [String](repeating: "", count: 62)
    /// The open holds, by id.
    var holds: [String: ModelHold] = [:]
    /// Every call ever remembered under an op id, oldest first; only the last `window` count.
    var opLog: [ModelOpEntry] = []
    /// How many calls were ever remembered (the core's opSeq).
    var opSeq = 0

    func held(_ i: Int) -> Int128 { holds.values.reduce(0) { $1.slot == i ? $0 + $1.amount : $0 } }
    func holdCount(_ i: Int) -> Int { holds.values.reduce(0) { $1.slot == i ? $0 + 1 : $0 } }

    /// SPEC §3 reset, with §9's holds kept: total = balance, each budget = its held amount, pool =
    /// total − Σ held, epoch + 1 (one more applied op).
    mutating func reset(to balance: Int128) {
        slots = [Int128](repeating: 0, count: 64)
        slots[0] = balance
        slots[1] = balance
        for i in 2..<count {
            let h = held(i)
            slots[i] = h
            slots[1] -= h
        }
        epoch += 1
        ops += 1
    }
}

struct ReferenceModel {
    static let limit: Int128 = 999_999_999_999_999_999_999_999_999_999_999_999
    var records: [BookKey: ModelRecord] = [:]
    /// The segment's hold capacity and op-id window (Geometry).
    var holdCapacity = Geometry.defaultHoldCapacity
    var opIdWindow = Geometry.defaultOpIdWindow
    /// What the paths of §9 reached (for the property test's report).
    var stats = ModelStats()

    struct ModelStats {
        var replays = 0, replayedRefusals = 0, reuses = 0, forgotten = 0, tableFull = 0, overrunFromFree = 0, overrunFromPool = 0
        var openHoldReplays = 0, holdIdInUse = 0, expired = 0
    }

    /// A hold's ttl that has passed by the record's next writer (1 µs): the model's stand-in for
    /// time. Longer ttls never pass inside a test.
    static let passedTtl: Int64 = 1

    /// Expiry (SPEC §9): the next writer of the record, under its lock and before anything else
    /// (the replay included), voids every hold whose ttl has passed, in one publish of its own.
    mutating func expire(_ k: BookKey) {
        guard var r = records[k] else { return }
        let due = r.holds.filter { $0.value.ttl == ReferenceModel.passedTtl }
        guard !due.isEmpty else { return }
        for id in due.keys { r.holds[id] = nil }
        r.ops += 1
        stats.expired += due.count
        records[k] = r
    }

    static func fits(_ v: Int128) -> Bool { v >= -limit && v <= limit }

    /// The live entry for `id` in the record's window, if any.
    func remembered(_ k: BookKey, _ id: String) -> ModelOpEntry? {
        guard let r = records[k] else { return nil }
        return r.opLog.suffix(opIdWindow).last { $0.id == id }
    }

    /// Under the lock, before any rule: the first result of a call seen before (nothing applied),
    /// opIdReused for the id with other arguments, nil for a new call.
    mutating func replay(_ k: BookKey, _ id: String?, _ op: ModelOp) -> ModelOutcome? {
        guard let id else { return nil }
        guard let e = remembered(k, id) else {
            if records[k]?.opLog.contains(where: { $0.id == id }) == true { stats.forgotten += 1 }
            return nil
        }
        if e.signature != op.signature {
            stats.reuses += 1
            return .refused(.opIdReused)
        }
        stats.replays += 1
        if case .refused = e.result { stats.replayedRefusals += 1 }
        return e.result
    }

    /// Remembers a call carrying an op id with its result (applied or refused) and returns the result.
    mutating func remember(_ k: BookKey, _ id: String?, _ op: ModelOp, _ result: ModelOutcome) -> ModelOutcome {
        if let id, records[k] != nil {
            records[k]!.opLog.append(ModelOpEntry(id: id, signature: op.signature, result: result))
            records[k]!.opSeq += 1
            if records[k]!.opLog.count > 4 * opIdWindow { records[k]!.opLog.removeFirst(records[k]!.opLog.count - 2 * opIdWindow) }
        }
        if case .refused(.holdTableFull) = result { stats.tableFull += 1 }
        return result
    }

    mutating func apply(_ op: ModelOp) -> ModelOutcome {
        if case .withOpId(let id, let inner) = op { return apply(inner, opId: id) }
        if case .hold(_, _, _, let id, _) = op { return apply(op, opId: id) }
        if case .fill(_, _, _, _, _, let id) = op { return apply(op, opId: id) }
        if case .void(_, _, let id) = op { return apply(op, opId: id) }
        if case .receive(_, _, _, let id) = op { return apply(op, opId: id) }
        return apply(op, opId: nil)
    }

    /// `op` with (or without) an op id: the checks that come before the lock are not remembered;
    /// from the replay on, every result is (but holdIdInUse and an open hold asked again).
    mutating func apply(_ op: ModelOp, opId: String?) -> ModelOutcome {
        switch op {
        case .reset(let k, let balance, let count), .resetDropping(let k, let balance, let count):
            if let c = count, !(2...64).contains(c) { return .refused(.badCount) }
            guard ReferenceModel.fits(balance) else { return .refused(.overflow) }
            if records[k] == nil { records[k] = ModelRecord(count: count ?? 8) }
            expire(k)
            if let first = replay(k, opId, op) { return first }
            var r = records[k]!
            if case .resetDropping = op { r.holds = [:] }
            let newCount = count ?? r.count
            // A slot with an open hold stays, even one covering 0 (OrphanHoldBugTests).
            for i in newCount..<64 where r.held(i) != 0 || r.holdCount(i) != 0 { return remember(k, opId, op, .refused(.shrinkOverNonZero)) }
            // The pool gets what the holds do not keep; an unstorable pool is refused like any
            // unstorable result (ResetBugTests).
            guard ReferenceModel.fits(balance - (2..<newCount).reduce(Int128(0)) { $0 + r.held($1) }) else {
                return remember(k, opId, op, .refused(.overflow))
            }
            r.count = newCount
            r.reset(to: balance)
            records[k] = r
            return remember(k, opId, op, .applied(""))
        case .withOpId(let id, let inner):
            return apply(inner, opId: id)
        case .hold(let k, let i, let amount, let id, let ttl):
            guard records[k] != nil else { return .refused(.noRecord) }
            expire(k)
            var r = records[k]!
            if let first = replay(k, opId, op) { return first }
            guard i >= 2 && i < r.count else { return remember(k, opId, op, .refused(.notASubStrategy)) }
            guard amount > 0 else { return remember(k, opId, op, .refused(.nonPositiveAmount)) }
            if let h = r.holds[id] {
                if h.slot == i && h.original == amount && h.ttl == ttl {
                    stats.openHoldReplays += 1
                    return .applied("")  // the hold exists as asked: nothing remembered, nothing published
                }
                stats.holdIdInUse += 1
                return .refused(.holdIdInUse)  // not remembered: the id belongs to the open hold
            }
            guard amount <= r.slots[i] - r.held(i) else { return remember(k, opId, op, .refused(.exceedsFree)) }
            guard r.holds.count < holdCapacity else { return remember(k, opId, op, .refused(.holdTableFull)) }
            r.holds[id] = ModelHold(slot: i, amount: amount, original: amount, ttl: ttl)
            r.ops += 1
            records[k] = r
            return remember(k, opId, op, .applied(""))
        case .fill(let k, let id, let amount, let fee, let final, _):
            guard records[k] != nil else { return .refused(.noRecord) }
            expire(k)
            var r = records[k]!
            if let first = replay(k, opId, op) { return first }
            guard amount >= 0 && fee >= 0 else { return remember(k, opId, op, .refused(.negativeFill)) }
            guard var h = r.holds[id] else { return remember(k, opId, op, .refused(.unknownHold)) }
            let i = h.slot
            let spent = amount + fee
            // A hold beyond the count cannot exist any more (OrphanHoldBugTests); kept as the core's guard.
            guard ReferenceModel.fits(amount) && ReferenceModel.fits(fee) && ReferenceModel.fits(spent), i >= 2 && i < r.count else {
                return remember(k, opId, op, .refused(.overflow))
            }
            let fromHold = min(spent, h.amount)
            let over = spent - fromHold
            let fromFree = min(over, max(0, r.slots[i] - r.held(i)))
            let fromPool = over - fromFree
            guard ReferenceModel.fits(r.slots[0] - spent) && ReferenceModel.fits(r.slots[1] - fromPool) else {
                return remember(k, opId, op, .refused(.overflow))
            }
            r.slots[i] -= fromHold + fromFree
            r.slots[1] -= fromPool
            r.slots[0] -= spent
            h.amount -= fromHold
            r.holds[id] = final ? nil : h
            r.ops += 1
            records[k] = r
            if fromFree > 0 { stats.overrunFromFree += 1 }
            if fromPool > 0 { stats.overrunFromPool += 1 }
            return remember(k, opId, op, .applied(ReferenceModel.fillText(fromHold, fromFree, fromPool, final)))
        case .void(let k, let id, _):
            guard records[k] != nil else { return .refused(.noRecord) }
            expire(k)
            var r = records[k]!
            if let first = replay(k, opId, op) { return first }
            guard r.holds[id] != nil else { return remember(k, opId, op, .refused(.unknownHold)) }
            r.holds[id] = nil
            r.ops += 1
            records[k] = r
            return remember(k, opId, op, .applied(""))
        case .receive(let k, let i, let amount, _):
            guard records[k] != nil else { return .refused(.noRecord) }
            expire(k)
            var r = records[k]!
            if let first = replay(k, opId, op) { return first }
            guard i >= 2 && i < r.count else { return remember(k, opId, op, .refused(.notASubStrategy)) }
            guard amount > 0 else { return remember(k, opId, op, .refused(.nonPositiveAmount)) }
            guard ReferenceModel.fits(r.slots[i] + amount) && ReferenceModel.fits(r.slots[0] + amount) else {
                return remember(k, opId, op, .refused(.overflow))
            }
            r.slots[i] += amount
            r.slots[0] += amount
            r.ops += 1
            records[k] = r
            return remember(k, opId, op, .applied(""))
        case .reconcile(let k, let balance):
            guard ReferenceModel.fits(balance) else { return .refused(.overflow) }
            if records[k] == nil {
                var fresh = ModelRecord()
                fresh.slots[0] = balance
                fresh.slots[1] = balance
                fresh.epoch = 1
                fresh.ops = 1
                records[k] = fresh
                return remember(k, opId, op, .applied("created"))
            }
            expire(k)
            if let first = replay(k, opId, op) { return first }
            return remember(k, opId, op, applyRule(op))
        case .balance:
            return applyRule(op)
        default:
            guard records[op.key] != nil else { return .refused(.noRecord) }
            expire(op.key)
            if let first = replay(op.key, opId, op) { return first }
            return remember(op.key, opId, op, applyRule(op))
        }
    }

    static func fillText(_ fromHold: Int128, _ fromFree: Int128, _ fromPool: Int128, _ closed: Bool) -> String {
        "fill hold \(Amount(raw: fromHold).exactText) free \(Amount(raw: fromFree).exactText) pool \(Amount(raw: fromPool).exactText)\(closed ? " closed" : "")"
    }

    /// The rules of SPEC §3 (with §9's "never below held"), the record existing.
    mutating func applyRule(_ op: ModelOp) -> ModelOutcome {
        switch op {
        case .reset, .resetDropping, .hold, .fill, .void, .receive, .withOpId:
            fatalError("apply(_:opId:) handles \(op) itself")
        case .set(let k, let value, let i):
            guard var r = records[k] else { return .refused(.noRecord) }
            guard i >= 0 && i < r.count else { return .refused(.indexOutOfRange) }
            if i >= 2 && value < 0 { return .refused(.negativeBudget) }
            if i >= 2 && value < r.held(i) { return .refused(.belowHeld) }
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
            if i >= 2 && r.slots[i] + delta < r.held(i) { return .refused(.belowHeld) }
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
            if r.slots[i] - amount < r.held(i) { return .refused(.belowHeld) }
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
            // Holds kept; the pool is not checked here, as the core has it now (ResetBugTests: at the
            // lowest storable figure it can leave an unstorable pool; the generator stays clear of it).
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
            // Not over a budget, nor over an open hold, even one covering 0 (OrphanHoldBugTests).
            if c < r.count, (c..<r.count).contains(where: { r.slots[$0] != 0 || r.holdCount($0) != 0 }) { return .refused(.shrinkOverNonZero) }
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
