import CShmBalance
import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// One source of truth for the codes: the enums of shmbalance.h. The core's RefusalCode, the C++
/// mirrors (shmbal::Status, Refusal, ReconcileKind), the Python mirrors (shmbalance.codes and an
/// exception class per status) and the table in docs/bindings.md must all say exactly what the
/// header says: a code added, renumbered or renamed anywhere else fails here.
final class CodesTests: XCTestCase {
    /// One C enum of the header: its members in order, as (NAME without the prefix, value).
    struct CEnum {
        var name: String
        var prefix: String
        var members: [(name: String, value: Int)]
    }

    static let headerPath = cHeaderDirectory + "/shmbalance.h"

    /// The header's `typedef enum NAME { SHMBAL_X = N, … } NAME;` blocks.
    static func headerEnums() throws -> [String: [(name: String, value: Int)]] {
        let text = try String(contentsOfFile: headerPath, encoding: .utf8)
        var out: [String: [(String, Int)]] = [:]
        let block = try NSRegularExpression(pattern: #"typedef enum (\w+) \{(.*?)\} (\w+);"#, options: [.dotMatchesLineSeparators])
        let member = try NSRegularExpression(pattern: #"^\s*(SHMBAL_\w+)\s*=\s*(\d+)\s*,?"#, options: [.anchorsMatchLines])
        for m in block.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(m.range(at: 1), in: text)!])
            XCTAssertEqual(name, String(text[Range(m.range(at: 3), in: text)!]))
            // Comments may sit between members; strip them first.
            let body = String(text[Range(m.range(at: 2), in: text)!])
                .replacingOccurrences(of: #"/\*.*?\*/"#, with: "", options: .regularExpression)
            out[name] = member.matches(in: body, range: NSRange(body.startIndex..., in: body)).map {
                (String(body[Range($0.range(at: 1), in: body)!]), Int(body[Range($0.range(at: 2), in: body)!])!)
            }
        }
        return out
    }

    /// The four enums, with the prefix their members share.
    func enums() throws -> [CEnum] {
        let all = try Self.headerEnums()
        let prefixes = ["shmbal_status": "SHMBAL_", "shmbal_refusal": "SHMBAL_REFUSAL_", "shmbal_open_mode": "SHMBAL_OPEN_",
                        "shmbal_reconcile_kind": "SHMBAL_RECONCILE_"]
        XCTAssertEqual(Set(all.keys), Set(prefixes.keys), "the header's enums")
        return try prefixes.keys.sorted().map { name in
            let members = try XCTUnwrap(all[name], name)
            let prefix = prefixes[name]!
            XCTAssertFalse(members.isEmpty, name)
            for (i, m) in members.enumerated() {
                XCTAssertTrue(m.name.hasPrefix(prefix), m.name)
                XCTAssertEqual(m.value, i, "\(m.name): the codes are 0, 1, 2, … in order")
            }
            return CEnum(name: name, prefix: prefix, members: members.map { (String($0.name.dropFirst(prefix.count)), $0.value) })
        }
    }

    func cEnum(_ name: String) throws -> CEnum { try XCTUnwrap(try enums().first { $0.name == name }) }

    /// The parser reads what the compiler reads.
    func testTheParserReadsTheHeaderAsTheCompilerDoes() throws {
        let status = try cEnum("shmbal_status").members
        XCTAssertEqual(status.map(\.name), ["OK", "REFUSED", "BAD_INPUT", "SEGMENT", "BUSY", "CORRUPT", "CLOSED", "NOT_FOUND",
                                              "BUFFER_TOO_SMALL"])
        XCTAssertEqual(status.map(\.value), [SHMBAL_OK, SHMBAL_REFUSED, SHMBAL_BAD_INPUT, SHMBAL_SEGMENT, SHMBAL_BUSY, SHMBAL_CORRUPT,
                                             SHMBAL_CLOSED, SHMBAL_NOT_FOUND, SHMBAL_BUFFER_TOO_SMALL].map { Int($0.rawValue) })
        let refusals = try cEnum("shmbal_refusal").members
        XCTAssertEqual(refusals.first?.name, "NONE")
        XCTAssertEqual(refusals.last?.value, Int(SHMBAL_REFUSAL_FENCED.rawValue))
    }

    /// shmbal_refusal is the core's RefusalCode: every case, by name and number, and nothing else.
    func testRefusalsAreTheCoresRefusalCodes() throws {
        let header = try cEnum("shmbal_refusal").members.filter { $0.name != "NONE" }
        let core = RefusalCode.allCases.map { (Self.upperSnake(String(describing: $0)), Int($0.rawValue)) }
        XCTAssertEqual(header.map(\.name), core.map(\.0), "names (RefusalCode.noRecord is SHMBAL_REFUSAL_NO_RECORD)")
        XCTAssertEqual(header.map(\.value), core.map(\.1), "values")
        XCTAssertEqual(try cEnum("shmbal_refusal").members.first?.value, 0, "SHMBAL_REFUSAL_NONE is 0: no RefusalCode has it")
        XCTAssertFalse(RefusalCode.allCases.contains { $0.rawValue == 0 })
    }

