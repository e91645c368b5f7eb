import Glibc
import ShmBalance
import ShmBalanceTestKit

// A writer: random operations on its own slot of every record and on the shared totals, each
// logged as an intent before the call and an ack after it (see Plan.swift for why that is exact).

func runWriter(_ a: Args) -> Never {
    let id = a.int("id"), writers = a.int("writers"), recordCount = a.int("records")
    guard id >= 0 && id < writers else { fail("writer --id \(id) is outside 0..<\(writers)") }
    let parent = pid_t(a.int("parent"))
    let status = StatusPage.attach(a.string("status"))
    let books: Books
    do { books = try Books.open(a.string("segment"), .readWrite) } catch { fail("writer \(id): \(error)") }
    let logFd = open(a.string("log"), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
    guard logFd >= 0 else { fail("writer \(id): cannot open its log: errno \(errno)") }
    let me = getpid()
    status.writer(id, .pid).store(UInt64(me), ordering: .releasing)
    installFaultHook(status, writer: id, pausePermille: UInt64(a.int("pause-permille", 125)))

    var rng = SplitMix64(seed: UInt64(a.int("seed", 1)) &* 0x100_0000 ^ UInt64(me))
    let slot = Plan.slot(id)
    let unit = Plan.unit(id)
    let recs = (0..<recordCount).map { r -> RecordRef in
        guard let rec = books.record(Plan.key(r)) else { fail("writer \(id): no record \(Plan.key(r))") }
        return rec
    }
    // Start from what the books say (the killer's side checked it against the log before spawning us).
    var mine = recs.map { rec -> Amount in
        var s = RecordState()
        do { try rec.read(into: &s) } catch { fail("writer \(id): \(error)") }
        return s.slots[slot]
    }
    func violation(_ seq: Int, _ what: String) {
        status.writer(id, .violations).wrappingIncrement(ordering: .relaxed)
        appendLine(logFd, "V \(me) \(seq) \(what)")
        printErr("VIOLATION writer \(id) op \(seq): \(what)")
    }

    var seq = 0
    while !status.stopped {
        if getppid() != parent { exit(3) }  // the campaign is gone: do not run on alone
        let r = Int.random(in: 0..<recordCount, using: &rng)
        let rec = recs[r]
        let roll = Int.random(in: 0..<100, using: &rng)
        var op: OpKind
        var index = slot
        var amount: Amount
        switch roll {
        case 0..<30:
            op = .allocate
            amount = randomAmount(&rng, maxWhole: 2_000)
        case 30..<55:
            op = .release
            if mine[r].raw > 0 && Int.random(in: 0..<10, using: &rng) < 7 {
                amount = Amount(raw: Int128.random(in: 1...mine[r].raw, using: &rng))
            } else {
                amount = randomAmount(&rng, maxWhole: 3_000)
            }
        case 55..<75:
            op = .adjustTotal
            index = Int.random(in: 0...1, using: &rng)
            let k = Int128(Int.random(in: 1...9, using: &rng)) * (Bool.random(using: &rng) ? 1 : -1)
            amount = Amount(raw: k * unit)
        case 75..<85:
            op = .adjustOwn
            amount = randomAmount(&rng, maxWhole: 3_000)
            if Bool.random(using: &rng) { amount = -amount }
        case 85..<93:
            op = .setOwn
            repeat { amount = randomAmount(&rng, maxWhole: 5_000) } while amount == mine[r]
        default:
            op = .bait
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: index = 1; amount = randomAmount(&rng, maxWhole: 10)       // allocate to the pool
            case 1: amount = .zero                                              // allocate nothing
            default: index = 0; amount = randomAmount(&rng, maxWhole: 10)      // release from the total
            }
        }
        status.writer(id, .record).store(UInt64(r), ordering: .relaxed)
        appendLine(logFd, "I \(me) \(seq) \(r) \(op.rawValue) \(index) \(amount.raw)")
        let t0 = monotonicNs()
        var outcome: BooksError?
        do {
            switch op {
            case .allocate: try books.allocate(rec, index: index, amount)
            case .release: try books.release(rec, index: index, amount)
            case .adjustTotal, .adjustOwn: try books.adjust(rec.key, amount, index: index)
            case .setOwn: try books.set(rec.key, amount, index: index)
            case .bait:
                if index == 0 { try books.release(rec, index: index, amount) } else { try books.allocate(rec, index: index, amount) }
            }
        } catch { outcome = error }
        let dt = UInt64(monotonicNs() - t0)
        status.writer(id, .phase).store(0, ordering: .releasing)
        let maxOp = status.writer(id, .maxOpNs)
        if dt > maxOp.load(ordering: .relaxed) { maxOp.store(dt, ordering: .relaxed) }

        // What the rules say must happen to this writer's own slot (the allocate's headroom is the
        // only thing that depends on the other writers).
        let expectRefusal: RefusalCode?
        switch op {
        case .release: expectRefusal = amount > mine[r] ? .exceedsBudget : nil
        case .adjustOwn: expectRefusal = mine[r].raw + amount.raw < 0 ? .negativeBudget : nil
        case .bait: expectRefusal = index == 1 || index == 0 ? .notASubStrategy : .nonPositiveAmount
        default: expectRefusal = nil
        }
        switch outcome {
        case nil:
            appendLine(logFd, "A \(me) \(seq)")
            if let e = expectRefusal { violation(seq, "\(op.rawValue) \(amount) on #\(index) was applied; the rules refuse it (\(e))") }
            switch op {
            case .allocate, .adjustOwn: mine[r] = Amount(raw: mine[r].raw + amount.raw)
            case .release: mine[r] = Amount(raw: mine[r].raw - amount.raw)
            case .setOwn: mine[r] = amount
            case .adjustTotal, .bait: break
            }
        case .refused(let refusal)?:
            appendLine(logFd, "R \(me) \(seq) \(refusal.code.rawValue)")
            status.writer(id, .refused).wrappingIncrement(ordering: .relaxed)
            let allowed = expectRefusal.map { $0 == refusal.code } ?? (op == .allocate && refusal.code == .insufficientHeadroom)
            if !allowed { violation(seq, "\(op.rawValue) \(amount) on #\(index) refused unexpectedly: \(refusal)") }
        case let error?:
            appendLine(logFd, "E \(me) \(seq) \(error)")
            violation(seq, "\(op.rawValue) failed: \(error)")
        }
        status.writer(id, .ops).wrappingIncrement(ordering: .relaxed)
        seq += 1
    }
    exit(0)
}

/// In debug builds: report every fault point reached, park at the one the killer armed (so its
/// SIGKILL lands exactly there), and now and then pause a few µs inside the lock so random kills
/// land inside commits too.
func installFaultHook(_ status: StatusPage, writer id: Int, pausePermille: UInt64) {
    #if DEBUG
    faultPointHook = { point in
        let phase = status.writer(id, .phase)
        let arm = status.writer(id, .arm)
        if arm.load(ordering: .acquiring) == UInt64(point.rawValue) {
            arm.store(0, ordering: .relaxed)
            phase.store(StatusPage.parkedFlag | UInt64(point.rawValue), ordering: .releasing)
            // Parked inside the commit until the killer's SIGKILL arrives (bounded: 5 s).
            for _ in 0..<5_000 { usleep(1_000) }
        }
        phase.store(UInt64(point.rawValue), ordering: .releasing)
        if pausePermille > 0 && UInt64.random(in: 0..<1_000) < pausePermille {
            usleep(UInt32.random(in: 1...200))
        }
    }
    #endif
}
