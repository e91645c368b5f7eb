import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §3 as a property: random sequences of operations (refusals included) give identical books
/// and identical refusals in the real books and in the reference model (ReferenceModel.swift).
/// A failing sequence is shrunk to a minimal one before it is reported, with its seed.
/// SHMBAL_PROPERTY_SEED and SHMBAL_PROPERTY_RUNS override the seed and the number of sequences.
final class PropertyTests: XCTestCase {
    static let keys = [key("USDC"), key("USD"), key("USDC", "BINANCE")]
    static let limit = ReferenceModel.limit

    /// Amounts that hit the rules' edges: zero, one unit, ordinary figures, 18 decimals, the limit
    /// and one unit past it.
    static func amount(_ g: inout SplitMix64, allowNegative: Bool = true) -> Int128 {
        let scale: Int128 = 1_000_000_000_000_000_000
        var v: Int128
        switch Int.random(in: 0..<13, using: &g) {
        case 0: v = 0
        case 1: v = 1
        case 2: v = limit
        case 6: v = limit + 1
        case 3: v = limit - Int128(Int.random(in: 0...3, using: &g)) * scale
        case 4: v = Int128(Int.random(in: 1...1_000, using: &g)) * scale / 1_000
        case 5: v = Int128(UInt64.random(in: 0...UInt64.max, using: &g))
        default: v = Int128(Int.random(in: 0...20_000, using: &g)) * scale
        }
        if allowNegative && Int.random(in: 0..<4, using: &g) == 0 { v = -v }
        return v
    }

    static func index(_ g: inout SplitMix64) -> Int {
        switch Int.random(in: 0..<10, using: &g) {
        case 0: return [-1, 64, 65, 100].randomElement(using: &g)!
        case 1, 2: return Int.random(in: 0...1, using: &g)
        case 3: return Int.random(in: 8...63, using: &g)
        default: return Int.random(in: 2...7, using: &g)
        }
    }

    /// An amount at a rule's edge in the current state: exactly a budget, the headroom, the pool,
    /// the room left below the limit, or one unit either side.
    static func edge(_ g: inout SplitMix64, _ r: ModelRecord?, _ i: Int) -> Int128 {
        guard let r else { return amount(&g) }
        let slot = i >= 0 && i < 64 ? r.slots[i] : 0
        let base = [slot, r.slots[1] + r.credit, r.slots[1], r.slots[0], limit - slot, limit - r.slots[1], -slot, limit + r.slots[1], -limit - r.slots[1]]
            .randomElement(using: &g)!
        return base + Int128(Int.random(in: -1...1, using: &g))
    }

    static func op(_ g: inout SplitMix64, _ model: ReferenceModel = ReferenceModel()) -> ModelOp {
        let k = keys.randomElement(using: &g)!
        if Int.random(in: 0..<3, using: &g) == 0 {
            let r = model.records[k]
            // An index at the record's own edges half the time: its last slot, one past it, −1.
            let i = r.map { r in Bool.random(using: &g) ? [r.count - 1, r.count, -1, 2, 1].randomElement(using: &g)! : index(&g) } ?? index(&g)
            switch Int.random(in: 0..<6, using: &g) {
            case 0: return .allocate(k, i, edge(&g, r, i))
            case 1: return .release(k, i, edge(&g, r, i))
            case 2: return .adjust(k, edge(&g, r, i), i)
            case 3: return .set(k, edge(&g, r, i), i)
            case 4: return .reconcile(k, edge(&g, r, i))
            default: return .count(k, (r?.slots.lastIndex { $0 != 0 } ?? 1) + Int.random(in: 0...1, using: &g))
            }
        }
        switch Int.random(in: 0..<100, using: &g) {
        case 0..<10:
            let count: Int? = Bool.random(using: &g) ? nil : [1, 2, 3, 5, 8, 64, 65].randomElement(using: &g)!
            return .reset(k, amount(&g), count)
        case 10..<20: return .set(k, amount(&g), index(&g))
        case 20..<32: return .adjust(k, amount(&g), index(&g))
        case 32..<52: return .allocate(k, index(&g), amount(&g, allowNegative: Int.random(in: 0..<8, using: &g) == 0))
        case 52..<70: return .release(k, index(&g), amount(&g, allowNegative: Int.random(in: 0..<8, using: &g) == 0))
        case 70..<78: return .reconcile(k, amount(&g))
        case 78..<84: return .credit(k, amount(&g, allowNegative: Int.random(in: 0..<6, using: &g) == 0))
        case 84..<90: return .count(k, [1, 2, 3, 4, 6, 9, 64, 65].randomElement(using: &g)!)
        case 90..<95: return .name(k, index(&g), ["grid-bot", "arb#2", "", "x", "123456789012345"].randomElement(using: &g)!)
        default: return .balance(k, index(&g))
        }
    }

