import Foundation
import ShmBalanceTestSupport
import XCTest

/// docs/alerts.yml: valid for promtool, each alert firing when it should (alerts_test.yml), and
/// naming only metrics a real scrape of the exporter serves.
final class AlertRulesTests: SegmentTestCase {
    var alerts: String { repositoryRoot + "/docs/alerts.yml" }

    func promtool(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try runProcess("promtool", args, timeout: 60)
        XCTAssertEqual(r.status, 0, "promtool \(args) (Debian's prometheus package): \(r.out)\(r.err)", file: file, line: line)
    }

    func testPromtoolAcceptsTheRulesAndTheirUnitTestsPass() throws {
        try promtool(["check", "rules", alerts])
        try promtool(["test", "rules", testsFolder + "/alerts_test.yml"])
    }

    func testEveryAlertNamesOnlyMetricsTheExporterServes() throws {
        // Books that make every conditional series appear (the drift needs a BALANCE quote).
        try cli(["reset", "USDC", "1000", "--strategies", "3"])
        try cli(["quote", "write", "KRAKEN", "BALANCE", "USDC", "1000"])
        let (_, url) = try startExporter()
        let s = try scrape(url)
        let scrapeFile = dir.file("scrape.json")
        XCTAssert(writeTextFile(scrapeFile, s.json))
        let r = try runProcess("python3", [testsFolder + "/check_alert_names.py", alerts, scrapeFile], timeout: 60)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssert(r.out.contains("7 alerts checked"), r.out)
        // The check itself can fail: a rule naming a metric nobody serves is caught.
        let bad = dir.file("bad.yml")
        XCTAssert(writeTextFile(bad, "groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: shmbal_held > 0\n        labels: {severity: warning}\n        annotations: {summary: x}\n"))
        let caught = try runProcess("python3", [testsFolder + "/check_alert_names.py", bad, scrapeFile], timeout: 60)
        XCTAssertEqual(caught.status, 1)
        XCTAssert(caught.out.contains("X: shmbal_held is not served"), caught.out)
    }
}
