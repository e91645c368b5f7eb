import Glibc
import ShmBalance

/// An operation a writer logged its intent for.
struct LoggedOp {
    var seq: Int
    var record: Int
    var op: OpKind
    var index: Int
    var raw: Int128
}

/// What one writer's log says it did, across all its incarnations: per record, its own slot's
/// value and its digit of the total, folded from every applied operation in order, and how many
/// operations it applied (each bumps the record's op count by one).
final class WriterLedger {
    let id: Int
    var tail: LogTail
    var path: String { tail.path }
    var slot: [Int128]
    var digit: [Int64]
    var applied: [Int]
    var pending: LoggedOp?
    var intents = 0, acked = 0, refused = 0, errors = 0, loggedViolations = 0
    var inFlightApplied = 0, inFlightNotApplied = 0

    init(id: Int, path: String, records: Int) {
        self.id = id
        tail = LogTail(path: path)
        slot = [Int128](repeating: 0, count: records)
        digit = [Int64](repeating: 0, count: records)
        applied = [Int](repeating: 0, count: records)
    }

    /// The (slot, digit) of `record` after `op` is applied to the fold; nil when the rules must refuse it.
    func after(_ op: LoggedOp) -> (slot: Int128, digit: Int64)? {
        let s = slot[op.record], d = digit[op.record]
        switch op.op {
        case .allocate: return (s + op.raw, d)
        case .release: return op.raw > s ? nil : (s - op.raw, d)
        case .adjustOwn: return s + op.raw < 0 ? nil : (s + op.raw, d)
        case .setOwn: return (op.raw, d)
        case .adjustTotal: return (s, d + Int64(op.raw / Plan.unit(id)))
        case .bait: return nil
        }
    }

    func apply(_ op: LoggedOp) -> String? {
        guard let a = after(op) else { return "writer \(id) op \(op.seq): \(op.op.rawValue) was applied though the rules refuse it" }
        slot[op.record] = a.slot
        digit[op.record] = a.digit
        applied[op.record] += 1
        return nil
    }

    /// Reads the complete lines appended since the last call; returns protocol violations.
    func consume() -> [String] {
        var problems: [String] = []
        let lines: [ArraySlice<UInt8>]
        switch tail.read() {
        case .success(let l): lines = l
        case .failure(let e): return ["writer \(id): cannot read its log: errno \(e.errno)"]
        }
        for line in lines {
            let w = line.split(separator: 32, maxSplits: 7).map { String(decoding: $0, as: UTF8.self) }
            guard w.count >= 3, let seq = Int(w[2]) else {
                problems.append("writer \(id): unreadable log line '\(String(decoding: line.prefix(60), as: UTF8.self))'")
                continue
            }
            switch w[0] {
            case "I":
                guard w.count == 7, let r = Int(w[3]), let op = OpKind(rawValue: w[4]), let index = Int(w[5]), let raw = Int128(w[6]) else {
                    problems.append("writer \(id): bad intent line")
                    continue
                }
                if let p = pending { problems.append("writer \(id): op \(seq) started while op \(p.seq) was never acknowledged") }
                pending = LoggedOp(seq: seq, record: r, op: op, index: index, raw: raw)
                intents += 1
            case "A":
                guard let p = pending, p.seq == seq else { problems.append("writer \(id): ack of op \(seq) without its intent"); continue }
                if let v = apply(p) { problems.append(v) }
                acked += 1
                pending = nil
            case "R":
                guard pending?.seq == seq else { problems.append("writer \(id): refusal of op \(seq) without its intent"); continue }
                refused += 1
                pending = nil
            case "E":
                errors += 1
                pending = nil
            case "V":
                loggedViolations += 1
            default:
                problems.append("writer \(id): unknown log line kind '\(w[0])'")
            }
        }
        return problems
    }

    /// After the writer died: drop a line it was cut off in the middle of (its op never started).
    func dropPartialLine() {
        _ = truncate(path, off_t(tail.offset))
    }

    /// Decides the dead writer's one in-flight operation from the books: its slot and its digit of
    /// the total must be exactly as before it, or exactly as after it. Anything else is a violation.
    func resolveInFlight(_ books: Books, writers: Int) -> String? {
        guard let p = pending else { return nil }
        pending = nil
        guard let (slotNow, digitNow) = read(books, record: p.record, writers: writers) else {
            return "writer \(id): record \(p.record) cannot be read back"
        }
        if slotNow == slot[p.record] && digitNow == digit[p.record] {
            inFlightNotApplied += 1
            return nil
        }
        if let a = after(p), a.slot == slotNow, a.digit == digitNow {
            applied[p.record] += 1
            slot[p.record] = a.slot
            digit[p.record] = a.digit
            inFlightApplied += 1
            return nil
        }
        return "writer \(id): in-flight \(p.op.rawValue) \(Amount(raw: p.raw)) on record \(p.record) is neither applied nor absent: slot \(Amount(raw: slotNow)) (log says \(Amount(raw: slot[p.record])) before, \(after(p).map { Amount(raw: $0.slot).description } ?? "refused") after), digit \(digitNow) (log \(digit[p.record]))"
    }

    /// The books must hold exactly what the log says, in every record.
    func verify(_ books: Books, writers: Int) -> [String] {
        var problems: [String] = []
        for r in 0..<slot.count {
            guard let (s, d) = read(books, record: r, writers: writers) else {
                problems.append("writer \(id): record \(r) cannot be read back")
                continue
            }
            if s != slot[r] { problems.append("\(Plan.key(r)) #\(Plan.slot(id)): books say \(Amount(raw: s)), the acknowledged operations say \(Amount(raw: slot[r]))") }
            if d != digit[r] { problems.append("\(Plan.key(r)) total: writer \(id)'s adjustments sum to \(d) units in the books, \(digit[r]) in its log") }
        }
        return problems
    }

    private func read(_ books: Books, record r: Int, writers: Int) -> (Int128, Int64)? {
        guard let rec = books.record(Plan.key(r)) else { return nil }
        var s = RecordState()
        guard (try? rec.read(into: &s)) != nil, let digits = Plan.digits(of: s.total, writers: writers) else { return nil }
        return (s.slots[Plan.slot(id)].raw, digits[id])
    }
}
