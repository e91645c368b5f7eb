import Foundation
import ShmBalance
import ShmBalanceConfig
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: parsing time grows linearly with the file. The times are printed, never asserted
/// (this machine is shared); what is asserted is that each file was read whole and right.
final class ConfigTimingTests: XCTestCase {
    /// `count` currencies as a person writes them: a header, credit, strategies and names each.
    static func currencies(_ count: Int) -> String {
        var out = "default_exchange = \"KRAKEN\"\n\n"
        for n in 0..<count {
            out += "[KRAKEN.C\(n)]\ncredit = \"\(n).5\"\nstrategies = \(4 + n % 61)\nnames = { 2 = \"grid-bot\", 3 = \"arb\" }\n\n"
        }
        return out
    }

    func testParseTimeIsPrinted() throws {
        var perByte: [Double] = []
        var sizes: [(String, String)] = [("1,000 currencies", Self.currencies(1_000)), ("10,000 currencies", Self.currencies(10_000))]
        var mb = Self.currencies(0)
        var n = 0
        while mb.utf8.count < 1 << 20 {
            mb += "[KRAKEN.M\(n)]\ncredit = \(n).25\nstrategies = 4\n"
            n += 1
        }
        sizes.append(("1 MB (\(n) currencies)", mb))
        for (what, text) in sizes {
            let bytes = Array(text.utf8)
            let started = Date()
            let config = try ConfigFile.parse(bytes, file: "timing.toml")
            try config.validate()
            let seconds = Date().timeIntervalSince(started)
            perByte.append(seconds / Double(bytes.count))
            print("config parse + validate, \(what), \(bytes.count) bytes: \(String(format: "%.3f", seconds)) s in-process (this build)")
            XCTAssertEqual(config.records.count, text.components(separatedBy: "[KRAKEN.").count - 1, what)
            XCTAssertEqual(config.defaultExchange?.description, "KRAKEN")
        }
        print("time per byte, 10,000 currencies / 1,000: \(String(format: "%.2f", perByte[1] / perByte[0]))× (1× is linear)")

        // The same through the CLI, the way an operator runs it (process start included).
        let dir = TempDir("timing")
        for (what, text) in sizes {
            let file = dir.file("t.toml")
            try text.write(toFile: file, atomically: false, encoding: .utf8)
            let r = try runProduct("shmbal", ["config", "check", file])
            XCTAssertEqual(r.status, 0, r.err)
            print("shmbal config check, \(what): \(String(format: "%.3f", r.seconds)) s")
        }
    }
}
