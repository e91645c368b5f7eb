import Foundation
import ShmBalanceTestSupport
import XCTest

/// `scripts/hosts-walkthrough` (issue 13) as a newcomer runs it, in a real terminal: a throwaway
/// PostgreSQL, three hosts with agents and simulated strategies, host a's dashboard showing its
/// agent and lease; at the end every host's total is its lease, and nothing it made is left.
/// (It needs what the ledger tests need: Debian's postgresql, and the built shmbal-ledger.)
final class WalkthroughTests: XCTestCase {
    static let repoRoot: String = {
        var p = #filePath
        for _ in 0..<3 { p = String(p[..<p.lastIndex(of: "/")!]) }
        return p
    }()

    func leftovers() -> Set<String> {
        let shm = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
        let tmp = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        return Set(shm.filter { $0.hasPrefix("shmbal-walk-") } + tmp.filter { $0.hasPrefix("shmbal-walk.") })
    }

    func testThreeHostsLeaseFromOneLedgerWithHostAsDashboard() throws {
        let before = leftovers()
        // The built shmbal and shmbal-ledger first on PATH, as the README says.
        let bin = (productPath("shmbal") as NSString).deletingLastPathComponent
        let t = try TmuxSession(command: ["/bin/bash", WalkthroughTests.repoRoot + "/scripts/hosts-walkthrough", "8"], height: 40,
                                env: ["PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        defer { t.close() }
        // Host a's dashboard: its one currency, the agent's line with the lease it holds.
        let screen = t.waitFor("KRAKEN", "USDC", "a-grid", "agent a connected · lease", "the ledger answered", within: 60)
        XCTAssertFalse(screen.contains("FENCED"), screen)
        XCTAssertEqual(t.waitForExit(within: 60), 0, t.history())
        let out = t.history()
        XCTAssertTrue(out.contains("ok: every host's total is its lease, and the ledger's identity holds"), out)
        for h in ["a", "b", "c"] { XCTAssertTrue(out.contains("host \(h): local total"), out) }
        XCTAssertFalse(out.contains("DIFFERENT"), out)
        XCTAssertEqual(leftovers().subtracting(before), [], "the walkthrough removes its segments and its folder")
    }
}