    /// shmbalance.hpp: an enum class member for every header member with the same value (checked
    /// by the compiler), none extra, and an exception for every status (-Wswitch in throw_status).
    func testTheCppMirrorsAreTheHeaders() throws {
        let mirrors = ["shmbal_status": "Status", "shmbal_refusal": "Refusal", "shmbal_reconcile_kind": "ReconcileKind"]
        let hpp = try String(contentsOfFile: cppDirectory + "/shmbalance.hpp", encoding: .utf8)
        var asserts = ""
        for e in try enums() {
            guard let cpp = mirrors[e.name] else { continue }
            let block = try XCTUnwrap(hpp.range(of: "enum class \(cpp) : int {").map { hpp[$0.upperBound...].prefix { $0 != "}" } }, cpp)
            let names = block.split(separator: "\n").compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                return t.isEmpty || t.hasPrefix("//") ? nil : String(t.prefix { $0 != " " && $0 != "=" })
            }
            XCTAssertEqual(names, e.members.map { $0.name.lowercased() }, "shmbal::\(cpp) lists \(e.name)'s members, in order")
            for m in e.members {
                asserts += "static_assert(static_cast<int>(shmbal::\(cpp)::\(m.name.lowercased())) == \(e.prefix)\(m.name), \"\(cpp)::\(m.name.lowercased())\");\n"
            }
        }
        let dir = TempDirectory()
        let source = dir.path + "/codes.cpp"
        try """
        #include "shmbalance.hpp"
        \(asserts)
        // Every status but ok throws its own class.
        template <typename E> static bool throws_as(shmbal::Status s) {
            try { shmbal::throw_status(static_cast<int>(s)); } catch (const E &e) { return e.status() == s; } catch (...) {}
            return false;
        }
        int main() {
            using S = shmbal::Status;
            return !(throws_as<shmbal::Refused>(S::refused) && throws_as<shmbal::BadInput>(S::bad_input) &&
                     throws_as<shmbal::SegmentUnusable>(S::segment) && throws_as<shmbal::Busy>(S::busy) &&
                     throws_as<shmbal::Corrupt>(S::corrupt) && throws_as<shmbal::Closed>(S::closed) &&
                     throws_as<shmbal::NotFound>(S::not_found) && throws_as<shmbal::BufferTooSmall>(S::buffer_too_small) &&
                     throws_as<shmbal::Error>(static_cast<S>(99)));
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let exe = dir.path + "/codes"
        let cc = try runProgram(which("g++"), ["-std=c++17", "-Wall", "-Wextra", "-Wswitch-enum", "-Werror", "-I", cHeaderDirectory, "-I", cppDirectory,
                                               source, "-L", productsDirectory.path, "-lshmbalance", "-Wl,-rpath," + productsDirectory.path, "-o", exe], in: dir)
        XCTAssertEqual(cc.status, 0, "the C++ mirrors disagree with the header:\n\(cc.err)")
        guard cc.status == 0 else { return }
        let run = try runProgram(exe, [], in: dir)
        XCTAssertEqual(run.status, 0, "a status does not throw its own exception class")
    }

    /// shmbalance.codes (Status, Refusal, OpenMode, ReconcileKind) by name and value, and an
    /// exception class in shmbalance.errors for every status but OK.
    func testThePythonMirrorsAreTheHeaders() throws {
        let dir = TempDirectory()
        let code = """
        import json, shmbalance.codes as c, shmbalance.errors as e
        print(json.dumps({
            "shmbal_status": [[m.name, m.value] for m in c.Status],
            "shmbal_refusal": [[m.name, m.value] for m in c.Refusal],
            "shmbal_open_mode": [[m.name, m.value] for m in c.OpenMode],
            "shmbal_reconcile_kind": [[m.name, m.value] for m in c.ReconcileKind],
            "classes": {m.name: [e.BY_STATUS[m].__name__, int(e.BY_STATUS[m].status)] for m in c.Status if m in e.BY_STATUS},
            "refusal_names": [e.refusal_name(m.value) for m in c.Refusal],
        }))
        """
        let r = try runProgram(which("python3"), ["-c", code], env: pythonEnvironment(), in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        for e in try enums() {
            let python = try XCTUnwrap(json[e.name] as? [[Any]], e.name)
            XCTAssertEqual(python.map { $0[0] as? String ?? "" }, e.members.map(\.name), "\(e.name) names")
            XCTAssertEqual(python.map { $0[1] as? Int ?? -1 }, e.members.map(\.value), "\(e.name) values")
        }
        let classes = try XCTUnwrap(json["classes"] as? [String: [Any]])
        let statuses = try cEnum("shmbal_status").members
        XCTAssertEqual(Set(classes.keys), Set(statuses.map(\.name).filter { $0 != "OK" }), "an exception class per status")
        for s in statuses where s.name != "OK" { XCTAssertEqual(classes[s.name]?[1] as? Int, s.value, s.name) }
        let names = try XCTUnwrap(json["refusal_names"] as? [Any])
        XCTAssertTrue(names.first is NSNull)
        XCTAssertEqual(names.dropFirst().compactMap { $0 as? String },
                       try cEnum("shmbal_refusal").members.dropFirst().map { $0.name.lowercased() }, "RefusedError.refusal names")
    }

    /// docs/bindings.md has a row `| N | `SHMBAL_X` | …` for every member of the four enums.
    func testTheDocsTableIsTheHeaders() throws {
        let docs = try String(contentsOfFile: repoRoot.appendingPathComponent("docs/bindings.md").path, encoding: .utf8)
        let rows = Set(docs.split(separator: "\n").filter { $0.hasPrefix("| ") && $0.contains("`SHMBAL_") }.compactMap { line -> String? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.count >= 2 ? "\(cells[0]) \(cells[1])" : nil
        })
        var expected: Set<String> = []
        for e in try enums() { for m in e.members { expected.insert("\(m.value) `\(e.prefix)\(m.name)`") } }
        XCTAssertEqual(rows, expected, "docs/bindings.md's code tables")
    }

    /// "notASubStrategy" → "NOT_A_SUB_STRATEGY".
    static func upperSnake(_ camel: String) -> String {
        var out = ""
        for c in camel {
            if c.isUppercase && !out.isEmpty { out += "_" }
            out += c.uppercased()
        }
        return out
    }
}
