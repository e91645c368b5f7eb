import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §9 as a property: random sequences of every operation — hold (with and without a ttl; a
/// 1 µs ttl has passed by the record's next writer, which voids it), fill (partial, final, with
/// fees, overrunning into free and then the pool), void, receive, and the §3 operations, each with
/// and without an op id, with replays of earlier ids (the same call again, and the same id with
/// other arguments) — give the same books, the same held sums and counts, the same listing of open
/// holds, the same outcomes (a fill's split included) and the same refusal codes as the reference
/// model (ReferenceModel.swift), after every step; and 0 ≤ held ≤ budget and the identity always.
///
/// The tables are the smallest a segment allows (`Layout.minHolds` holds, a window of
/// `Layout.minOpIdWindow` op ids), so a full hold table and ids the window has forgotten come up.
/// SHMBAL_HOLDS_PROPERTY_SEED runs one seed; SHMBAL_HOLDS_PROPERTY_RUNS sets sequences per seed.
final class HoldsPropertyTests: XCTestCase {
    static let keys = [key("USDC"), key("BTC")]
    static let holdIds = (0..<26).map { "h\($0)" }
    static let opIds = (0..<40).map { "o\($0)" }
    static let scale: Int128 = 1_000_000_000_000_000_000
    static let ttl: Int64 = 3_600_000_000  // an hour: never passes inside a test, but is an argument a replay compares

    static let seeds: [UInt64] = (1...8).map { 0x401D_5EED &+ UInt64($0) &* 0x9E37_79B9 }

    static func units(_ g: inout SplitMix64, _ upTo: Int = 5_000) -> Int128 {
        switch Int.random(in: 0..<40, using: &g) {
        case 8: return ReferenceModel.limit - Int128(Int.random(in: 0...1, using: &g))
        case 9: return ReferenceModel.limit + 1
        case 0: return Int128(Int.random(in: 1...1_000, using: &g))  // a few raw units
        case 1...4: return Int128(Int.random(in: 1...999, using: &g)) * scale / 1_000
        default: return Int128(Int.random(in: 1...upTo, using: &g)) * scale
        }
    }

    /// An amount at one of the record's edges for slot `i` (free, budget, held, pool, a hold's
    /// remaining), one raw unit either side, or an ordinary figure; now and then ≤ 0.
    static func edge(_ g: inout SplitMix64, _ r: ModelRecord?, _ i: Int) -> Int128 {
        let roll = Int.random(in: 0..<10, using: &g)
        if roll == 0 { return [0, -1, -units(&g)].randomElement(using: &g)! }
        guard let r, roll < 6 else { return units(&g) }
        // Holds by sorted id: a dictionary's order differs from process to process, the seeds must not.
        let slot = i >= 0 && i < 64 ? r.slots[i] : 0
        let held = i >= 0 && i < 64 ? r.held(i) : 0
        let base = [slot - held, slot, held, r.slots[1], r.slots[1] + r.credit, r.holds.keys.sorted().randomElement(using: &g).map { r.holds[$0]!.amount } ?? 1]
            .randomElement(using: &g)!
        return base + Int128(Int.random(in: -1...1, using: &g))
    }

    /// 64 and above too: they found a core bug (`OperationIdBugTests`), fixed since.
    static func index(_ g: inout SplitMix64, _ r: ModelRecord?) -> Int {
        switch Int.random(in: 0..<12, using: &g) {
        case 0: return [-1, 0, 1, 64, 100].randomElement(using: &g)!
        case 1: return r.map { $0.count } ?? 8  // one past the last slot
        default: return Int.random(in: 2..<max(3, (r?.count ?? 6)), using: &g)
        }
    }

    static func opId(_ g: inout SplitMix64) -> String {
        // Mostly the op ids' own names; sometimes a hold's id (a fill or an allocate under a hold's id: reused).
        Int.random(in: 0..<10, using: &g) == 0 ? holdIds.randomElement(using: &g)! : opIds.randomElement(using: &g)!
    }

    /// The id of an open hold most of the time, else any hold id (closed, never opened, or open elsewhere).
    static func holdRef(_ g: inout SplitMix64, _ r: ModelRecord?) -> String {
        if let r, !r.holds.isEmpty, Int.random(in: 0..<5, using: &g) != 0 { return r.holds.keys.sorted().randomElement(using: &g)! }
        return holdIds.randomElement(using: &g)!
    }

    /// One fresh operation, drawn knowing the model's state so that edges come up often.
    ///
    /// `heavy`: mostly small holds, few fills and voids, so that the table fills up.
    static func fresh(_ g: inout SplitMix64, _ model: ReferenceModel, heavy: Bool = false) -> ModelOp {
        let k = keys.randomElement(using: &g)!
        let r = model.records[k]
        let i = index(&g, r)
        let withId = Bool.random(using: &g)
        func maybe(_ op: ModelOp) -> ModelOp { withId ? .withOpId(opId(&g), op) : op }
        if heavy && Int.random(in: 0..<100, using: &g) < 55 {
            let id = holdIds.filter { r?.holds[$0] == nil }.randomElement(using: &g) ?? holdIds[0]
            return .hold(k, Int.random(in: 2..<max(3, r?.count ?? 6), using: &g), units(&g, 40), id, nil)
        }
        switch Int.random(in: 0..<100, using: &g) {
        case 0..<24:
            // Free ids mostly (new holds), an open one sometimes (asked again, or with other arguments).
            let id: String
            if let r, !r.holds.isEmpty, Int.random(in: 0..<4, using: &g) == 0 {
                id = r.holds.keys.sorted().randomElement(using: &g)!
                let h = r.holds[id]!
                if Bool.random(using: &g) { return .hold(k, h.slot, h.original, id, h.ttl) }
            } else {
                id = holdIds.filter { r?.holds[$0] == nil }.randomElement(using: &g) ?? holdIds[0]
            }
            let amount = Int.random(in: 0..<3, using: &g) == 0 ? edge(&g, r, i) : units(&g, 400)
            // A ttl now and then: an hour (never passes), or 1 µs (passed by the record's next writer: expiry).
            let t: Int64? = [nil, nil, nil, nil, nil, nil, ttl, ttl, ReferenceModel.passedTtl].randomElement(using: &g)!
            return .hold(k, i, amount, id, t)
        case 24..<42:
            let id = holdRef(&g, r)
            let remaining = r?.holds[id]?.amount ?? units(&g)
            let amount: Int128
            switch Int.random(in: 0..<6, using: &g) {
            case 0: amount = remaining  // exactly what it holds
            case 1: amount = remaining + edge(&g, r, r?.holds[id]?.slot ?? 2)  // an overrun: from free, then the pool
            case 2: amount = Int.random(in: 0..<12, using: &g) == 0 ? -1 : 0
            default: amount = remaining > 1 ? Int128.random(in: 1...remaining, using: &g) : units(&g, 50)
            }
            let fee: Int128 = Int.random(in: 0..<3, using: &g) == 0 ? 0 : (Int.random(in: 0..<15, using: &g) == 0 ? -1 : units(&g, 20) / 10)
            return .fill(k, id, amount, fee, Int.random(in: 0..<3, using: &g) == 0, withId ? opId(&g) : nil)
        case 42..<49: return .void(k, holdRef(&g, r), withId ? opId(&g) : nil)
        case 49..<55: return .receive(k, i, edge(&g, r, i), withId ? opId(&g) : nil)
        case 55..<68: return maybe(.allocate(k, i, Int.random(in: 0..<3, using: &g) == 0 ? edge(&g, r, i) : units(&g, 3_000)))
        case 68..<77: return maybe(.release(k, i, edge(&g, r, i)))
        case 77..<81: return maybe(.set(k, edge(&g, r, i), i))
        case 81..<85: return maybe(.adjust(k, edge(&g, r, i) * (Bool.random(using: &g) ? 1 : -1), i))
        case 85..<88:
            let count: Int? = Bool.random(using: &g) ? nil : [2, 3, 4, 6, 8].randomElement(using: &g)!
            return maybe(.reset(k, units(&g, 100_000) * 10, count))
        case 88..<89: return maybe(.resetDropping(k, units(&g, 100_000) * 10, Bool.random(using: &g) ? nil : 6))
        case 89..<92: return maybe(.reconcile(k, (r?.slots[0] ?? 0) + [0, units(&g), -units(&g), -(r?.slots[0] ?? 0)].randomElement(using: &g)!))
        case 92..<94: return maybe(.credit(k, Bool.random(using: &g) ? units(&g) : 0))
        case 94..<97: return maybe(.count(k, [3, 4, 5, 6, 8].randomElement(using: &g)!))
        case 97..<99: return maybe(.name(k, i, ["grid", "", "arb"].randomElement(using: &g)!))
        default: return .balance(k, i)
        }
    }

    /// The id an operation carries (a hold's id is its op id), or nil.
    static func carriedId(_ op: ModelOp) -> String? {
        switch op {
        case .withOpId(let id, _): return id
        case .hold(_, _, _, let id, _): return id
        case .fill(_, _, _, _, _, let id), .void(_, _, let id), .receive(_, _, _, let id): return id
        default: return nil
        }
    }

    /// A fresh operation (its arguments drawn anew) carrying `id`: the same id with other arguments.
    static func withId(_ id: String, _ g: inout SplitMix64, _ model: ReferenceModel) -> ModelOp {
        switch fresh(&g, model) {
        case .hold(let k, let i, let v, _, let t): return .hold(k, i, v, id, t)
        case .fill(let k, let h, let v, let f, let fin, _): return .fill(k, h, v, f, fin, id)
        case .void(let k, let h, _): return .void(k, h, id)
        case .receive(let k, let i, let v, _): return .receive(k, i, v, id)
        case .withOpId(_, let op): return .withOpId(id, op)
        case .balance(let k, let i): return .withOpId(id, .allocate(k, i, 1))
        case let op: return .withOpId(id, op)
        }
    }

    /// A sequence: both records set up, then fresh operations, replays of earlier calls (exactly)
    /// and reuses of earlier ids (other arguments).
    static func sequence(_ g: inout SplitMix64, length: Int, heavy: Bool) -> [ModelOp] {
        var model = ReferenceModel()
        model.holdCapacity = Layout.minHolds
        model.opIdWindow = Layout.minOpIdWindow
        var ops: [ModelOp] = []
        for k in keys {
            ops.append(.reset(k, 1_000_000 * scale, 6))
            for i in 2..<6 { ops.append(.allocate(k, i, Int128(Int.random(in: 500...3_000, using: &g)) * scale)) }
        }
        for op in ops { _ = model.apply(op) }
        while ops.count < length {
            let earlier = ops.filter { carriedId($0) != nil }
            let op: ModelOp
            // From the recent calls (mostly remembered) or from any (often forgotten by the window).
            let pool = Bool.random(using: &g) ? Array(earlier.suffix(20)) : earlier
            switch Int.random(in: 0..<100, using: &g) {
            case 0..<10 where !pool.isEmpty: op = pool.randomElement(using: &g)!  // the same call again
            case 10..<15 where !pool.isEmpty: op = withId(carriedId(pool.randomElement(using: &g)!)!, &g, model)
            default: op = fresh(&g, model, heavy: heavy)
            }
            ops.append(op)
            _ = model.apply(op)
        }
        return ops
    }

    /// Runs `ops` against fresh real books with the smallest tables; the first difference, if any.
    static func firstDifference(_ ops: [ModelOp], dir: TempDir, run: Int, stats: inout ReferenceModel.ModelStats) throws -> String? {
        let path = dir.file("holds\(run)")
        defer { unlink(path) }
        let books = try Books.open(path, .readWriteCreating(geometry: Geometry(recordCapacity: 4, quoteCapacity: 1, ringCapacity: 16,
                                                                                holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)))
        var model = ReferenceModel()
        model.holdCapacity = Layout.minHolds
        model.opIdWindow = Layout.minOpIdWindow
        let trace = ProcessInfo.processInfo.environment["SHMBAL_PROPERTY_TRACE"] != nil
        defer { stats = model.stats }
        for (n, op) in ops.enumerated() {
            if trace { FileHandle.standardError.write(Data("step \(n): \(op)\n".utf8)) }
            let expected = model.apply(op)
            let got = PropertyTests.perform(op, books)
            if got != expected { return "step \(n) \(op): books \(got), model \(expected)" }
            if let d = PropertyTests.compare(books, model, only: op.key) { return "after step \(n) \(op): \(d)" }
        }
        if let d = PropertyTests.compare(books, model) { return "at the end: \(d)" }
        return nil
    }

    func testHoldsAndOperationIdsMatchTheReferenceModel() throws {
        let env = ProcessInfo.processInfo.environment
        let seeds = env["SHMBAL_HOLDS_PROPERTY_SEED"].flatMap(UInt64.init).map { [$0] } ?? Self.seeds
        let runsPerSeed = env["SHMBAL_HOLDS_PROPERTY_RUNS"].flatMap(Int.init) ?? 5
        let dir = TempDir()
        var failures = 0, steps = 0
        var outcomes: [String: Int] = [:]
        var total = ReferenceModel.ModelStats()
        var reaching: [String] = []
        for seed in seeds {
            var g = SplitMix64(seed: seed)
            var seedStats = ReferenceModel.ModelStats()
            for run in 0..<runsPerSeed {
                // Every third sequence hold-heavy (the table fills up); lengths well past the window.
                let ops = Self.sequence(&g, length: Int.random(in: 60...160, using: &g), heavy: run % 3 == 1)
                var model = ReferenceModel()
                model.holdCapacity = Layout.minHolds
                model.opIdWindow = Layout.minOpIdWindow
                for op in ops {
                    switch model.apply(op) {
                    case .refused(let c): outcomes["\(c)", default: 0] += 1
                    case .applied: outcomes["applied", default: 0] += 1
                    }
                }
                steps += ops.count
                var stats = ReferenceModel.ModelStats()
                if let difference = try Self.firstDifference(ops, dir: dir, run: run, stats: &stats) {
                    var ignored = ReferenceModel.ModelStats()
                    let minimal = try PropertyTests.shrink(ops) { try Self.firstDifference($0, dir: dir, run: -2, stats: &ignored) != nil }
                    XCTFail("""
                        holds: books and model differ (seed \(seed), sequence \(run); rerun with SHMBAL_HOLDS_PROPERTY_SEED=\(seed)): \(difference)
                        minimal failing sequence (\(minimal.count) operations):
                        \(minimal.map { "  \($0)" }.joined(separator: "\n"))
                        first difference there: \(try Self.firstDifference(minimal, dir: dir, run: -1, stats: &ignored) ?? "?")
                        """)
                    failures += 1
                    break
                }
                seedStats.add(stats)
            }
            total.add(seedStats)
            reaching.append("0x\(String(seed, radix: 16, uppercase: true)): table full \(seedStats.tableFull), forgotten ids \(seedStats.forgotten)")
            if failures >= 3 { return }
        }
        let t = total
        print("""
            holds property: \(seeds.count) seeds × \(runsPerSeed) sequences, \(steps) operations, books identical to the model after each
              outcomes: \(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
              replays \(t.replays) (\(t.replayedRefusals) of refusals), ids reused with other arguments \(t.reuses), ids the window had forgotten \(t.forgotten), hold table full \(t.tableFull), open hold asked again \(t.openHoldReplays), hold id in use \(t.holdIdInUse), fills overrunning into free \(t.overrunFromFree) / into the pool \(t.overrunFromPool), holds expired \(t.expired)
              by seed: \(reaching.joined(separator: "; "))
            """)
        guard env["SHMBAL_HOLDS_PROPERTY_SEED"] == nil else { return }
        // Every path this property is there for must have been taken.
        XCTAssertGreaterThan(t.replays, 50)
        XCTAssertGreaterThan(t.replayedRefusals, 5)
        XCTAssertGreaterThan(t.reuses, 20)
        XCTAssertGreaterThan(t.forgotten, 5, "ids must outlive the window")
        XCTAssertGreaterThan(t.tableFull, 0, "the hold table must fill up")
        XCTAssertGreaterThan(t.openHoldReplays, 0)
        XCTAssertGreaterThan(t.holdIdInUse, 0)
        XCTAssertGreaterThan(t.overrunFromFree, 5)
        XCTAssertGreaterThan(t.overrunFromPool, 0)
        XCTAssertGreaterThan(t.expired, 10, "holds must expire")
        for code: RefusalCode in [.exceedsFree, .belowHeld, .unknownHold, .negativeFill, .opIdReused, .notASubStrategy] {
            XCTAssertGreaterThan(outcomes["\(code)"] ?? 0, 0, "no \(code) refusal was drawn")
        }
    }
}

extension ReferenceModel.ModelStats {
    mutating func add(_ o: Self) {
        replays += o.replays; replayedRefusals += o.replayedRefusals; reuses += o.reuses; forgotten += o.forgotten
        tableFull += o.tableFull; overrunFromFree += o.overrunFromFree; overrunFromPool += o.overrunFromPool
        openHoldReplays += o.openHoldReplays; holdIdInUse += o.holdIdInUse; expired += o.expired
    }
}

/// A CORE BUG, FIXED (found by HoldsPropertyTests, seed 0x3F56A3943, sequence 5, before its index generator left 64 out):
/// a call carrying an op id whose index is 64 or above is refused (notASubStrategy /
/// indexOutOfRange) and remembered, but the same call again is refused `opIdReused` instead of
/// getting the same refusal back (SPEC §9: "returns the first call's result (an applied result or
/// the same refusal)"). `OpLog.record` stores such an index as 0xFF while `OpLog.matches` compares
/// it with `index & 0xFF` (64 → 64), so the stored call never matches itself. Index −1 works
/// (−1 & 0xFF = 0xFF). Fixed: the index is in the call's digest and compared as stored (`OpLog.storedIndex`).
final class OperationIdBugTests: XCTestCase {
    func testAReplayOfARefusalWithAnIndexAbove63IsTheSameRefusal() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 6)
        func code(_ body: () throws(BooksError) -> Void) -> RefusalCode? {
            do throws(BooksError) { try body(); return nil } catch {
                if case .refused(let r) = error { return r.code }
                return nil
            }
        }
        for index in [64, 65, 100] {
            let calls: [(String, RefusalCode, () throws(BooksError) -> Void)] = [
                ("allocate", .notASubStrategy, { () throws(BooksError) in try books.allocate(k, index: index, Amount("1"), opId: try OperationId("a\(index)")) }),
                ("release", .notASubStrategy, { () throws(BooksError) in try books.release(k, index: index, Amount("1"), opId: try OperationId("r\(index)")) }),
                ("receive", .notASubStrategy, { () throws(BooksError) in try books.receive(k, index: index, Amount("1"), opId: try OperationId("v\(index)")) }),
                ("hold", .notASubStrategy, { () throws(BooksError) in try books.hold(k, index: index, Amount("1"), id: try HoldId("h\(index)")) }),
                ("set", .indexOutOfRange, { () throws(BooksError) in try books.set(k, Amount("1"), index: index, opId: try OperationId("s\(index)")) }),
            ]
            for (name, expected, call) in calls {
                XCTAssertEqual(code(call), expected, "\(name) #\(index): the first call")
                XCTAssertEqual(code(call), expected, "\(name) #\(index): the same call with the same op id must get the same refusal back")
            }
        }
        let r = try books.get(k)
        XCTAssertEqual(r.slots.map(\.exactText), ["1000", "1000", "0", "0", "0", "0"], "nothing applied")
    }
}

