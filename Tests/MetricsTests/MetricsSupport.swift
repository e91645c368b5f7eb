import Foundation
import ShmBalanceTestSupport
import XCTest

// What the metrics and watch tests share: a private segment driven by the real `shmbal` CLI, the
// exporter as a child process, and scrapes parsed by prometheus_client (scrape_metrics.py).

/// This folder (the Python helpers and promtool's test file live beside the tests).
let testsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let repositoryRoot = URL(fileURLWithPath: testsFolder).deletingLastPathComponent().deletingLastPathComponent().path

/// One sample as prometheus_client parsed it.
struct Sample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

struct Scrape {
    var contentType: String
    var samples: [Sample]
    /// The raw JSON scrape_metrics.py printed (check_alert_names.py reads it).
    var json: String

    /// The one sample named `name` whose labels include `labels`; fails the test when there are none or several.
    func value(_ name: String, _ labels: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> Double? {
        let found = samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
        guard found.count == 1 else {
            XCTFail("\(found.count) samples \(name)\(labels)", file: file, line: line)
            return nil
        }
        return found[0].value
    }

    var names: Set<String> { Set(samples.map(\.name)) }
}

class SegmentTestCase: XCTestCase {
    var dir: TempDir!
    var seg: String { dir.file("seg") }
    var children: [ChildProcess] = []

    override func setUp() {
        super.setUp()
        dir = TempDir("metrics")
    }

    override func tearDown() {
        children.forEach { $0.kill() }
        children = []
        dir = nil
        super.tearDown()
    }

    /// Runs `shmbal ARGS --segment SEG --exchange KRAKEN`, expecting exit `status`.
    @discardableResult
    func cli(_ args: [String], status: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) throws -> RunResult {
        let r = try runShmbal(args + ["--segment", seg, "--exchange", "KRAKEN"])
        XCTAssertEqual(r.status, status, "shmbal \(args): \(r.err)", file: file, line: line)
        return r
    }

    /// Starts `shmbal ARGS` in the background, its output in NAME.out / NAME.err.
    func start(_ args: [String], name: String) throws -> ChildProcess {
        let child = try spawnProduct(Product.shmbal, args, outputIn: dir.path, name: name)
        children.append(child)
        return child
    }

    /// Starts the exporter on a free loopback port; its /metrics URL once it listens.
    func startExporter(name: String = "metrics") throws -> (ChildProcess, String) {
        let child = try start(["metrics", "--listen", "127.0.0.1:0", "--segment", seg], name: name)
        XCTAssert(child.waitForOutput("/metrics\n", within: 30), "the exporter did not say where it listens: \(child.errorOutput)")
        let line = child.output.split(separator: "\n").first { $0.hasPrefix("shmbal metrics: serving http://127.0.0.1:") }
        let url = try XCTUnwrap(line.map { String($0.dropFirst("shmbal metrics: serving ".count)) }, child.output)
        return (child, url)
    }

    /// GET `url` over loopback and parse it with prometheus_client.
    func scrape(_ url: String, file: StaticString = #filePath, line: UInt = #line) throws -> Scrape {
        let r = try runProcess("python3", [testsFolder + "/scrape_metrics.py", url], timeout: 60)
        XCTAssertEqual(r.status, 0, "scrape_metrics.py (needs prometheus_client: pip install prometheus_client): \(r.err)", file: file, line: line)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let samples = (object["samples"] as? [[String: Any]] ?? []).map { s in
            Sample(name: s["name"] as? String ?? "", labels: s["labels"] as? [String: String] ?? [:], value: (s["value"] as? NSNumber)?.doubleValue ?? .nan)
        }
        return Scrape(contentType: object["contentType"] as? String ?? "", samples: samples, json: r.out)
    }
}
