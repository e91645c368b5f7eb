import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// Writers are SIGKILLed at random moments, many of them while holding the record's lock or
/// between writing the new copy and publishing it.
final class CrashTests: XCTestCase {
    func testWritersKilledAtRandomMomentsLoseNothingAndBlockNoOne() throws {
        let kills = 200
        let seg = TempSegment()
        let books = try seg.books()
        let k = key("USDC")
        try books.reset(k, balance: Amount("1000000"), strategyCount: 9)
        guard let rec = books.record(k) else { return XCTFail("no record") }
        var pausedAt: [String: Int] = [:]
        var inFlightApplied = 0, inFlightDropped = 0, acked = 0, recoveredLocks = 0
        var state = RecordState()

        for round in 0..<kills {
            try rec.read(into: &state)
            let before = state
            let log = seg.dir + "/victim\(round).log"
            let victim = try spawnProduct("shmbal-worker", ["ops", seg.path, log, "USDC", "0", "\(round + 1)", "pause"])
            // Let it complete a few operations, then kill it at a random moment.
            waitUntil(30, "victim \(round) to acknowledge an operation") {
                (try? String(contentsOfFile: log, encoding: .utf8))?.contains("\nA ") ?? false
            }
            usleep(UInt32.random(in: 0...3000))
            kill(victim.processIdentifier, SIGKILL)
            victim.waitUntilExit()
            XCTAssertEqual(victim.terminationReason, .uncaughtSignal)

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
                XCTAssertEqual(commits, done.count, "round \(round): commits vs acknowledged operations")
                if inFlight != nil { inFlightDropped += 1 }
            }
            XCTAssertEqual(state.rawSlots, expected, "round \(round): slots equal the acknowledged operations (+ the one in flight if it committed)")
            XCTAssertTrue(state.identityHolds, "round \(round): identity")
            acked += done.count
            if let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last, last.hasPrefix("P ") {
                pausedAt[String(last), default: 0] += 1
            }
        }
        let insideLock = pausedAt.values.reduce(0, +)
        print("crash: \(kills) kills; \(acked) acknowledged ops all present; in flight at the kill: \(inFlightApplied) committed, \(inFlightDropped) not; killed inside a commit \(insideLock) times \(pausedAt.sorted { $0.key < $1.key }); locks recovered from dead holders: \(recoveredLocks)")
        XCTAssertGreaterThan(insideLock, kills / 4, "most kills should land inside a commit (fault points pause there)")
        XCTAssertGreaterThan(recoveredLocks, 0, "some kills must have left the lock held")
    }
}
