import Foundation
import ShmBalance
import XCTest

// What these tests need from the outside world: temporary segments and the built `shmbal`
// (a small copy of Tests/ShmBalanceTests/TestSupport.swift, so the targets stay independent).

/// A private folder per test holding a segment, removed afterwards.
final class TempSegment {
    let dir: String
    let path: String

    init(_ name: String = "seg") {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shmbal-dash-\(getpid())-\(UUID().uuidString.prefix(8))").path
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

func key(_ currency: String, _ exchange: String = "KRAKEN") -> BookKey { try! BookKey(exchange, currency) }
func label(_ s: String) -> ShortName { try! ShortName(s, kind: .label) }

/// The directory holding the built products next to the test bundle.
var productsDirectory: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
}

var shmbalPath: String { productsDirectory.appendingPathComponent("shmbal").path }

/// Runs `shmbal` to completion: (exit status, stdout, stderr).
@discardableResult
func shmbal(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: shmbalPath)
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

/// The seed's example books: KRAKEN USDC 10,000 (credit 5,000; grid-bot 2,000, arb 3,000,
/// mm 1,000; pool 4,000) and USD 5,000.
func seedExample(_ books: Books) throws {
    _ = try books.applyConfiguration([
        RecordConfig(key: key("USDC"), strategyCount: 5, creditLimit: Amount("5000"),
                     names: [2: label("grid-bot"), 3: label("arb"), 4: label("mm")]),
    ], defaultExchange: try ShortName("KRAKEN"))
    try books.reset(key("USDC"), balance: Amount("10000"))
    try books.allocate(key("USDC"), index: 2, Amount("2000"))
    try books.allocate(key("USDC"), index: 3, Amount("3000"))
    try books.allocate(key("USDC"), index: 4, Amount("1000"))
    try books.reset(key("USD"), balance: Amount("5000"), strategyCount: 4)
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass; fails the test if it never does.
@discardableResult
func eventually(_ what: @autoclosure () -> String, within seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line,
                _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    if try condition() { return true }
    XCTFail("timed out after \(seconds) s waiting for \(what())", file: file, line: line)
    return false
}
