import Foundation
import ShmBalance
import XCTest

/// A private segment file per test, removed afterwards.
final class TempSegment {
    let dir: String
    let path: String

    init(_ name: String = "seg") {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shmbal-test-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir + "/" + name
    }

    func books(_ access: Segment.AccessMode = .readWriteCreating()) throws -> Books {
        try Books.open(path, access)
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }
}

extension Amount {
    /// Test shorthand: `Amount("10000.5")`.
    init(_ text: String) { self = try! Amount(parsing: text) }
}

let KRAKEN = try! ShortName("KRAKEN")
func key(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey { try! BookKey(exchange, currency) }

/// The directory holding the built products (shmbal, shmbal-worker) next to the test bundle.
var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

/// Runs a built product to completion and returns (exit status, stdout, stderr).
@discardableResult
func runProduct(_ name: String, _ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = productsDirectory.appendingPathComponent(name)
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["SWIFT_BACKTRACE"] = "enable=no"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// Asserts that `body` throws a refusal with `code`, and returns it.
@discardableResult
func assertRefused(_ code: RefusalCode, file: StaticString = #filePath, line: UInt = #line, _ body: () throws(BooksError) -> Void) -> Refusal? {
    do {
        try body()
        XCTFail("expected a \(code) refusal, but it succeeded", file: file, line: line)
    } catch {
        guard case .refused(let r) = error else {
            XCTFail("expected a \(code) refusal, got \(error)", file: file, line: line)
            return nil
        }
        XCTAssertEqual(r.code, code, "\(r)", file: file, line: line)
        return r
    }
    return nil
}
