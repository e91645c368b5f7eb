import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: a lock held by a stopped process (SIGSTOP, a debugger) is waited for a bounded time,
/// then the operation fails with "record busy" (exit 5) and changes nothing; readers never wait.
/// A neighbour writing as fast as it can cannot make anyone hang either.
final class NeighbourTests: XCTestCase {
    let exchange = ["--exchange", "KRAKEN"]

    func total(_ segment: String) throws -> String {
        let g = try runShmbal(["balance", "USDC", "--segment", segment] + exchange)
        XCTAssertEqual(g.status, 0, g.err)
        return g.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Parks a process inside a commit at each fault point, stops it, and checks that writers get
    /// "record busy" within the bound while readers go on; then kills it and checks that its
    /// operation is in the books exactly when it was published.
    func testStoppedLockHolderGivesRecordBusyAndReadersGoOn() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "1000", "--strategies", "4", "--segment", seg] + exchange).status, 0)
        XCTAssertEqual(try runShmbal(["reset", "USD", "5000", "--segment", seg] + exchange).status, 0)
        var expected = 1000, usd = 5000
        for point in 1...3 {
            let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", "USDC", "--point", String(point), "--seconds", "60"], outputIn: dir.path, name: "park\(point)")
            XCTAssertTrue(park.waitForOutput("parked"), "the neighbour never reached fault point \(point): \(park.output)")
            XCTAssertEqual(kill(park.pid, SIGSTOP), 0)

            // A writer waits the bound, then fails clearly and changes nothing.
            let busy = try runShmbal(["adjust", "USDC", "5", "--segment", seg] + exchange, env: ["SHMBAL_LOCK_TIMEOUT_MS": "300"], timeout: 30)
            XCTAssertFalse(busy.signalled, "adjust hung on a stopped lock holder")
            XCTAssertEqual(busy.status, 5, busy.err)
            XCTAssertTrue(busy.err.contains("record busy"), busy.err)
            XCTAssertTrue(busy.err.contains("within 300 ms"), busy.err)
            XCTAssertTrue(busy.err.contains("stopped or in a debugger"), busy.err)
            XCTAssertEqual(busy.err.split(separator: "\n").count, 1, "one line: \(busy.err)")
            XCTAssertGreaterThanOrEqual(busy.seconds, 0.3, "it must have waited the bound before giving up")
            let alloc = try runShmbal(["allocate", "USDC", "2", "1", "--segment", seg] + exchange, env: ["SHMBAL_LOCK_TIMEOUT_MS": "200"], timeout: 30)
            XCTAssertEqual(alloc.status, 5, alloc.err)

            // Readers never take the lock: get, balance, list, check and log all answer.
            let published = point == 3
            XCTAssertEqual(try total(seg), String(expected + (published ? 1 : 0)) + ".00")
            let get = try runShmbal(["get", "USDC", "--json", "--segment", seg] + exchange)
            XCTAssertEqual(get.status, 0, get.err)
            XCTAssertTrue(get.out.contains("\"identityHolds\":true"), get.out)
            for args in [["list"], ["check"], ["log", "--limit", "5"]] {
                let r = try runShmbal(args + ["--segment", seg] + exchange, timeout: 30)
                XCTAssertEqual(r.status, 0, "\(args): \(r.err)")
            }

            // The dashboard keeps drawing (read-only, as a viewer runs it): a change to another
            // record shows up in its next frame.
            XCTAssertEqual(try runShmbal(["adjust", "USD", "1", "--segment", seg] + exchange).status, 0)
            usd += 1
            let frame = try runShmbal(["top", "--once", "--read-only", "--width", "100", "--height", "30", "--segment", seg] + exchange, timeout: 30)
            XCTAssertEqual(frame.status, 0, frame.err)
            XCTAssertTrue(frame.out.contains("USDC") && frame.out.contains("5,00\(usd - 5000).00"), frame.out)

            // The stopped holder dies: the next writer recovers the lock at once.
            park.kill()
            if published { expected += 1 }
            let after = try runShmbal(["adjust", "USDC", "5", "--segment", seg] + exchange, env: ["SHMBAL_LOCK_TIMEOUT_MS": "300"])
            XCTAssertEqual(after.status, 0, after.err)
            expected += 5
            XCTAssertEqual(try total(seg), "\(expected).00", "killed at fault point \(point)")
        }
        let check = try runShmbal(["check", "--segment", seg] + exchange)
        XCTAssertEqual(check.status, 0, check.out + check.err)
    }

    /// The default bound is 1000 ms (documented in `shmbal --help` and the README).
    func testDefaultLockTimeoutIsOneSecond() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "1000", "--segment", seg] + exchange).status, 0)
        let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", "USDC", "--point", "2", "--seconds", "60"], outputIn: dir.path)
        defer { park.kill() }
        XCTAssertTrue(park.waitForOutput("parked"))
        XCTAssertEqual(kill(park.pid, SIGSTOP), 0)
        let busy = try runShmbal(["set", "USDC", "7", "--segment", seg] + exchange, env: ["SHMBAL_LOCK_TIMEOUT_MS": ""], timeout: 30)
        XCTAssertEqual(busy.status, 5, busy.err)
        XCTAssertTrue(busy.err.contains("within 1000 ms"), busy.err)
        XCTAssertGreaterThanOrEqual(busy.seconds, 1.0)
        XCTAssertTrue(try runShmbal(["help"]).out.contains("SHMBAL_LOCK_TIMEOUT_MS, default 1000"))
    }

    /// A neighbour allocating and releasing as fast as it can: every other writer either succeeds
    /// or gets "record busy" within the bound (never a hang), a busy operation changes nothing,
    /// and readers always answer.
    func testHostileWriterCannotHangOthers() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "1000", "--strategies", "4", "--segment", seg] + exchange).status, 0)
        let hammer = try spawnProduct(Product.campaign, ["hammer", "--segment", seg, "--currency", "USDC", "--seconds", "120"], outputIn: dir.path)
        XCTAssertTrue(hammer.waitForOutput("hammering"))
        var applied = 0, busy = 0
        for _ in 0..<20 {
            let r = try runShmbal(["adjust", "USDC", "1", "--segment", seg] + exchange, env: ["SHMBAL_LOCK_TIMEOUT_MS": "1000"], timeout: 30)
            XCTAssertFalse(r.signalled, "a writer hung behind the hammering neighbour")
            XCTAssertTrue(r.status == 0 || r.status == 5, "exit \(r.status): \(r.err)")
            if r.status == 5 { XCTAssertTrue(r.err.contains("record busy"), r.err) }
            if r.status == 0 { applied += 1 } else { busy += 1 }
            let get = try runShmbal(["get", "USDC", "--json", "--segment", seg] + exchange, timeout: 30)
            XCTAssertEqual(get.status, 0, get.err)
            XCTAssertTrue(get.out.contains("\"identityHolds\":true"), get.out)
        }
        // The dashboard draws while the neighbour hammers.
        let frame = try runShmbal(["top", "--once", "--read-only", "--width", "100", "--height", "30", "--segment", seg] + exchange, timeout: 30)
        XCTAssertEqual(frame.status, 0, frame.err)
        XCTAssertTrue(frame.out.contains("USDC"), frame.out)
        hammer.kill()
        print("hostile neighbour: \(applied) of 20 adjusts applied, \(busy) record busy")
        XCTAssertEqual(try total(seg), "\(1000 + applied).00", "a busy adjust must change nothing; an applied one exactly once")
        XCTAssertEqual(try runShmbal(["check", "--segment", seg] + exchange).status, 0)
    }
}
