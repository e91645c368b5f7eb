import Glibc
import ShmBalance

// The holds campaign (`shmbal-campaign holds`): what its writers do and how every effect stays
// checkable exactly. As in the first campaign, writer w owns sub-strategy slot 2 + w of every
// record: only it allocates to, releases from, holds on, fills, voids and receives into that slot,
// so the slot's budget, its held sum, its hold count and its open holds (id → remaining) are the
// fold of writer w's applied operations, in order. Every operation carries an op id (a hold's is
// its id): "w<writer>-<seq>", never used twice. After a kill the next incarnation of the writer
// retries the operation it was in with the SAME op id and logs the answer, so every operation ends
// acknowledged: applied exactly once or refused, never "applied or not". The total and the pool
// are shared; the final check folds every writer's applied effects on them and compares with the
// books (and the op count with the number of applied operations: an op applied twice or lost shows).

enum HoldKind: String {
    case allocate = "alloc", release = "rel", hold = "hold", fill = "fill", fillFinal = "fillF", void = "void", receive = "recv"
    /// A fill of an id never opened: always refused (unknownHold), and the refusal is remembered.
    case bait = "bait"
}

/// One operation: the record, the kind, its figures and the hold it names.
struct HoldOp {
    var seq: Int
    var record: Int
    var kind: HoldKind
    var amount: Int128
    var fee: Int128
    /// The hold it opens or names ("-": none).
    var hold: String

    static func opId(writer: Int, seq: Int) -> String { "w\(writer)-\(seq)" }

    /// The fields after "I pid" in the log and in `--retry` (":"-separated there).
    var fields: [String] { [String(seq), String(record), kind.rawValue, String(amount), String(fee), hold] }

    init(seq: Int, record: Int, kind: HoldKind, amount: Int128, fee: Int128 = 0, hold: String = "-") {
        self.seq = seq
        self.record = record
        self.kind = kind
        self.amount = amount
        self.fee = fee
        self.hold = hold
    }

    init?(_ f: [String]) {
        guard f.count == 6, let seq = Int(f[0]), let r = Int(f[1]), let kind = HoldKind(rawValue: f[2]), let a = Int128(f[3]), let fee = Int128(f[4]) else { return nil }
        self.init(seq: seq, record: r, kind: kind, amount: a, fee: fee, hold: f[5])
    }
}

/// One writer's slot of one record, as its applied operations leave it.
struct SlotBook: Equatable {
    var budget: Int128 = 0
    var held: Int128 = 0
    var open: [String: Int128] = [:]
    var free: Int128 { budget - held }
}

/// What the rules make of an operation on a slot book (SPEC §9, docs/holds.md).
enum Predicted {
    /// Applied: the slot after it, a fill's split beyond the hold, and its effect on total and pool.
    case applied(SlotBook, fromFree: Int128, fromPool: Int128, total: Int128, pool: Int128)
    case refused(RefusalCode)

    var book: SlotBook? { if case .applied(let b, _, _, _, _) = self { return b } else { return nil } }
}

func predict(_ b0: SlotBook, _ op: HoldOp) -> Predicted {
    var b = b0
    switch op.kind {
    case .allocate:
        b.budget += op.amount
        return .applied(b, fromFree: 0, fromPool: 0, total: 0, pool: -op.amount)  // or insufficientHeadroom (the pool is shared)
    case .release:
        if op.amount > b.budget { return .refused(.exceedsBudget) }
        if op.amount > b.free { return .refused(.belowHeld) }
        b.budget -= op.amount
        return .applied(b, fromFree: 0, fromPool: 0, total: 0, pool: op.amount)
    case .hold:
        if op.amount > b.free { return .refused(.exceedsFree) }
        b.held += op.amount
        b.open[op.hold] = op.amount
        return .applied(b, fromFree: 0, fromPool: 0, total: 0, pool: 0)
    case .fill, .fillFinal, .bait:
        guard let remaining = b.open[op.hold] else { return .refused(.unknownHold) }
        let spent = op.amount + op.fee
        let fromHold = min(spent, remaining)
        let over = spent - fromHold
        let fromFree = min(over, max(0, b.free))
        let fromPool = over - fromFree
        let final = op.kind == .fillFinal
        b.budget -= fromHold + fromFree
        b.held -= fromHold + (final ? remaining - fromHold : 0)
        b.open[op.hold] = final ? nil : remaining - fromHold
        return .applied(b, fromFree: fromFree, fromPool: fromPool, total: -spent, pool: -fromPool)
    case .void:
        guard let remaining = b.open[op.hold] else { return .refused(.unknownHold) }
        b.held -= remaining
        b.open[op.hold] = nil
        return .applied(b, fromFree: 0, fromPool: 0, total: 0, pool: 0)
    case .receive:
        b.budget += op.amount
        return .applied(b, fromFree: 0, fromPool: 0, total: op.amount, pool: 0)
    }
}