/// A CORE BUG, FIXED (found by probing the model's reset rule at the edges): a reset that keeps holds sets
/// pool = balance − Σ held without checking that the pool is storable. A reset to the lowest
/// storable balance with 400 held publishes a pool of −10^18 − 400: the identity holds in Int128,
/// but the record now reads as damaged (`problems`: "slot #1 holds -more than the largest storable
/// amount"), and a reconcile to the same figure is "in sync" and leaves it so. Every other rule
/// refuses an unstorable result with `overflow`, nothing changed. Fixed: `Books.applyReset` refuses it.
final class ResetBugTests: XCTestCase {
    func testAResetKeepingHoldsRefusesAPoolBeyondTheStorableRange() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)
        try books.allocate(k, index: 2, Amount("500"))
        try books.hold(k, index: 2, Amount("400"), id: try HoldId("a"))
        let before = try books.get(k)
        let lowest = Amount(raw: -ReferenceModel.limit)
        var code: RefusalCode?
        do throws(BooksError) { try books.reset(k, balance: lowest) } catch {
            if case .refused(let r) = error { code = r.code }
        }
        let after = try books.get(k)
        XCTAssertTrue(after.state.pool.isStorable, "the pool after the reset: \(after.state.pool.exactText)")
        XCTAssertEqual(after.problems, [], "a reset must not leave the record damaged")
        XCTAssertEqual(code, .overflow, "an unstorable pool is refused, as every other rule refuses an unstorable result")
        if code != nil { XCTAssertEqual(after.slots, before.slots, "a refusal changes nothing") }
    }
    /// The same through reconcile: at the lowest storable figure its repair would leave an
    /// unstorable pool, so it resets, keeping the holds, with the same unchecked pool.
    func testAReconcileResetKeepingHoldsRefusesAPoolBeyondTheStorableRange() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 4)
        try books.allocate(k, index: 2, Amount("500"))
        try books.hold(k, index: 2, Amount("400"), id: try HoldId("a"))
        _ = try? books.reconcile(k, exchangeBalance: Amount(raw: -ReferenceModel.limit))
        let after = try books.get(k)
        XCTAssertTrue(after.state.pool.isStorable, "the pool after the reconcile: \(after.state.pool.exactText)")
        XCTAssertEqual(after.problems, [], "a reconcile must not leave the record damaged")
    }
}

