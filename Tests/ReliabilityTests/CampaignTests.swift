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
}