/// Writer w's slot of record r as the books have it now: budget, held, and its open holds.
func readSlotBook(_ books: Books, record r: Int, writer w: Int) -> SlotBook? {
    let key = Plan.key(r), slot = Plan.slot(w)
    guard let sums = try? books.slotHolds(key), sums.count > slot, let holds = try? books.holds(key, index: slot) else { return nil }
    var b = SlotBook(budget: sums[slot].budget.raw, held: sums[slot].held.raw)
    for h in holds { b.open[h.id.description] = h.amount.raw }
    // The sums and the listing are two reads: they agree unless the writer moved in between (it is
    // dead or stopped whenever this is called).
    return b
}

/// What one writer's log says it did across all its incarnations, and how each cut-off operation
/// was decided.
final class HoldsLedger {
    let id: Int
    var tail: LogTail
    var path: String { tail.path }
    var books: [SlotBook]
    var totalDelta: [Int128]
    var poolDelta: [Int128]
    var applied: [Int]
    var pending: HoldOp?
    /// The pending operation's state in the books at the last kill: true applied, false not.
    var pendingAppliedAtKill: Bool?
    var pendingRetried = false
    var nextSeq = 0
    var intents = 0, acked = 0, refused = 0, errors = 0, loggedViolations = 0
    var byKind: [HoldKind: Int] = [:]
    var overrunsFromFree = 0, overrunsFromPool = 0
    /// Operations a kill cut off: found applied / not applied in the books at the (last) kill.
    var cutApplied = 0, cutNotApplied = 0
    /// Operations found in flight at a kill (each counted once, however often its retries were killed too).
    var cutOff = 0
    /// Retries (with the same op id) and their answers: a replay of an op applied before the kill,
    /// an op applied by the retry, a refusal (by the rules, or the replay of a remembered one).
    var retries = 0, retryReplayed = 0, retryApplied = 0, retryRefused = 0
    /// Operations decided exactly once (each cut-off one: its retry acknowledged and agreeing with the books).
    var decided = 0

    init(id: Int, path: String, records: Int, start: [SlotBook]) {
        self.id = id
        tail = LogTail(path: path)
        books = start
        totalDelta = [Int128](repeating: 0, count: records)
        poolDelta = [Int128](repeating: 0, count: records)
        applied = [Int](repeating: 0, count: records)
    }

    /// Reads the complete lines appended since the last call; returns protocol violations.
    func consume() -> [String] {
        var problems: [String] = []
        let lines: [ArraySlice<UInt8>]
        switch tail.read() {
        case .success(let l): lines = l
        case .failure(let e): return ["holds writer \(id): cannot read its log: errno \(e.errno)"]
        }
        for line in lines {
            let w = line.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
            guard w.count >= 3, let seq = Int(w[2]) else {
                problems.append("holds writer \(id): unreadable log line '\(String(decoding: line.prefix(60), as: UTF8.self))'")
                continue
            }
            switch w[0] {
            case "I":
                guard let op = HoldOp(Array(w[2...])) else { problems.append("holds writer \(id): bad intent line"); continue }
                if let p = pending { problems.append("holds writer \(id): op \(seq) started while op \(p.seq) was never acknowledged") }
                pending = op
                pendingAppliedAtKill = nil
                pendingRetried = false
                nextSeq = seq + 1
                intents += 1
            case "T":
                guard pending?.seq == seq else { problems.append("holds writer \(id): retry of op \(seq), which is not the one in flight"); continue }
                pendingRetried = true
                retries += 1
            case "A", "R":
                guard let p = pending, p.seq == seq else { problems.append("holds writer \(id): answer to op \(seq) without its intent"); continue }
                if let v = answer(p, w) { problems.append(v) }
                pending = nil
                pendingAppliedAtKill = nil
                pendingRetried = false
            case "E":
                errors += 1
                problems.append("holds writer \(id) op \(seq): an error: \(w.dropFirst(3).joined(separator: " "))")
                pending = nil
            case "V":
                loggedViolations += 1
            default:
                problems.append("holds writer \(id): unknown log line kind '\(w[0])'")
            }
        }
        return problems
    }