/// CORE BUG (found probing the model's count rules): a hold filled down to 0 (not final) stays
/// open, but its slot's budget and held can both be 0, so `setStrategyCount` (which looks at the
/// budgets only) and `reset(strategyCount:)` (which looks at held only) shrink the count over it.
/// The open hold is then orphaned beyond the count: `get` shows no hold and no problem, and a fill
/// of it is refused `overflow` ("fill 1.00 would take a slot beyond the largest storable amount"),
/// which SPEC §9 does not allow (a fill is refused only for an unknown or closed id or a negative
/// figure). docs/holds.md: reset "refuses a count that would drop a slot with holds". Expected
/// here: both shrinks refused `shrinkOverNonZero` while a hold is open on the slot. Fixed: `applyCount` and reset look at the hold counts.
final class OrphanHoldBugTests: XCTestCase {
    func testTheCountNeverShrinksOverAnOpenHoldOfZero() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating(geometry: Geometry(recordCapacity: 2, quoteCapacity: 1, ringCapacity: 16)))
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 6)
        try books.allocate(k, index: 5, Amount("100"))
        let id = try HoldId("a")
        try books.hold(k, index: 5, Amount("100"), id: id)
        XCTAssertEqual(try books.fill(k, id: id, Amount("100")).closed, false)  // open, covering 0; budget 0, held 0
        XCTAssertEqual(try books.holds(k).map(\.id), [id])
        func code(_ body: () throws(BooksError) -> Void) -> RefusalCode? {
            do throws(BooksError) { try body(); return nil } catch {
                if case .refused(let r) = error { return r.code }
                return nil
            }
        }
        XCTAssertEqual(code { () throws(BooksError) in try books.setStrategyCount(k, 5) }, .shrinkOverNonZero, "setStrategyCount over a slot with an open hold")
        XCTAssertEqual(code { () throws(BooksError) in try books.reset(k, balance: Amount("1000"), strategyCount: 3) }, .shrinkOverNonZero, "reset to a count that drops a slot with an open hold")
        // Whatever the count, the open hold must stay fillable (§9: never refused for anything but its id or a negative figure).
        XCTAssertNil(code { () throws(BooksError) in _ = try books.fill(k, id: id, Amount("1"), final: true) }, "a fill of an open hold")
    }
}
