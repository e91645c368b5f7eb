import Glibc
import ShmBalance
import ShmBalanceTestKit

// A holds writer: allocate, release, hold, fill (partial and final, with fees, some overrunning),
// void and receive on its own slot of every record, each with an op id; logged as an intent before
// the call and an answer after it. Started with `--retry seq:record:kind:amount:fee:hold`, it first
// retries the operation its previous incarnation was killed in, with the same op id. Now and then
// it sends an acknowledged call again with its op id (it must get the first answer back and change
// nothing), or its op id with other arguments (refused opIdReused); neither is logged as an
// operation, so the books must show no trace of them.

func runHoldsWriter(_ a: Args) -> Never {
    let id = a.int("id"), recordCount = a.int("records")
    let parent = pid_t(a.int("parent"))
    let status = StatusPage.attach(a.string("status"))
    let books: Books
    do { books = try Books.open(a.string("segment"), .readWrite) } catch { fail("holds writer \(id): \(error)") }
    let logFd = open(a.string("log"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard logFd >= 0 else { fail("holds writer \(id): cannot open its log: errno \(errno)") }
    let me = getpid()
    status.writer(id, .pid).store(UInt64(me), ordering: .releasing)
    installFaultHook(status, writer: id, pausePermille: UInt64(a.int("pause-permille", 125)))
    var rng = SplitMix64(seed: UInt64(a.int("seed", 1)) &* 0x100_0000 ^ UInt64(me))
    let slot = Plan.slot(id)
    let recs = (0..<recordCount).map { r -> RecordRef in
        guard let rec = books.record(Plan.key(r)) else { fail("holds writer \(id): no record \(Plan.key(r))") }
        return rec
    }
    let maxOpen = a.int("max-open", 8)

    /// Calls the core; the answer as logged ("A pid seq [fromFree fromPool]", "R pid seq code", "E …").
    func call(_ op: HoldOp, fresh: Bool = false) -> (line: String, outcome: FillOutcome?, refusal: RefusalCode?) {
        let key = recs[op.record].key
        let t0 = monotonicNs()
        defer {
            let dt = UInt64(monotonicNs() - t0)
            status.writer(id, .phase).store(0, ordering: .releasing)
            let maxOp = status.writer(id, .maxOpNs)
            if dt > maxOp.load(ordering: .relaxed) { maxOp.store(dt, ordering: .relaxed) }
        }
        do throws(BooksError) {
            let opId = try OperationId(HoldOp.opId(writer: id, seq: op.seq) + (fresh ? "-again" : ""))
            var fill: FillOutcome?
            switch op.kind {
            case .allocate: try books.allocate(key, index: slot, Amount(raw: op.amount), opId: opId)
            case .release: try books.release(key, index: slot, Amount(raw: op.amount), opId: opId)
            case .hold: try books.hold(key, index: slot, Amount(raw: op.amount), id: opId)
            case .fill, .fillFinal, .bait:
                fill = try books.fill(key, id: try HoldId(op.hold), Amount(raw: op.amount), fee: Amount(raw: op.fee), final: op.kind == .fillFinal, opId: opId)
            case .void: try books.void(key, id: try HoldId(op.hold), opId: opId)
            case .receive: try books.receive(key, index: slot, Amount(raw: op.amount), opId: opId)
            }
            let extra = fill.map { " \($0.fromFree.raw) \($0.fromPool.raw)" } ?? ""
            return ("A \(me) \(op.seq)\(extra)", fill, nil)
        } catch {
            if case .refused(let r) = error { return ("R \(me) \(op.seq) \(r.code.rawValue)", nil, r.code) }
            return ("E \(me) \(op.seq) \(error)", nil, nil)
        }
    }
    func violation(_ seq: Int, _ what: String) {
        status.writer(id, .violations).wrappingIncrement(ordering: .relaxed)
        appendLine(logFd, "V \(me) \(seq) \(what)")
        printErr("VIOLATION holds writer \(id) op \(seq): \(what)")
    }

    // The operation the previous incarnation was killed in: again, with the same op id, before anything else.
    var seq = a.int("start-seq", 0)
    if let text = a.values["retry"] {
        guard let op = HoldOp(text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)) else { fail("holds writer \(id): bad --retry '\(text)'") }
        status.writer(id, .record).store(UInt64(op.record), ordering: .relaxed)
        appendLine(logFd, "T \(me) \(op.seq)")
        // --sabotage-retry (the campaign's self-test): the retry under a new op id, as a caller without op ids would.
        appendLine(logFd, call(op, fresh: a.has("sabotage-retry")).line)
        seq = max(seq, op.seq + 1)
    }

    // From here on the books are this writer's own slot as it left them.
    var mine = (0..<recordCount).map { r -> SlotBook in
        guard let b = readSlotBook(books, record: r, writer: id) else { fail("holds writer \(id): cannot read record \(r)") }
        return b
    }
    /// The answer without the pid: what a replay must give again.
    func answerTail(_ line: String) -> String { line.split(separator: " ").enumerated().filter { $0.offset != 1 }.map { String($0.element) }.joined(separator: " ") }
    var history: [(op: HoldOp, answer: String)] = []
    while !status.stopped {
        if getppid() != parent { exit(3) }  // the campaign is gone: do not run on alone
        if !history.isEmpty && Int.random(in: 0..<100, using: &rng) < 5 {
            let (old, first) = history.randomElement(using: &rng)!
            status.writer(id, .record).store(UInt64(old.record), ordering: .relaxed)
            if Int.random(in: 0..<4, using: &rng) == 0 {
                // The same op id with other arguments: refused, nothing applied.
                var other = old
                if old.kind == .void { other.hold += "x" } else { other.amount += 1 }  // a void has no amount: another hold
                let answer = answerTail(call(other).line)
                if answer != "R \(old.seq) \(RefusalCode.opIdReused.rawValue)" { violation(old.seq, "\(old.kind.rawValue): its op id with other arguments answered '\(answer)', not opIdReused") }
                status.writer(id, .reuses).wrappingIncrement(ordering: .relaxed)
            } else {
                let answer = answerTail(call(old).line)
                if answer != first { violation(old.seq, "\(old.kind.rawValue): sent again with its op id it answered '\(answer)', the first time '\(first)'") }
                status.writer(id, .replays).wrappingIncrement(ordering: .relaxed)
            }
            continue
        }
        let r = Int.random(in: 0..<recordCount, using: &rng)
        let b = mine[r]
        let own = HoldOp.opId(writer: id, seq: seq)
        let openIds = b.open.keys.sorted()
        var op: HoldOp
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<26 where b.open.count < maxOpen:
            // Within the free budget mostly; beyond it now and then (refused: exceedsFree).
            let fits = b.free > 0 && Int.random(in: 0..<10, using: &rng) < 8
            let amount = fits ? Int128.random(in: 1...min(b.free, 800 * Amount.scale), using: &rng) : b.free + randomAmount(&rng, maxWhole: 500).raw
            op = HoldOp(seq: seq, record: r, kind: .hold, amount: max(1, amount), hold: own)
        case 0..<52 where !openIds.isEmpty:
            let h = openIds.randomElement(using: &rng)!
            let remaining = b.open[h]!
            var amount: Int128
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<2: amount = remaining + randomAmount(&rng, maxWhole: 300).raw  // an overrun: from free, then the pool
            case 2..<4: amount = remaining
            default: amount = remaining > 1 ? Int128.random(in: 1...remaining, using: &rng) : 1
            }
            amount = max(1, amount)
            let fee = Bool.random(using: &rng) ? Int128.random(in: 1...(amount / 100 + 1), using: &rng) : 0
            op = HoldOp(seq: seq, record: r, kind: Int.random(in: 0..<5, using: &rng) < 2 ? .fillFinal : .fill, amount: amount, fee: fee, hold: h)
        case 52..<59 where !openIds.isEmpty:
            op = HoldOp(seq: seq, record: r, kind: .void, amount: 0, hold: openIds.randomElement(using: &rng)!)
        case 59..<76:
            op = HoldOp(seq: seq, record: r, kind: .allocate, amount: randomAmount(&rng, maxWhole: 2_000).raw)
        case 76..<86:
            let amount: Int128
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: amount = b.free + 1 + (b.held > 0 ? Int128.random(in: 0..<b.held, using: &rng) : 0)  // belowHeld (or beyond the budget)
            case 1: amount = b.budget + randomAmount(&rng, maxWhole: 100).raw                          // exceedsBudget
            default: amount = b.free > 0 ? Int128.random(in: 1...b.free, using: &rng) : randomAmount(&rng, maxWhole: 100).raw
            }
            op = HoldOp(seq: seq, record: r, kind: .release, amount: amount)
        case 86..<97:
            op = HoldOp(seq: seq, record: r, kind: .receive, amount: randomAmount(&rng, maxWhole: 1_500).raw)
        default:
            op = HoldOp(seq: seq, record: r, kind: .bait, amount: randomAmount(&rng, maxWhole: 10).raw, hold: "w\(id)-never")
        }
        status.writer(id, .record).store(UInt64(r), ordering: .relaxed)
        appendLine(logFd, "I \(me) " + op.fields.joined(separator: " "))
        let (line, fill, refusal) = call(op)
        appendLine(logFd, line)
        if !line.hasPrefix("E") {
            history.append((op, answerTail(line)))
            if history.count > 40 { history.removeFirst() }
        }
        let predicted = predict(b, op)
        switch (predicted, refusal) {
        case (.applied(let after, let fromFree, let fromPool, _, _), nil) where line.hasPrefix("A"):
            if let fill, fill.fromFree.raw != fromFree || fill.fromPool.raw != fromPool {
                violation(seq, "\(op.kind.rawValue): fill split \(fill) differs from the rules' \(fromFree)/\(fromPool)")
            }
            mine[r] = after
        case (.applied, .insufficientHeadroom?) where op.kind == .allocate:
            break
        case (.refused(let c), let got?) where c == got:
            break
        default:
            violation(seq, "\(op.kind.rawValue) \(Amount(raw: op.amount)): \(line); the rules say \(predicted)")
        }
        if refusal != nil { status.writer(id, .refused).wrappingIncrement(ordering: .relaxed) }
        status.writer(id, .ops).wrappingIncrement(ordering: .relaxed)
        seq += 1
    }
    exit(0)
}
