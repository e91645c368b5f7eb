import ShmBalance
import ShmBalanceConfig
import ShmBalanceTestSupport
import XCTest

/// The TOML subset a config is read in (Sources/ShmBalanceConfig/TOMLReader.swift): what a person
/// writes is read, everything else is refused at its line with a reason.
final class ConfigTOMLTests: XCTestCase {
    func parse(_ text: String) throws -> ConfigFile { try ConfigFile.check(text, file: "t.toml") }
    func parse(bytes: [UInt8]) throws -> ConfigFile {
        let c = try ConfigFile.parse(bytes, file: "t.toml")
        try c.validate()
        return c
    }

    func names(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [Int: String] {
        do { return try parse(text).records.first?.names.mapValues(\.description) ?? [:] } catch {
            XCTFail("\(error)", file: file, line: line)
            return [:]
        }
    }

    /// The error for `text` (a test failure if it parses).
    func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        refusal(bytes: Array(text.utf8), file: file, line: line)
    }

    func refusal(bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> ConfigError? {
        do {
            _ = try parse(bytes: bytes)
            XCTFail("accepted: \(String(decoding: bytes, as: UTF8.self).debugDescription)", file: file, line: line)
            return nil
        } catch {
            return error as? ConfigError
        }
    }

    func assertRefused(_ text: String, line: Int, _ reason: String, key: String? = nil, file: StaticString = #filePath, l: UInt = #line) {
        assertRefused(bytes: Array(text.utf8), line: line, reason, key: key, file: file, l: l)
    }

    func assertRefused(bytes: [UInt8], line: Int, _ reason: String, key: String? = nil, file: StaticString = #filePath, l: UInt = #line) {
        guard let e = refusal(bytes: bytes, file: file, line: l) else { return }
        XCTAssertEqual(e.line, line, "\(e)", file: file, line: l)
        XCTAssertTrue(e.description.contains(reason), "\(e)", file: file, line: l)
        if let key { XCTAssertEqual(e.key, key, "\(e)", file: file, line: l) }
        XCTAssertFalse(e.description.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }, "\(e)", file: file, line: l)
    }

    // MARK: What is read

