import Foundation
import Glibc
import ShmBalanceTestSupport
import XCTest

/// A real PostgreSQL server for one test class, in a private folder, on a free loopback port
/// (scripts/pg-temp: as user postgres when the tests run as root). Stopped and removed with
/// everything in it when the handle goes away.
final class PostgresServer: @unchecked Sendable {
    let folder: TempDir
    let dataDir: String
    private(set) var url = ""

    static let repoRoot: String = {
        var p = #filePath
        for _ in 0..<3 { p = String(p[..<p.lastIndex(of: "/")!]) }
        return p
    }()
    static let script = repoRoot + "/scripts/pg-temp"

    init() throws {
        folder = TempDir("pg")
        // The server's user must reach its folder inside ours.
        chmod(folder.path, 0o755)
        dataDir = folder.file("pg")
        try start()
    }

    func start() throws {
        let r = try runProcess("/bin/bash", [PostgresServer.script, "start", dataDir], timeout: 120)
        guard r.status == 0 else { throw PostgresUnavailable(message: "pg-temp start failed: \(r.err)") }
        url = r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `pg_ctl stop -m immediate`: every server process dies at once, as in a crash.
    func crash() throws {
        let r = try runProcess("/bin/bash", [PostgresServer.script, "kill", dataDir], timeout: 60)
        XCTAssertEqual(r.status, 0, r.err)
    }

    func stop() { _ = try? runProcess("/bin/bash", [PostgresServer.script, "stop", dataDir], timeout: 60) }

    /// Runs SQL through psql; its output (tuples only, unaligned).
    func sql(_ statement: String) throws -> RunResult {
        let psql = access("/usr/bin/psql", X_OK) == 0 ? "/usr/bin/psql" : "psql"
        return try runProcess(psql, [url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", statement], timeout: 60)
    }

    deinit { stop() }
}

/// The server could not start: the test fails (a ledger test never skips).
struct PostgresUnavailable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
