import CShmBalance
import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §9 through the bindings: holds, fills, voids, receipts and operation ids from a C program
/// (bindings/c/tests/holds.c) and through the C++ header (bindings/cpp/tests/holds.cpp), each on a
/// small segment made here (the smallest hold and op-id tables) and removed afterwards.
final class HoldBindingTests: XCTestCase {
    /// The functions shmbalance.h declares (and so the version script exports): 42 before holds,
    /// + 19 `_op` variants + hold, fill, void, receive, holds, get_slot_holds.
    static let exportCount = 67

    /// A segment with small tables at `dir.segment` (the default geometry reserves ~46 MB).
    static func smallSegment(_ dir: TempDirectory) throws {
        let geometry = Geometry(recordCapacity: 4, quoteCapacity: 16, ringCapacity: 64, holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)
        _ = try Books.open(dir.segment, .readWriteCreating(geometry: geometry))
    }

    func testCProgram() throws {
        let dir = TempDirectory()
        try Self.smallSegment(dir)
        let exe = dir.path + "/holds"
        let libDir = productsDirectory.path
        let cc = try runProgram(which("gcc"), ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I", cHeaderDirectory,
                                               repoRoot.path + "/bindings/c/tests/holds.c", "-L", libDir, "-lshmbalance", "-Wl,-rpath," + libDir,
                                               "-o", exe], in: dir)
        XCTAssertEqual(cc.status, 0, cc.err)
        guard cc.status == 0 else { return }
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "c holds: ok\n", r.err)
    }

    func testCppHeader() throws {
        let dir = TempDirectory()
        try Self.smallSegment(dir)
        let exe = try XCTUnwrap(try compileCpp("tests/holds.cpp", into: dir))
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "c++ holds: ok\n", r.err)
    }

    /// What the ABI reads is the core's: the listing is `Books.holds` entry by entry and the slot
    /// holds are `Books.get`'s held, free and counts, for holds made by the core itself.
    func testTheReadsAreTheCores() throws {
        let dir = TempDirectory()
        try Self.smallSegment(dir)
        let books = try Books.open(dir.segment, .readWrite)
        let key = BookKey(exchange: try ShortName("KRAKEN"), currency: try ShortName("USDC"))
        try books.reset(key, balance: Amount(parsing: "1000"), strategyCount: 6)
        for i in 2..<6 { try books.allocate(key, index: i, Amount(parsing: "100")) }
        for n in 0..<10 {
            try books.hold(key, index: 2 + n % 4, Amount(parsing: "\(n + 1).5"), id: HoldId("h\(n)"), ttlMicros: n % 3 == 0 ? 60_000_000 : nil)
        }
        _ = try books.fill(key, id: HoldId("h4"), Amount(parsing: "1.25"))
        var c = shmbal_books(id: 0)
        XCTAssertEqual(shmbal_open(dir.segment, SHMBAL_OPEN_READ_ONLY.code, &c), SHMBAL_OK.code)
        defer { shmbal_close(c) }

        let core = try books.holds(key)
        var count = 0
        var list = [shmbal_hold_info](repeating: shmbal_hold_info(), count: 3)
        XCTAssertEqual(shmbal_holds(c, "KRAKEN", "USDC", -1, &list, list.count, &count), SHMBAL_BUFFER_TOO_SMALL.code)
        XCTAssertEqual(count, core.count)
        XCTAssertEqual(String(cString: shmbal_last_error()), "KRAKEN USDC: 10 open holds, the array holds 3: need 10")
        list = [shmbal_hold_info](repeating: shmbal_hold_info(), count: count)
        XCTAssertEqual(shmbal_holds(c, "KRAKEN", "USDC", -1, &list, list.count, &count), SHMBAL_OK.code)
        XCTAssertEqual(count, 10)
        for (h, e) in zip(core, list) {
            let id = withUnsafeBytes(of: e.id) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            XCTAssertEqual(id, h.id.description)
            XCTAssertEqual(Int(e.index), h.index)
            XCTAssertEqual(e.amount.raw, h.amount.raw, id)
            XCTAssertEqual(e.original.raw, h.original.raw, id)
            XCTAssertEqual(e.created_micros, h.createdMicros)
            XCTAssertEqual(e.expires_micros, h.expiresMicros ?? 0)
            XCTAssertEqual(e.expired != 0, h.expired)
        }
        XCTAssertEqual(shmbal_holds(c, "KRAKEN", "USDC", 3, &list, list.count, &count), SHMBAL_OK.code)
        XCTAssertEqual(count, core.filter { $0.index == 3 }.count)

        let record = try books.get(key)
        var s = shmbal_slot_holds()
        XCTAssertEqual(shmbal_get_slot_holds(c, "KRAKEN", "USDC", &s), SHMBAL_OK.code)
        XCTAssertEqual(Int(s.strategy_count), record.strategyCount)
        XCTAssertEqual(Int(s.op_id_window), Layout.minOpIdWindow)
        XCTAssertEqual(Int(s.op_ids_remembered), record.opIdsRemembered)
        XCTAssertEqual(s.op_count, record.state.opCount)
        let budget = withUnsafeBytes(of: s.budget) { Array($0.bindMemory(to: shmbal_amount.self)) }
        let held = withUnsafeBytes(of: s.held) { Array($0.bindMemory(to: shmbal_amount.self)) }
        let free = withUnsafeBytes(of: s.free) { Array($0.bindMemory(to: shmbal_amount.self)) }
        let counts = withUnsafeBytes(of: s.hold_count) { Array($0.bindMemory(to: Int32.self)) }
        XCTAssertEqual(budget.prefix(6).map(\.raw), record.slots.map(\.raw))
        XCTAssertEqual(held.prefix(6).map(\.raw), record.held.map(\.raw))
        XCTAssertEqual(free.prefix(6).map(\.raw), record.free.map(\.raw))
        XCTAssertEqual(counts.prefix(6).map(Int.init), record.holdCounts)
        XCTAssertTrue(budget.dropFirst(6).allSatisfy { $0.raw == 0 } && counts.dropFirst(6).allSatisfy { $0 == 0 }, "past the count: 0")
    }

    /// The header's function count (the release library exports exactly these: InstallTests), and
    /// every one of them defined in the library the tests built.
    func testTheHeadersFunctionsAreExported() throws {
        let header = try InstallTests.headerFunctions()
        XCTAssertEqual(header.count, Self.exportCount, "shmbalance.h declares \(header.count) functions: \(header.sorted())")
        let built = Set(try InstallTests.exportedSymbols(libraryPath))
        XCTAssertEqual(header.subtracting(built), [], "declared in shmbalance.h but not defined in libshmbalance.so")
    }
}

extension shmbal_amount {
    var raw: Int128 { Int128(hi) << 64 | Int128(lo) }
}
