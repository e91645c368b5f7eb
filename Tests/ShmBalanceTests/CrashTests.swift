import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Writers are SIGKILLed at random moments, many of them while holding the record's lock or
/// between writing the new copy and publishing it.
final class CrashTests: XCTestCase {
    /// The whole test stops at the first round that goes wrong (a victim that never gets going, or
    /// books that disagree with its log), and within an overall bound: a broken build fails it in
    /// seconds, never keeps CI busy for rounds × a per-round wait.
    func testWritersKilledAtRandomMomentsLoseNothingAndBlockNoOne() throws {
        let kills = 200
        let overall = Deadline(seconds: 180)
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000000"), strategyCount: 9)
        let rec = try XCTUnwrap(books.record(k))
        var pausedAt: [String: Int] = [:]
        var inFlightApplied = 0, inFlightDropped = 0, acked = 0, recoveredLocks = 0
        var state = RecordState()
        var rng = SplitMix64(seed: 0xC4A5_0001)

        for round in 0..<kills {
            guard !overall.hasPassed else {
                return XCTFail("the crash test ran past its overall bound after \(round) of \(kills) rounds")
            }
            try rec.read(into: &state)
            let before = state
            let log = seg.file("victim\(round).log")
            let victim = try spawnProduct(Product.worker, ["ops", seg.path, log, "USDC", "0", "\(round + 1)", "pause"],
                                          outputIn: seg.dir, name: "victim\(round)")
            // Let it complete a few operations, then kill it at a random moment. A victim that
            // ends by itself or never acknowledges anything fails the test at once.
            let started = poll(within: 20) {
                (readTextFile(log)?.contains("\nA ") ?? false) || !victim.isRunning
            }
            if let end = victim.termination {
                return XCTFail("round \(round): the victim ended by itself (\(end)) before it was killed: \(victim.errorOutput)")
            }
            guard started else {
                victim.kill()
                return XCTFail("round \(round): the victim acknowledged no operation within 20 s; log: \(readTextFile(log)?.suffix(300) ?? "none")")
            }
            usleep(UInt32(rng.below(3000)))
            let end = victim.kill()
            XCTAssertEqual(end, .signalled(SIGKILL), "round \(round)")

            // A new process (this one) gets the lock at once: a lock left by the dead holder is
            // recovered, not waited for (a wait would end in "record busy" after the timeout).
            let headBefore = books.activityHead
            try books.allocate(rec, index: 8, Amount("1"))
            try books.release(rec, index: 8, Amount("1"))
            recoveredLocks += books.activity(after: headBefore).filter { $0.operation == .recoverLock }.count

            // Exactly the acknowledged operations, plus at most the one in flight, are in the books.
            let ops = try readWorkerLog(log)
            let done = ops.filter { $0.applied == true }
            let inFlight = ops.last.flatMap { $0.applied == nil ? $0 : nil }
            try rec.read(into: &state)
            let commits = Int(state.opCount - before.opCount) - 2  // minus our probe pair
            var expected = before.rawSlots
            for op in done { op.apply(to: &expected) }
            if commits == done.count + 1, let op = inFlight {
                op.apply(to: &expected)
                inFlightApplied += 1
            } else {
                guard commits == done.count else {
                    return XCTFail("round \(round): \(commits) commits for \(done.count) acknowledged operations (in flight: \(inFlight.map { "\($0.op)" } ?? "none"))")
                }
                if inFlight != nil { inFlightDropped += 1 }
            }
            guard state.rawSlots == expected, state.identityHolds else {
                return XCTFail("round \(round): slots \(state.rawSlots), the acknowledged operations (+ the one in flight if it committed) say \(expected); identity \(state.identityHolds)")
            }
            acked += done.count
            if let last = readTextFile(log)?.split(separator: "\n").last, last.hasPrefix("P ") {
                pausedAt[String(last), default: 0] += 1
            }
            unlink(log)
        }
        let insideLock = pausedAt.values.reduce(0, +)
        print("crash: \(kills) kills; \(acked) acknowledged ops all present; in flight at the kill: \(inFlightApplied) committed, \(inFlightDropped) not; killed inside a commit \(insideLock) times \(pausedAt.sorted { $0.key < $1.key }); locks recovered from dead holders: \(recoveredLocks)")
        XCTAssertGreaterThan(insideLock, kills / 4, "most kills should land inside a commit (fault points pause there)")
        XCTAssertGreaterThan(recoveredLocks, 0, "some kills must have left the lock held")
    }
}
