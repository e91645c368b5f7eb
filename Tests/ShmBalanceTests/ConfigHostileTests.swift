import Foundation
import ShmBalance
import ShmBalanceConfig
import ShmBalanceTestSupport
import XCTest

/// SPEC §4, "Config files are hostile input": no file, however malformed or large, crashes or
/// hangs the reader; every refusal is one line, at the right line, with nothing raw in it.
final class ConfigHostileTests: XCTestCase {
    /// Parses and validates like `config check`; returns the error, or nil when accepted.
    func outcome(_ bytes: [UInt8]) -> ConfigError? {
        do {
            try ConfigFile.parse(bytes, file: "h.toml").validate()
            return nil
        } catch {
            return error
        }
    }

    /// The promises every refusal keeps: names the file, a line inside it, one line, nothing raw, bounded.
    func assertWellFormed(_ e: ConfigError, lines: Int, _ what: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        let d = e.description
        XCTAssertTrue(d.hasPrefix("h.toml:"), "\(what()): \(d)", file: file, line: line)
        XCTAssertTrue((1...lines).contains(e.line ?? 0), "line \(e.line ?? 0) of \(lines): \(what()): \(d)", file: file, line: line)
        XCTAssertFalse(d.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(what()): \(d.debugDescription)", file: file, line: line)
        XCTAssertLessThan(d.utf8.count, 400, "\(what()): \(d)", file: file, line: line)
    }

    func lineCount(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBufferPointer { b in
            var n = 1
            for c in b where c == 0x0A { n += 1 }
            return n
        }
    }

    func testTheIssuesInputs() throws {
        // toml++ aborted (SIGABRT) on a control character before a value's end.
        let abort = outcome(Array("a = 1\u{1}X------- 1\n".utf8))
        XCTAssertEqual(abort?.line, 1)
        XCTAssertTrue(abort?.message.contains("control character U+0001") ?? false, "\(String(describing: abort))")
        // ... and overflowed its stack (SIGSEGV) on a header of 200,000 dotted parts; every other
        // way to nest deep is refused at the limit as well, without recursion.
        let deep = 200_000
        let nests: [(String, String)] = [
            ("a header of bare parts", "[" + Array(repeating: "a", count: deep).joined(separator: ".") + "]\n"),
            ("a header of quoted parts", "[" + Array(repeating: "\"a\"", count: deep).joined(separator: " . ") + "]\n"),
            ("a dotted key", Array(repeating: "a", count: deep).joined(separator: ".") + " = 1\n"),
            ("inline tables", "a = " + String(repeating: "{ a = ", count: deep) + "1" + String(repeating: " }", count: deep) + "\n"),
            ("brackets", String(repeating: "[", count: deep) + "\n"),
            ("braces", "a = " + String(repeating: "{", count: deep) + "\n"),
        ]
        for (what, text) in nests {
            let started = Date()
            guard let e = outcome(Array(text.utf8)) else { XCTFail("\(what): accepted"); continue }
            print("200,000-deep \(what): refused in \(String(format: "%.1f", Date().timeIntervalSince(started) * 1000)) ms: \(e)")
            XCTAssertEqual(e.line, 1, what)
            assertWellFormed(e, lines: 2, what)
        }
        // Case-folded duplicates, names beyond the count: refused by check as by apply (ConfigAgreementTests).
        XCTAssertEqual(outcome(Array("[KRAKEN.usdc]\n[KRAKEN.USDC]\n".utf8))?.line, 2)
        // Exponents are refused, long bare numbers are exact.
        XCTAssertEqual(outcome(Array("[KRAKEN.USDC]\ncredit = 1e3\n".utf8))?.line, 2)
        XCTAssertEqual(try ConfigFile.check("[KRAKEN.USDC]\ncredit = 1234567890.123456789\n", file: "h.toml").records[0].creditLimit,
                       Amount("1234567890.123456789"))
    }

    /// Ten megabytes of several shapes: each is read in one pass and accepted or refused at the
    /// right line. (Ten megabytes of currencies go through the real CLI below.)
    func testTenMegabyteFiles() throws {
        let size = 10 << 20
        func repeated(_ s: String, _ times: Int) -> [UInt8] { Array(String(repeating: s, count: times).utf8) }
        let shapes: [(String, [UInt8], Int?)] = [
            ("one comment line", Array("# ".utf8) + [UInt8](repeating: UInt8(ascii: "c"), count: size), nil),
            ("short comment lines", repeated("# note\n", size / 7), nil),
            ("blank lines, then a bad key at the last", repeated("\n", size) + Array("x".utf8), size + 1),
            ("CRLF blank lines, then a bad key", repeated("\r\n", size / 2) + Array("x".utf8), size / 2 + 1),
            ("one long string", Array("a = \"".utf8) + [UInt8](repeating: UInt8(ascii: "s"), count: size) + Array("\"".utf8), 1),
            ("one long bare key", [UInt8](repeating: UInt8(ascii: "k"), count: size) + Array(" = 1".utf8), 1),
            ("one long number", Array("[K.A]\ncredit = ".utf8) + [UInt8](repeating: UInt8(ascii: "1"), count: size), 2),
            ("a long line of blanks", [UInt8](repeating: UInt8(ascii: " "), count: size) + Array("x".utf8), 1),
            ("NUL bytes", [UInt8](repeating: 0, count: size), 1),
            ("one table, its keys defined twice at the end", Array("[K.A]\n".utf8) + repeated("# c\n", size / 4) + Array("credit = 1\ncredit = 2\n".utf8), size / 4 + 3),
        ]
        for (what, bytes, refusedAt) in shapes {
            let started = Date()
            let e = outcome(bytes)
            print("10 MB, \(what): \(e.map { "refused: \($0)" } ?? "accepted") in \(String(format: "%.0f", Date().timeIntervalSince(started) * 1000)) ms")
            XCTAssertEqual(e?.line, refusedAt, "\(what): \(String(describing: e))")
            if let e { assertWellFormed(e, lines: lineCount(bytes), what) }
        }
        for seed in 0..<3 {
            var g = SplitMix64(seed: UInt64(seed))
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBytes { raw in
                for k in 0..<(size / 8) { raw.storeBytes(of: g.next(), toByteOffset: 8 * k, as: UInt64.self) }
            }
            guard let e = outcome(bytes) else { XCTFail("random bytes (seed \(seed)) accepted"); continue }
            assertWellFormed(e, lines: lineCount(bytes), "random bytes, seed \(seed)")
        }
    }

    /// The real CLI on a 10 MB file, and on one too large to read.
    func testTheCLIReadsLargeFilesWithoutCrashing() throws {
        let dir = TempDir("hostile")
        let file = dir.file("big.toml")
        var text = ""
        var n = 0
        while text.utf8.count < 10 << 20 {
            text += "[KRAKEN.C\(n)]\ncredit = \(n).5\nstrategies = 3\n"
            n += 1
        }
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        let ok = try runProduct("shmbal", ["config", "check", file])
        print("shmbal config check, 10 MB (\(n) currencies): \(String(format: "%.2f", ok.seconds)) s")
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertEqual(ok.out, "\(file): ok, \(n) records\n")

        let huge = dir.file("huge.toml")
        XCTAssertTrue(FileManager.default.createFile(atPath: huge, contents: nil))
        let h = try FileHandle(forWritingTo: URL(fileURLWithPath: huge))
        try h.truncate(atOffset: UInt64(65 << 20))  // sparse: reads as NUL bytes
        try h.close()
        let r = try runProduct("shmbal", ["config", "check", huge])
        XCTAssertEqual(r.status, 4, r.err)
        XCTAssertEqual(r.err, "shmbal: \(huge): the file is larger than 64 MiB; a config file is never that big; nothing was applied\n")
        for path in [dir.path, dir.file("missing.toml")] {
            let r = try runProduct("shmbal", ["config", "check", path])
            XCTAssertEqual(r.status, 4, r.err)
            XCTAssertTrue(r.err.hasPrefix("shmbal: \(path): cannot read the file ("), r.err)
        }
    }

    /// Every byte value put at every place of a good file (replacing, and inserted): accepted, or
    /// refused with the promises kept. Deterministic: the whole grid, no sampling.
    func testEveryByteAtEveryPlace() {
        let good = Array("default_exchange = \"KRAKEN\"\n[KRAKEN.USDC] # c\ncredit = 5000.5\nstrategies = 5\nnames = { 2 = \"grid-bot\", 3 = 'arb' }\n".utf8)
        XCTAssertNil(outcome(good))
        var accepted = 0, refused = 0
        for at in 0...good.count {
            for v in 0...255 {
                var variants = [good]
                variants[0].insert(UInt8(v), at: at)
                if at < good.count {
                    var replaced = good
                    replaced[at] = UInt8(v)
                    variants.append(replaced)
                }
                for bytes in variants {
                    if let e = outcome(bytes) {
                        refused += 1
                        assertWellFormed(e, lines: lineCount(bytes), "byte \(v) at \(at)")
                    } else {
                        accepted += 1
                    }
                }
            }
        }
        print("every byte at every place: \(accepted) variants accepted, \(refused) refused")
        XCTAssertGreaterThan(refused, accepted, "most single-byte changes break a file this dense")
    }

    /// CRLF line ends never move an error: every refused file of the agreement table, rewritten
    /// with CRLF, is refused at the same line for the same reason.
    func testCRLFKeepsEveryErrorsLine() {
        var compared = 0
        for c in ConfigAgreementTests.cases where c.refusedAt != nil && !c.bytes.contains(0x0D) {
            let crlf = c.bytes.flatMap { $0 == 0x0A ? [0x0D, 0x0A] : [$0] }
            let lf = outcome(c.bytes), both = outcome(crlf)
            XCTAssertEqual(lf?.line, c.refusedAt, c.name)
            XCTAssertEqual(both?.line, lf?.line, c.name)
            XCTAssertEqual(both?.message, lf?.message, c.name)
            compared += 1
        }
        XCTAssertGreaterThan(compared, 25)
    }
}