    /// Runs `ops` against fresh real books; returns the first difference from the model, if any.
    static func firstDifference(_ ops: [ModelOp], dir: TempDir, run: Int) throws -> String? {
        let path = dir.file("seg\(run)")
        defer { unlink(path) }
        let books = try Books.open(path, .readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 1, ringCapacity: 16)))
        var model = ReferenceModel()
        // A crash (a trap inside the core) cannot be shrunk: SHMBAL_PROPERTY_TRACE prints each step first.
        let trace = ProcessInfo.processInfo.environment["SHMBAL_PROPERTY_TRACE"] != nil
        for (n, op) in ops.enumerated() {
            if trace { FileHandle.standardError.write(Data("step \(n): \(op)\n".utf8)) }
            let expected = model.apply(op)
            let got = perform(op, books)
            if got != expected { return "step \(n) \(op): books \(got), model \(expected)" }
            // After each step the record it touched (an operation on one key never changes another);
            // every record at the end.
            if let d = compare(books, model, only: op.key) { return "after step \(n) \(op): \(d)" }
        }
        if let d = compare(books, model) { return "at the end: \(d)" }
        return nil
    }

    static func perform(_ op: ModelOp, _ books: Books) -> ModelOutcome {
        if case .withOpId(let id, let inner) = op { return perform(inner, books, opId: id) }
        return perform(op, books, opId: nil)
    }

    static func perform(_ op: ModelOp, _ books: Books, opId text: String?) -> ModelOutcome {
        do throws(BooksError) {
            let opId = try text.map { t throws(BooksError) in try OperationId(t) }
            func hid(_ t: String) throws(BooksError) -> HoldId { try HoldId(t) }
            switch op {
            case .reset(let k, let v, let c): try books.reset(k, balance: Amount(raw: v), strategyCount: c, opId: opId)
            case .resetDropping(let k, let v, let c): try books.reset(k, balance: Amount(raw: v), strategyCount: c, dropHolds: true, opId: opId)
            case .set(let k, let v, let i):
                if let opId { try books.set(k, Amount(raw: v), index: i, opId: opId) } else { try books.set(k, Amount(raw: v), index: i) }
            case .adjust(let k, let v, let i):
                if let opId { try books.adjust(k, Amount(raw: v), index: i, opId: opId) } else { try books.adjust(k, Amount(raw: v), index: i) }
            case .allocate(let k, let i, let v):
                if let opId { try books.allocate(k, index: i, Amount(raw: v), opId: opId) } else { try books.allocate(k, index: i, Amount(raw: v)) }
            case .release(let k, let i, let v):
                if let opId { try books.release(k, index: i, Amount(raw: v), opId: opId) } else { try books.release(k, index: i, Amount(raw: v)) }
            case .reconcile(let k, let v):
                switch try books.reconcile(k, exchangeBalance: Amount(raw: v), opId: opId) {
                case .inSync: return .applied("in sync")
                case .repaired, .identityRepaired: return .applied("repaired")
                case .reset: return .applied("reset")
                case .created: return .applied("created")
                }
            case .credit(let k, let v): try books.setCreditLimit(k, Amount(raw: v), opId: opId)
            case .count(let k, let c): try books.setStrategyCount(k, c, opId: opId)
            case .name(let k, let i, let n): try books.setName(k, index: i, try! ShortName(n, kind: .label), opId: opId)
            case .balance(let k, let i): return .applied(try books.balance(k, index: i).exactText)
            case .hold(let k, let i, let v, let id, let ttl): try books.hold(k, index: i, Amount(raw: v), id: try hid(id), ttlMicros: ttl)
            case .fill(let k, let id, let v, let fee, let final, let op):
                let o = try books.fill(k, id: try hid(id), Amount(raw: v), fee: Amount(raw: fee), final: final, opId: try op.map { t throws(BooksError) in try OperationId(t) })
                if o.closed != final { return .applied("error: closed \(o.closed), final \(final)") }
                return .applied(ReferenceModel.fillText(o.fromHold.raw, o.fromFree.raw, o.fromPool.raw, o.closed))
            case .void(let k, let id, let op): try books.void(k, id: try hid(id), opId: try op.map { t throws(BooksError) in try OperationId(t) })
            case .receive(let k, let i, let v, let op): try books.receive(k, index: i, Amount(raw: v), opId: try op.map { t throws(BooksError) in try OperationId(t) })
            case .withOpId(let id, let inner): return perform(inner, books, opId: id)
            }
            return .applied("")
        } catch {
            if case .refused(let r) = error { return .refused(r.code) }
            return .applied("error: \(error)")
        }
    }

    /// The first difference between the books and the model (of record `only`, when given), or nil.
    static func compare(_ books: Books, _ model: ReferenceModel, only: BookKey? = nil) -> String? {
        let keys = books.keys()
        if Set(keys) != Set(model.records.keys) || keys.count != model.records.count { return "records \(keys) vs model \(model.records.keys.sorted())" }
        for k in keys where only == nil || k == only {
            guard let r = try? books.get(k), let m = model.records[k] else { return "\(k): cannot read" }
            let s = r.state
            if s.strategyCount != m.count { return "\(k): count \(s.strategyCount) vs \(m.count)" }
            if r.slots.map(\.raw) != Array(m.slots[0..<m.count]) {
                return "\(k): slots \(r.slots.map(\.exactText)) vs \(m.slots[0..<m.count].map { Amount(raw: $0).exactText })"
            }
            for i in m.count..<64 where s.slots[i].raw != 0 { return "\(k): slot \(i) beyond the count holds \(s.slots[i])" }
            if s.creditLimit.raw != m.credit { return "\(k): credit \(s.creditLimit) vs \(Amount(raw: m.credit))" }
            if s.epoch != m.epoch { return "\(k): epoch \(s.epoch) vs \(m.epoch)" }
            if s.opCount != m.ops { return "\(k): op count \(s.opCount) vs \(m.ops)" }
            if r.names.map(\.description) != Array(m.names[0..<m.count]) { return "\(k): names \(r.names) vs \(m.names[0..<m.count])" }
            if !s.identityHolds { return "\(k): identity broken" }
            // The head word's expiry bit says whether some hold has a ttl (`HeadWord.expiryBit`):
            // the hot pair voids due holds only when it is set, so every writer must keep it exact.
            if let rec = books.record(k) {
                let cur = rec.stateLatch.lockedCurrent
                let bit = HeadWord.mayExpire(cur.loadRelaxed(Layout.State.strategyCount)), earliest = cur.loadRelaxed(Layout.State.earliestExpiry)
                if bit != (earliest != 0) { return "\(k): expiry bit \(bit) with earliest expiry \(earliest)" }
            }
            if let d = compareHolds(books, r, m, k) { return d }
        }
        return nil
    }

    /// SPEC §9 per record: held and hold counts per slot, 0 ≤ held ≤ budget, the listing of open
    /// holds (id, slot, remaining, original, ttl or none) and how many op ids the record remembers.
    static func compareHolds(_ books: Books, _ r: BalanceRecord, _ m: ModelRecord, _ k: BookKey) -> String? {
        let held = (0..<m.count).map { m.held($0) }, counts = (0..<m.count).map { m.holdCount($0) }
        if r.held.map(\.raw) != held { return "\(k): held \(r.held.map(\.exactText)) vs model \(held.map { Amount(raw: $0).exactText })" }
        if r.holdCounts != counts { return "\(k): hold counts \(r.holdCounts) vs model \(counts)" }
        for i in 2..<m.count where r.held[i].raw < 0 || r.held[i].raw > r.slots[i].raw {
            return "\(k) #\(i): held \(r.held[i]) outside 0…budget \(r.slots[i])"
        }
        // A record that never saw a hold or an op id (the §3 property): its sums say no hold; the
        // listing (a scan of the whole table) is skipped there.
        if !(m.holds.isEmpty && r.holdCounts.allSatisfy({ $0 == 0 }) && m.opSeq == 0) {
            guard let listed = try? books.holds(k) else { return "\(k): cannot list the holds" }
            let got = listed.map { "\($0.id) #\($0.index) \($0.amount.exactText)/\($0.original.exactText) \($0.expiresMicros != nil ? "ttl" : "-")" }.sorted()
            let want = m.holds.map { "\($0.key) #\($0.value.slot) \(Amount(raw: $0.value.amount).exactText)/\(Amount(raw: $0.value.original).exactText) \($0.value.ttl != nil ? "ttl" : "-")" }.sorted()
            if got != want { return "\(k): holds \(got) vs model \(want)" }
        }
        // slotHolds: budget, held and count of every meaningful slot from one copy, as `get` has them.
        guard let sums = try? books.slotHolds(k) else { return "\(k): cannot read slotHolds" }
        if sums.map({ "\($0.budget.raw) \($0.held.raw) \($0.count)" }) != (0..<m.count).map({ "\(m.slots[$0]) \(held[$0]) \(counts[$0])" }) {
            return "\(k): slotHolds \(sums) vs model budgets \(m.slots[0..<m.count]), held \(held), counts \(counts)"
        }
        if r.opIdWindow > 0 {
            let remembered = min(m.opSeq, r.opIdWindow)
            if r.opIdsRemembered != remembered { return "\(k): \(r.opIdsRemembered) op ids remembered vs model \(remembered)" }
        }
        return nil
    }

    /// The fixed seeds: the property runs from each of them, so what it explores does not hang on
    /// one lucky or unlucky stream (a boundary bug that one seed happens to catch, another misses).
    static let seeds: [UInt64] = [0x5EED_0007] + (1...23).map { 0x5EED_0000 &+ UInt64($0) &* 0x9E37_79B9 }

    /// SHMBAL_PROPERTY_RUNS is the number of sequences in all (default 1,536, split evenly over the
    /// 24 seeds; CI's sanitizer runs pass 300); SHMBAL_PROPERTY_SEED runs them all from that one seed.
    /// Each failing seed is reported with its sequence number and a shrunk sequence (at most three).
    func testRandomSequencesMatchTheReferenceModel() throws {
        let env = ProcessInfo.processInfo.environment
        let seeds = env["SHMBAL_PROPERTY_SEED"].flatMap(UInt64.init).map { [$0] } ?? Self.seeds
        let total = env["SHMBAL_PROPERTY_RUNS"].flatMap(Int.init) ?? 1_536
        let runsPerSeed = max(1, total / seeds.count)
        let dir = TempDir()
        var refusals = 0, applied = 0, failures = 0
        for seed in seeds {
            var g = SplitMix64(seed: seed)
            for run in 0..<runsPerSeed {
                // Each operation is drawn knowing the state so far, so edges come up often.
                var model = ReferenceModel()
                var ops: [ModelOp] = []
                for _ in 0..<Int.random(in: 10...80, using: &g) {
                    let op = PropertyTests.op(&g, model)
                    ops.append(op)
                    if case .refused = model.apply(op) { refusals += 1 } else { applied += 1 }
                }
                guard let difference = try PropertyTests.firstDifference(ops, dir: dir, run: run) else { continue }
                let minimal = try PropertyTests.shrink(ops) { try PropertyTests.firstDifference($0, dir: dir, run: -2) != nil }
                XCTFail("""
                    books and model differ (seed \(seed), sequence \(run); rerun with SHMBAL_PROPERTY_SEED=\(seed)): \(difference)
                    minimal failing sequence (\(minimal.count) operations):
                    \(minimal.map { "  \($0)" }.joined(separator: "\n"))
                    first difference there: \(try PropertyTests.firstDifference(minimal, dir: dir, run: -1) ?? "?")
                    """)
                failures += 1
                break  // the next seed
            }
            if failures >= 3 { return }
        }
        print("property: \(seeds.count) seeds × \(runsPerSeed) sequences, \(applied) operations applied and \(refusals) refused, books identical to the model")
        XCTAssertGreaterThan(refusals, runsPerSeed * seeds.count, "the generator must produce refusals")
        XCTAssertGreaterThan(applied, runsPerSeed * seeds.count, "the generator must produce applied operations")
    }

    /// Removes operations one at a time while the sequence still fails.
    static func shrink(_ ops: [ModelOp], fails: ([ModelOp]) throws -> Bool) rethrows -> [ModelOp] {
        var current = ops
        var changed = true
        while changed {
            changed = false
            var i = 0
            while i < current.count {
                var candidate = current
                candidate.remove(at: i)
                if try fails(candidate) {
                    current = candidate
                    changed = true
                } else {
                    i += 1
                }
            }
        }
        return current
    }

    /// The shrinker cuts a failing sequence down to what makes it fail: here a planted failure
    /// "a reset of USDC to 5 followed later by a balance of it".
    func testShrinkerFindsAMinimalSequence() throws {
        var g = SplitMix64(seed: 1)
        let k = PropertyTests.keys[0]
        var ops = (0..<40).map { _ in PropertyTests.op(&g) }
        ops.insert(.reset(k, 5, 3), at: 7)
        ops.insert(.balance(k, 2), at: 30)
        let planted: ([ModelOp]) -> Bool = { seq in
            guard let r = seq.firstIndex(where: { if case .reset(k, 5, 3) = $0 { return true } else { return false } }) else { return false }
            return seq[r...].contains { if case .balance(k, 2) = $0 { return true } else { return false } }
        }
        XCTAssertTrue(planted(ops))
        let minimal = PropertyTests.shrink(ops, fails: planted)
        XCTAssertEqual(minimal.map(\.description), [ModelOp.reset(k, 5, 3).description, ModelOp.balance(k, 2).description])
    }
}


