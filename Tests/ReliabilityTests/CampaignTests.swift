import Foundation
import ShmBalanceTestSupport
import XCTest

/// SPEC §4 under fire: the fault-injection campaign (Tests/Campaign) with its CI bound. Writers
/// are SIGKILLed at random moments and parked at every fault point inside a commit; every
/// acknowledged operation must be in the books, every cut-off one applied wholly or not at all,
/// every copy the reader takes must be exact; a side writer is killed inside quote writes, name
/// writes, config applies and restores, and every such value the reader sees must be whole. `swift run shmbal-campaign --long` runs 20,000 kills.
final class CampaignTests: XCTestCase {
    func testCampaignLosesNothingAcrossTwoThousandKills() throws {
        let r = try runProcess(productPath("shmbal-campaign"), ["--kills", "2000", "--max-seconds", "300"], timeout: 420)
        print(r.out)
        if !r.err.isEmpty { print(r.err) }
        XCTAssertFalse(r.signalled, "the campaign itself crashed or hung")
        XCTAssertEqual(r.status, 0, "campaign failed:\n\(r.out)\n\(r.err)")
        let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("CAMPAIGN ") }, "no summary line")
        var figures: [String: Double] = [:]
        for field in line.split(separator: " ").dropFirst() {
            let kv = field.split(separator: "=")
            if kv.count == 2, let v = Double(kv[1]) { figures[String(kv[0])] = v }
        }
        XCTAssertEqual(figures["violations"], 0)
        XCTAssertGreaterThanOrEqual(figures["kills"] ?? 0, 2000)
        // Kills must really land inside commits, not only between operations.
        XCTAssertGreaterThanOrEqual(figures["parked"] ?? 0, 600)
        XCTAssertGreaterThan(figures["snapshots"] ?? 0, 10_000)
        XCTAssertGreaterThan(figures["applied"] ?? 0, 10_000)
        XCTAssertGreaterThan(figures["refused"] ?? 0, 0)
        // And inside the other publishes: quotes, names, config applies, restores (the side writer).
        XCTAssertGreaterThanOrEqual(figures["sideParked"] ?? 0, 100)
        XCTAssertGreaterThan(figures["sideAcked"] ?? 0, 1_000)
        XCTAssertGreaterThan(figures["sideChecks"] ?? 0, 100)
    }

    /// SPEC §9 under fire (`shmbal-campaign holds`): writers placing, filling (partial and final,
    /// with fees, overrunning) and voiding holds, receiving, allocating and releasing, every call
    /// with an op id, SIGKILLed at random and parked inside their commits; each restarted writer
    /// retries its cut-off call with the same op id, and every such call must come out decided
    /// exactly once: at the kill the books show it wholly applied or wholly absent, the retry's
    /// answer agrees (a replay when it was applied), and at the end the books are exactly the fold
    /// of the acknowledged effects (per slot budget, held and open holds; the total, the pool; one
    /// op count per applied call). Writers also send acknowledged calls again with their op id (the
    /// first answer must come back, nothing applied) and op ids with other arguments (opIdReused).
    /// The reader checks the identity, 0 ≤ held ≤ budget and each listing against its copy's sums.
    /// Bounded for CI (800 kills, ~12–16 s); `swift run shmbal-campaign holds --long` runs 5,000 kills.
    func testHoldsCampaignDecidesEveryRetriedOperationExactlyOnce() throws {
        let r = try runProcess(productPath("shmbal-campaign"), ["holds", "--kills", "800", "--max-seconds", "90", "--seed", "12"], timeout: 150)
        print(r.out)
        if !r.err.isEmpty { print(r.err) }
        XCTAssertFalse(r.signalled, "the holds campaign itself crashed or hung")
        XCTAssertEqual(r.status, 0, "holds campaign failed:\n\(r.out)\n\(r.err)")
        let line = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("HOLDS ") }, "no summary line")
        var figures: [String: Double] = [:]
        for field in line.split(separator: " ").dropFirst() {
            let kv = field.split(separator: "=")
            if kv.count == 2, let v = Double(kv[1]) { figures[String(kv[0])] = v }
        }
        XCTAssertEqual(figures["violations"], 0)
        XCTAssertGreaterThanOrEqual(figures["kills"] ?? 0, 800)
        XCTAssertGreaterThanOrEqual(figures["parked"] ?? 0, 300, "kills must land inside commits")
        // Cut-off calls retried with their op id, and each decided once (some replayed, some applied by the retry).
        XCTAssertGreaterThanOrEqual(figures["cut"] ?? 0, 200)
        XCTAssertEqual(figures["decided"], figures["cut"], "every cut-off call decided exactly once")
        XCTAssertGreaterThan(figures["replayed"] ?? 0, 0)
        XCTAssertGreaterThan(figures["retryApplied"] ?? 0, 0)
        XCTAssertGreaterThan(figures["copies"] ?? 0, 5_000)
        XCTAssertGreaterThan(figures["listings"] ?? 0, 5_000)
        // Acknowledged calls sent again with their op id (the first answer, nothing applied) and ids with other arguments.
        for k in ["holds", "fills", "voids", "receives", "overruns", "resent", "reused"] { XCTAssertGreaterThan(figures[k] ?? 0, 0, "no \(k)") }
    }

    /// The holds campaign's self-test: writers that retry a cut-off call under a new op id (what a
    /// caller without op ids would do) apply some calls twice, and the campaign must say so.
    func testHoldsCampaignCatchesARetryUnderANewOpId() throws {
        let r = try runProcess(productPath("shmbal-campaign"), ["holds", "--kills", "80", "--max-seconds", "60", "--seed", "12", "--sabotage-retry"], timeout: 120)
        XCTAssertFalse(r.signalled, "the holds campaign itself crashed or hung")
        XCTAssertEqual(r.status, 1, "the sabotaged campaign must fail:\n\(r.out)")
        XCTAssertTrue(r.err.contains("VIOLATION"), r.err)
        XCTAssertTrue(r.out.contains("RESULT: FAILED"), r.out)
    }
}
