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

    /// The header's function count (the release library exports exactly these: InstallTests), and
    /// every one of them defined in the library the tests built.
    func testTheHeadersFunctionsAreExported() throws {
        let header = try InstallTests.headerFunctions()
        XCTAssertEqual(header.count, Self.exportCount, "shmbalance.h declares \(header.count) functions: \(header.sorted())")
        let built = Set(try InstallTests.exportedSymbols(libraryPath))
        XCTAssertEqual(header.subtracting(built), [], "declared in shmbalance.h but not defined in libshmbalance.so")
    }
}