/// Regressions the property test found, kept as plain tests.
final class PropertyRegressionTests: XCTestCase {
    /// allocate/release copy only the meaningful slots into the unpublished copy. A reset to a
    /// smaller count followed by an allocate left a budget from before the reset beyond the count
    /// of the published copy; growing the count again (setStrategyCount, config apply) brought it
    /// back and broke the identity. Found by the property test (seed 99).
    func testGrowingTheCountAfterAResetBringsBackNoStaleBudget() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating())
        let k = key("USDC")
        for grow in [0, 1] {
            try books.reset(k, balance: Amount("100"), strategyCount: 8)
            try books.allocate(k, index: 5, Amount("10"))   // copy A: slot 5 = 10
            try books.reset(k, balance: Amount("100"), strategyCount: 3)  // copy B: all zero, count 3
            try books.allocate(k, index: 2, Amount("1"))    // copy A again: only slots 0…2 copied
            if grow == 0 {
                try books.setStrategyCount(k, 8)
            } else {
                _ = try books.applyConfiguration([RecordConfig(key: k, strategyCount: 8)], defaultExchange: nil)
            }
            let r = try books.get(k)
            XCTAssertTrue(r.identityHolds, "\(r.slots)")
            XCTAssertEqual(r.slots.map(\.exactText), ["100", "99", "1", "0", "0", "0", "0", "0"])
        }
    }
}