    func testStringsAndEscapes() {
        XCTAssertEqual(names(#"[K.A]"# + "\n" + #"names = { 2 = "a\"b", 3 = "c\\d", 4 = "\u0041\U00000042" }"#), [2: "a\"b", 3: "c\\d", 4: "AB"])
        XCTAssertEqual(names("[K.A]\nnames = { 2 = 'C:\\path', 3 = '#not-a-comment', 4 = \"}{,=\" }"),
                       [2: "C:\\path", 3: "#not-a-comment", 4: "}{,="])
        // A literal string keeps its backslashes; a space or a decoded tab is then refused by the slot-name rule.
        assertRefused("[K.A]\nnames = { 3 = 'say \"hi\"' }", line: 2, "not allowed", key: "K.A.names.3")
        assertRefused("[K.A]\nnames = { 2 = \"tab\\there\" }", line: 2, "'tab\\there' has a character that is not allowed")
    }

    func testKeysDottedQuotedAndInline() throws {
        let forms = [
            "[KRAKEN.USDC]\ncredit = \"5\"\nstrategies = 3\nnames = { 2 = \"a\" }\n",
            "[KRAKEN]\nUSDC.credit = \"5\"\nUSDC.strategies = 3\nUSDC.names.2 = \"a\"\n",
            "[KRAKEN]\nUSDC = { credit = \"5\", strategies = 3, names = { 2 = \"a\" } }\n",
            "KRAKEN = { USDC = { credit = \"5\", strategies = 3, names.2 = \"a\" } }\n",
            "KRAKEN.USDC.credit = \"5\"\nKRAKEN.USDC.strategies = 3\nKRAKEN.USDC.names = {2=\"a\"}\n",
            "[ \"KRAKEN\" . 'USDC' ]\n\"credit\" = '5'\n'strategies' = 3\n[\"KRAKEN\".USDC.names]\n\"2\" = \"a\"\n",
            "\u{FEFF}[KRAKEN.USDC]\r\ncredit=\"5\"\r\nstrategies=3\r\nnames={2=\"a\"}\r\n",
        ]
        for text in forms {
            let c = try parse(text)
            XCTAssertEqual(c.records, [RecordConfig(key: key("USDC"), strategyCount: 3, creditLimit: Amount("5"), names: [2: try ShortName("a", kind: .label)])],
                           text.debugDescription)
        }
        // An implicit table may be defined later; a sub-table may be added under a dotted one.
        XCTAssertNoThrow(try parse("[KRAKEN.USDC]\ncredit = \"1\"\n[KRAKEN]\nUSD.credit = \"2\"\n"))
        XCTAssertNoThrow(try parse("[KRAKEN]\nUSDC.credit = \"1\"\n[KRAKEN.USDC.names]\n2 = \"a\"\n"))
        XCTAssertEqual(try parse("[KRAKEN]\nUSDC.credit = \"1\"\n[KRAKEN.USDC.names]\n2 = \"a\"\n").places[0].nameLines, [2: 4])
    }

    func testCommentsBlankLinesAndLineNumbers() throws {
        let text = "# top\n\n\t  \n[KRAKEN.USDC] # header\n  credit = \"1\" # credit\n\n# end\n[KRAKEN.USD]\nstrategies = 4#x\nnames = { 3 = \"z\" }"
        for t in [text, text.replacingOccurrences(of: "\n", with: "\r\n")] {
            let c = try parse(t)
            XCTAssertEqual(c.places.map(\.line), [4, 8])
            XCTAssertEqual(c.places[0].credit, 5)
            XCTAssertEqual(c.places[1].strategies, 9)
            XCTAssertEqual(c.places[1].nameLines, [3: 10])
        }
    }

    // MARK: What is refused

    func testRefusedConstructs() {
        assertRefused("[K.A]\ncredit = [1, 2]", line: 2, "arrays ([…]) are not part of a ShmBalance config", key: "K.A.credit")
        assertRefused("x = 1\n[[K.A]]\n", line: 2, "arrays of tables ([[…]]) are not part of")
        assertRefused("[K.A]\ncredit = \"\"\"5\"\"\"", line: 2, "multi-line strings")
        assertRefused("[K.A]\ncredit = '''5'''", line: 2, "multi-line strings")
        assertRefused("[K.A]\ncredit = 1979-05-27T07:32:00Z", line: 2, "dates and times")
        assertRefused("[K.A]\ncredit = True", line: 2, "is not a value")
        assertRefused("[K.A]\ncredit =", line: 2, "a value is missing")
        assertRefused("[K.A]\ncredit = \"5\" \"6\"", line: 2, "expected the end of the line after the value, found '\"'")
        assertRefused("[K.A]\ncredit \"5\"", line: 2, "expected '=' after the key")
        assertRefused("[K.A]\nnames = { 2 = \"a\", }", line: 2, "a comma before '}'")
        assertRefused("[K.A]\nnames = { 2 = \"a\" 3 = \"b\" }", line: 2, "expected ',' or '}'")
        assertRefused("[K.A]\nnames = {\n2 = \"a\" }", line: 2, "must close ('}') on the line it opens")
        assertRefused("[K.A] x", line: 1, "expected the end of the line after the table header")
        assertRefused("[K A]", line: 1, "expected '.' or ']'")
        assertRefused("[K.A]\n\"\\q\" = 1", line: 2, "unknown escape")
        assertRefused("[K.A]\nnames = { 2 = \"\\uD800\" }", line: 2, "not a Unicode character")
        assertRefused("[K.A]\nnames = { 2 = \"\\u12\" }", line: 2, "needs 4 hexadecimal digits")
        assertRefused("[K.A]\nnames = { 2 = \"abc\\", line: 2, "a backslash ends the line")
        assertRefused("[K.A]\nnames = { 2 = 'abc }", line: 2, "a closing ' is missing")
    }

    func testDefinedTwice() {
        assertRefused("[K.A]\ncredit = \"1\"\n\ncredit = \"2\"", line: 4, "defined twice (first at line 2)", key: "K.A.credit")
        assertRefused("[K.A]\n[K.B]\n[K.A]", line: 3, "the table is defined twice (first at line 1)", key: "K.A")
        assertRefused("[K]\nA.credit = \"1\"\n[K.A]", line: 3, "already defined by dotted keys (line 2)", key: "K.A")
        assertRefused("[K]\nA = { credit = \"1\" }\n[K.A.names]", line: 3, "an inline table (line 2): nothing can be added", key: "K.A")
        assertRefused("[K]\nA = { credit = \"1\" }\nA.strategies = 3", line: 3, "an inline table (line 2)", key: "K.A")
        assertRefused("[K.A]\n[K]\nA.credit = \"1\"", line: 3, "a table with its own header (line 1)", key: "K.A")
        assertRefused("[K]\nA = 1\n[K.A]", line: 3, "already a value (line 2)", key: "K.A")
        assertRefused("[K]\nA = 1\nA.b = 2", line: 3, "already a value (line 2)", key: "K.A")
        assertRefused("[K.A]\nnames = { 2 = \"a\", 2 = \"b\" }", line: 2, "defined twice", key: "K.A.names.2")
        // Folded to one record (SPEC §2: names fold to upper case), refused by the shared rule.
        assertRefused("[K.a]\n[k.A]", line: 2, "first configured at line 1", key: "k.A")
    }

    func testControlCharactersAreRefusedAndShownEscaped() {
        for c in (0...0x1F).map(UInt8.init) + [0x7F] where c != 0x09 && c != 0x0A {
            let hex = String(c, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: 4 - hex.count) + hex
            // Outside strings, in a string, in a quoted key, in a comment: each at its line (an `x`
            // follows, so that a CR is never the first half of a CRLF).
            for (text, line) in [("\n[K.A]\ncredit = 1\(Character(Unicode.Scalar(c)))x\n", 3),
                                 ("[K.A]\nnames = { 2 = \"a\(Character(Unicode.Scalar(c)))\" }\n", 2),
                                 ("[K.\"A\(Character(Unicode.Scalar(c)))\"]\n", 1),
                                 ("[K.A]\n\n# note \(Character(Unicode.Scalar(c)))x\n", 3)] {
                let want = c == 0x0D ? "carriage return" : "control character \(code)"
                assertRefused(text, line: line, want)
            }
        }
        // Tab is the one control character TOML allows, in strings and comments too.
        XCTAssertNoThrow(try parse("[K.A]\t# a\tcomment\n\tcredit\t=\t\"1\"\t\n"))
        // An escape that decodes to a control character is refused by the name rule and shown escaped.
        // (shown as the one sanitiser, TerminalText.safe, shows them)
        assertRefused("[K.A]\nnames = { 2 = \"\\u001B[2J\" }", line: 2, "'\\x1b[2J'")
        assertRefused("[K.\"\\u009B2J\"]", line: 1, "\\u{9b}2J")
    }

    func testLineEnds() {
        // LF and CRLF count alike; a lone CR is not a TOML line end and is refused where it stands.
        for nl in ["\n", "\r\n"] {
            assertRefused("[K.A]\(nl)credit = \"1\"\(nl)\(nl)strategies = 1\(nl)", line: 4, "from 2 to 64")
            assertRefused("[K.A]\(nl)credit = \"1\"\(nl)# c\(nl)bad\(nl)", line: 4, "expected '=' after the key")
        }
        assertRefused("[K.A]\rcredit = \"1\"\r", line: 1, "without a line feed")
        assertRefused("[K.A]\n\ncredit = \"1\"\r", line: 3, "without a line feed")
        assertRefused("[K.A]\n\n# comment\r", line: 3, "without a line feed")
        assertRefused("[K.A]\n\r", line: 2, "TOML lines end with LF or CRLF")
        XCTAssertNoThrow(try parse("[K.A]\r\n\r\n"))
    }

    func testBadUTF8IsRefused() {
        let bad: [[UInt8]] = [[0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]]
        for b in bad {
            for (before, after, line) in [("[K.A]\n# ", "\n", 2), ("[K.A]\nnames = { 2 = \"", "\" }\n", 2), ("\n\n", "\n", 3)] {
                assertRefused(bytes: Array(before.utf8) + b + Array(after.utf8), line: line, "UTF-8")
            }
        }
        // Good UTF-8 in comments and strings is fine (a name then refuses non-ASCII by its own rule).
        XCTAssertNoThrow(try parse("# café ✓ 𝄞\n[K.A] # ½\n"))
        assertRefused("[K.A]\nnames = { 2 = \"café\" }", line: 2, "not allowed")
    }

    func testLimitsAreSaid() {
        assertRefused("[" + Array(repeating: "a", count: 9).joined(separator: ".") + "]", line: 1, "at most 8 dotted parts")
        XCTAssertEqual(refusal("[" + Array(repeating: "a", count: 8).joined(separator: ".") + "]")?.message.hasPrefix("unknown key"), true,
                       "8 parts are read; the schema then refuses the key")
        assertRefused("a = " + String(repeating: "{ a = ", count: 9) + "1" + String(repeating: "}", count: 9), line: 1, "nest at most 8 deep")
        assertRefused("[K.\(String(repeating: "x", count: 65))]", line: 1, "at most 64 bytes")
        assertRefused("[K.\"\(String(repeating: "x", count: 65))\"]", line: 1, "at most 64 bytes")
        assertRefused("[K.A]\ncredit = \"\(String(repeating: "1", count: 257))\"", line: 2, "at most 256 bytes")
        assertRefused("[K.A]\ncredit = \(String(repeating: "1", count: 65))", line: 2, "at most 64 characters")
        XCTAssertNoThrow(try parse("[K.\(String(repeating: "x", count: 15))]"))
    }
}
