import CShmBalanceSys
import Foundation
import Glibc
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The shortcuts that keep allocate/release and the seqlock read fast (issue 6) must not change
/// what they compute: the partial copy of the commit, the TSC clock, the read that clears only
/// what it must.
final class HotPathTests: XCTestCase {
    /// A model of one record, checked against the books after every operation of a long mixed run:
    /// allocate/release copy into the unpublished state only the slot the previous one changed,
    /// so every other writer in between (set, adjust, credit, count, reset) must force a full copy.
    func testPairCommitsStayExactBetweenOtherWriters() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        var count = 9
        var slots = [Int128](repeating: 0, count: 64)
        var credit: Int128 = 0
        let unit = Amount.scale
        try books.reset(k, balance: Amount(raw: 1000 * unit), strategyCount: count)
        slots[0] = 1000 * unit
        slots[1] = 1000 * unit
        guard let rec = books.record(k) else { return XCTFail("no record") }
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        for step in 0..<4000 {
            let index = 2 + next(count - 2)
            let amount = Int128(1 + next(50)) * unit
            switch next(20) {
            case 0..<8:
                let ok = amount <= slots[1] + credit
                do {
                    try books.allocate(rec, index: index, Amount(raw: amount))
                    XCTAssertTrue(ok, "step \(step): allocate should have been refused")
                    slots[1] -= amount
                    slots[index] += amount
                } catch { XCTAssertFalse(ok, "step \(step): \(error)") }
            case 8..<16:
                let ok = amount <= slots[index]
                do {
                    try books.release(rec, index: index, Amount(raw: amount))
                    XCTAssertTrue(ok, "step \(step): release should have been refused")
                    slots[1] += amount
                    slots[index] -= amount
                } catch { XCTAssertFalse(ok, "step \(step): \(error)") }
            case 16:
                try books.adjust(k, Amount(raw: amount), index: 0)
                slots[0] += amount
                slots[1] += amount
            case 17:
                try books.set(k, Amount(raw: amount), index: index)
                slots[1] -= amount - slots[index]
                slots[index] = amount
            case 18:
                credit = Int128(next(100)) * unit
                try books.setCreditLimit(k, Amount(raw: credit))
            default:
                if count < 12 {
                    count += 1
                    try books.setStrategyCount(k, count)
                } else {
                    try books.reset(k, balance: Amount(raw: 500 * unit))
                    slots = [Int128](repeating: 0, count: 64)
                    slots[0] = 500 * unit
                    slots[1] = 500 * unit
                }
            }
            let r = try books.get(k)
            XCTAssertTrue(r.identityHolds, "step \(step)")
            XCTAssertEqual(r.strategyCount, count, "step \(step)")
            XCTAssertEqual(r.state.slots.indices.map { r.state.slots[$0].raw }, slots, "step \(step)")
            if r.state.slots.indices.map({ r.state.slots[$0].raw }) != slots { return }
        }
    }

    /// The small commits' marks (`Layout.slotMark`, `heldMark`, `deltaMark`) and the pair's
    /// (`pairMark`) each vouch for the few words their commit changed: a long run mixing them in
    /// every order (op-id allocate/release and receive: the slot mark; hold and void: the held
    /// mark; fill: the delta mark; plain allocate/release: the pair mark) must keep every budget,
    /// the total and every held sum exact.
    func testSmallCommitsStayExactBetweenEachOther() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        let count = 6
        let unit = Amount.scale
        try books.reset(k, balance: Amount(raw: 1000 * unit), strategyCount: count)
        var slots = [Int128](repeating: 0, count: 64)
        var held = [Int128](repeating: 0, count: 64)
        slots[0] = 1000 * unit
        slots[1] = 1000 * unit
        var open: [(id: HoldId, index: Int, left: Int128)] = []
        guard let rec = books.record(k) else { return XCTFail("no record") }
        var rng: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((rng >> 33) % UInt64(n))
        }
        for step in 0..<3000 {
            let index = 2 + next(count - 2)
            let amount = Int128(1 + next(40)) * unit
            let opId = try HoldId("s\(step)")
            switch next(9) {
            case 0, 1:
                let ok = amount <= slots[1]
                do {
                    if next(2) == 0 { try books.allocate(rec, index: index, Amount(raw: amount), opId: opId) } else { try books.allocate(rec, index: index, Amount(raw: amount)) }
                    XCTAssertTrue(ok, "step \(step): allocate should have been refused")
                    slots[1] -= amount
                    slots[index] += amount
                } catch { XCTAssertFalse(ok, "step \(step): \(error)") }
            case 2, 3:
                let ok = amount <= slots[index] - held[index]
                do {
                    if next(2) == 0 { try books.release(rec, index: index, Amount(raw: amount), opId: opId) } else { try books.release(rec, index: index, Amount(raw: amount)) }
                    XCTAssertTrue(ok, "step \(step): release should have been refused")
                    slots[1] += amount
                    slots[index] -= amount
                } catch { XCTAssertFalse(ok, "step \(step): \(error)") }
            case 4:
                try books.receive(rec, index: index, Amount(raw: amount), opId: next(2) == 0 ? opId : nil)
                slots[0] += amount
                slots[index] += amount
            case 5, 6:
                let ok = amount <= slots[index] - held[index]
                do {
                    try books.hold(rec, index: index, Amount(raw: amount), id: opId)
                    XCTAssertTrue(ok, "step \(step): hold should have been refused")
                    held[index] += amount
                    open.append((opId, index, amount))
                } catch { XCTAssertFalse(ok, "step \(step): \(error)") }
            case 7:
                guard !open.isEmpty else { continue }
                let h = open.remove(at: next(open.count))
                try books.void(rec, id: h.id)
                held[h.index] -= h.left
            default:
                guard !open.isEmpty else { continue }
                let n = next(open.count)
                let h = open[n]
                let spent = min(amount, h.left)
                let final = next(2) == 0 || spent == h.left
                _ = try books.fill(rec, id: h.id, Amount(raw: spent), final: final)
                slots[0] -= spent
                slots[h.index] -= spent
                held[h.index] -= final ? h.left : spent
                if final { open.remove(at: n) } else { open[n].left -= spent }
            }
            let r = try books.get(k)
            XCTAssertTrue(r.identityHolds, "step \(step)")
            XCTAssertEqual(r.state.slots.indices.map { r.state.slots[$0].raw }, slots, "step \(step)")
            let sh = try books.slotHolds(k)
            XCTAssertEqual(sh.map { $0.held.raw }, Array(held[0..<sh.count]), "step \(step)")
            if r.state.slots.indices.map({ r.state.slots[$0].raw }) != slots { return }
        }
    }

    /// A holder that dies after writing part of the unpublished copy (here: slot 4 of it) must not
    /// leak that write into the next allocate, which would otherwise copy only the slot the last
    /// allocate changed: the next owner refreshes the copy in full on EOWNERDEAD.
    func testHalfWrittenCopyOfADeadHolderIsNeverPublished() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000"), strategyCount: 9)
        guard let rec = books.record(k) else { return XCTFail("no record") }
        try books.allocate(rec, index: 2, Amount("10"))
        let before = books.activityHead

        // A thread that takes the lock, writes into the unpublished copy and ends holding it.
        runThreads(1) { _ in
            XCTAssertEqual(pthread_mutex_lock(rec.mutex), 0)
            let g = rec.p.loadRelaxed(Layout.Record.generation)
            rec.state(g &+ 1).storeAmount(Amount("777"), Layout.State.slots + 16 * 4)
            rec.state(g &+ 1).storeAmount(Amount("-777"), Layout.State.slots + 16)
        }

        try books.allocate(rec, index: 3, Amount("5"))
        let r = try books.get(k)
        XCTAssertEqual(r.slots.map(\.description), ["1000.00", "985.00", "10.00", "5.00", "0.00", "0.00", "0.00", "0.00", "0.00"])
        XCTAssertTrue(r.identityHolds)
        XCTAssertTrue(books.activity(after: before).contains { $0.operation == .recoverLock }, "the recovery is logged")
        // And the next allocate/release after the recovery still copies the right slot.
        try books.release(rec, index: 2, Amount("10"))
        XCTAssertEqual(try books.get(k).slots.map(\.description), ["1000.00", "995.00", "0.00", "5.00", "0.00", "0.00", "0.00", "0.00", "0.00"])
    }

    /// `read(into:)` reuses the caller's state: slots past a smaller count must read zero again.
    func testReadIntoAReusedStateClearsSlotsPastTheCount() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("100"), strategyCount: 12)
        guard let rec = books.record(k) else { return XCTFail("no record") }
        try books.allocate(rec, index: 11, Amount("7"))
        var state = RecordState()
        try rec.read(into: &state)
        XCTAssertEqual(state.strategyCount, 12)
        XCTAssertEqual(state.slots[11], Amount("7"))
        try books.release(rec, index: 11, Amount("7"))
        try books.adjust(k, Amount("3"), index: 10)
        try rec.read(into: &state)
        XCTAssertEqual(state.slots[10], Amount("3"))
        try books.adjust(k, Amount("-3"), index: 10)
        try books.setStrategyCount(k, 9)
        try rec.read(into: &state)
        XCTAssertEqual(state.strategyCount, 9)
        XCTAssertEqual((0..<64).filter { state.slots[$0] != .zero }, [0, 1])
        XCTAssertEqual(state, try books.get(k).state)
    }

    /// A waiting hint left set by a waiter that died (or went to sleep) delays the next locker by
    /// at most its short courtesy wait, once: that locker clears it.
    func testStaleWaitingHintIsClearedByTheNextLocker() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("100"), strategyCount: 9)
        guard let rec = books.record(k) else { return XCTFail("no record") }
        let hint = UnsafeMutableRawPointer(rec.mutex)
        hint.storeRelaxed(1, Layout.mutexWaitingHint)
        try books.allocate(rec, index: 2, Amount("1"))
        XCTAssertEqual(hint.loadRelaxed(Layout.mutexWaitingHint), 0)
        try books.release(rec, index: 2, Amount("1"))
        XCTAssertEqual(try books.balance(k, index: 1), Amount("100"))
    }

    /// Two threads allocating and releasing on one record flat out (the contended lock path, its
    /// spin and hand-off): every operation applies exactly once and the identity holds throughout.
    func testContendedAllocateReleaseLosesNothing() throws {
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000000"), strategyCount: 9)
        guard let rec = books.record(k) else { return XCTFail("no record") }
        let failures = Counter()
        runThreads(2) { t in
            let index = 2 + t
            var failed = 0
            for i in 0..<100_000 {
                do {
                    if i % 3 == 2 { try books.release(rec, index: index, Amount("2")) } else { try books.allocate(rec, index: index, Amount("1")) }
                } catch { failed += 1 }
            }
            failures.add(failed)
        }
        XCTAssertEqual(failures.count, 0)
        let r = try books.get(k)
        XCTAssertTrue(r.identityHolds)
        // Per thread: 66,667 allocations of 1 and 33,333 releases of 2 leave 1 in the budget.
        XCTAssertEqual(r.slots[2], Amount("1"))
        XCTAssertEqual(r.slots[3], Amount("1"))
        XCTAssertEqual(r.slots[1], Amount("999998"))
        XCTAssertEqual(r.state.opCount, 200_000 + 1)
    }

    /// The TSC clock agrees with CLOCK_REALTIME: every reading lies between a system-clock reading
    /// taken just before and one just after (within 100 µs: the tolerance only absorbs a reading
    /// the scheduler interrupted; a wrong rate or base is off by milliseconds). And it never runs
    /// backwards by more than its extrapolation error (≤ 20 µs, see sys.c) while the system clock
    /// itself does not: the activity ring's times, and a dashboard's "2 s ago", depend on it.
    func testFastClockAgreesWithTheSystemClock() {
        let end = shmbal_realtime_micros() + 30_000
        var samples = 0
        var previous = Int64.min, previousBefore = Int64.min
        var largestStepBack: Int64 = 0
        while shmbal_realtime_micros() < end {
            let before = shmbal_realtime_micros()
            let t = shmbal_now_micros()
            let after = shmbal_realtime_micros()
            XCTAssertGreaterThanOrEqual(t, before - 100)
            XCTAssertLessThanOrEqual(t, after + 100)
            if t < before - 100 || t > after + 100 { return }
            if before >= previousBefore && previous != Int64.min {
                largestStepBack = max(largestStepBack, previous - t)
                XCTAssertGreaterThanOrEqual(t, previous - 20, "the fast clock went back from \(previous) to \(t) µs (sample \(samples))")
                if t < previous - 20 { return }
            }
            previous = t
            previousBefore = before
            samples += 1
        }
        print("fast clock: \(samples) samples, largest step back \(largestStepBack) µs")
        XCTAssertGreaterThan(samples, 100)
    }
}