    /// Folds an acknowledged answer, checking it against the rules and, for a retried operation,
    /// against what the books showed at the kill.
    private func answer(_ p: HoldOp, _ w: [String]) -> String? {
        let what = "holds writer \(id) op \(p.seq) (\(p.kind.rawValue) \(Amount(raw: p.amount)) fee \(Amount(raw: p.fee)) hold \(p.hold) on record \(p.record))"
        let predicted = predict(books[p.record], p)
        let wasCut = pendingAppliedAtKill
        // Decided: counted by what the books showed at the last kill, and checked against the answer below.
        if let cut = wasCut {
            decided += 1
            if cut { cutApplied += 1 } else { cutNotApplied += 1 }
        }
        if w[0] == "R" {
            refused += 1
            guard w.count >= 4, let raw = UInt8(w[3]), let code = RefusalCode(rawValue: raw) else { return "\(what): unreadable refusal" }
            if pendingRetried { retryRefused += 1 }
            if wasCut == true { return "\(what): applied before the kill, but its retry with the same op id was refused (\(code))" }
            switch predicted {
            case .refused(let c) where c == code: return nil
            case .applied where p.kind == .allocate && code == .insufficientHeadroom: return nil
            default: return "\(what): refused \(code); the rules say \(predicted)"
            }
        }
        guard case .applied(let after, let fromFree, let fromPool, let total, let pool) = predicted else {
            return "\(what): applied; the rules refuse it (\(predicted))"
        }
        if p.kind == .fill || p.kind == .fillFinal {
            guard w.count >= 5, let f = Int128(w[3]), let q = Int128(w[4]) else { return "\(what): unreadable fill outcome" }
            if f != fromFree || q != fromPool {
                return "\(what): the fill answered from free \(Amount(raw: f)), from the pool \(Amount(raw: q)); the rules say \(Amount(raw: fromFree)), \(Amount(raw: fromPool))"
            }
            if fromFree > 0 { overrunsFromFree += 1 }
            if fromPool > 0 { overrunsFromPool += 1 }
        }
        if pendingRetried {
            if wasCut == true { retryReplayed += 1 } else { retryApplied += 1 }
        }
        books[p.record] = after
        totalDelta[p.record] += total
        poolDelta[p.record] += pool
        applied[p.record] += 1
        acked += 1
        byKind[p.kind, default: 0] += 1
        return nil
    }

    /// After the writer died: drop a line it was cut off in the middle of.
    func dropPartialLine() {
        _ = truncate(path, off_t(tail.offset))
    }

    /// At a kill: the in-flight operation's slot must be exactly as before it or exactly as after
    /// it (budget, held, and the listing of this writer's holds). Which one is remembered: its
    /// retry must agree (an op applied before the kill must come back applied, a replay).
    func decideAtKill(_ store: Books) -> String? {
        guard let p = pending else { return nil }
        guard let now = readSlotBook(store, record: p.record, writer: id) else { return "holds writer \(id): record \(p.record) cannot be read back" }
        let before = books[p.record]
        let after = predict(before, p).book
        let applied: Bool
        if now == before && now != after {
            applied = false
        } else if let after, now == after {
            applied = true
        } else {
            return "holds writer \(id): in-flight \(p.kind.rawValue) \(Amount(raw: p.amount)) (hold \(p.hold)) on record \(p.record) is neither applied nor absent: books \(show(now)), before \(show(before)), after \(after.map(show) ?? "refused")"
        }
        if pendingAppliedAtKill == true && !applied { return "holds writer \(id): op \(p.seq) was applied at an earlier kill and is gone now" }
        if pendingAppliedAtKill == nil { cutOff += 1 }
        pendingAppliedAtKill = applied
        return nil
    }

    /// The books must hold exactly what the log says for this writer's slot of every record (the
    /// in-flight operation as decided at the kill).
    func verify(_ store: Books) -> [String] {
        var problems: [String] = []
        for r in 0..<books.count {
            guard let now = readSlotBook(store, record: r, writer: id) else {
                problems.append("holds writer \(id): record \(r) cannot be read back")
                continue
            }
            var expected = books[r]
            if let p = pending, p.record == r, pendingAppliedAtKill == true, let a = predict(expected, p).book { expected = a }
            if now != expected { problems.append("\(Plan.key(r)) #\(Plan.slot(id)): books \(show(now)), the acknowledged operations say \(show(expected))") }
        }
        return problems
    }

    /// The `--retry` argument for the next incarnation: the operation in flight, if any.
    var retryArgument: String? { pending.map { $0.fields.joined(separator: ":") } }

    func show(_ b: SlotBook) -> String {
        "budget \(Amount(raw: b.budget)), held \(Amount(raw: b.held)), holds [\(b.open.sorted { $0.key < $1.key }.map { "\($0.key) \(Amount(raw: $0.value))" }.joined(separator: ", "))]"
    }
}
