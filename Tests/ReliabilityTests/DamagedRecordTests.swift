import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: `check` flags every broken thing a reader can see; a corrupt record never stops the
/// others from being listed, checked, shown or saved; `reconcile`/`reset` can repair it. The
/// damage is written straight into the segment file, as a bug or a hand edit would leave it.
final class DamagedRecordTests: XCTestCase {
    let exchange = ["--exchange", "KRAKEN"]

    /// Writes into record `index`'s published state copy.
    func damage(_ seg: String, record index: Int, _ edit: (UnsafeMutableRawPointer) -> Void) throws {
        let fd = open(seg, O_RDWR)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let size = Int(lseek(fd, 0, SEEK_END))
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), base != MAP_FAILED else { return XCTFail("mmap") }
        defer { munmap(base, size) }
        let record = base + Layout.Header.size + index * Layout.Record.size
        let g = record.load(fromByteOffset: Layout.Record.generation, as: UInt64.self)
        edit(record + Layout.Record.states + Int(g & 1) * Layout.State.size)
    }

    func addRaw(_ state: UnsafeMutableRawPointer, slot: Int, _ delta: Int128) {
        let o = Layout.State.slots + 16 * slot
        let v = state.load(fromByteOffset: o, as: Int128.self) + delta
        state.storeBytes(of: v, toByteOffset: o, as: Int128.self)
    }

    func testCheckFlagsEveryKindOfDamageAndTheOthersStillWork() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        for (c, n) in [("USDC", "1000"), ("BTC", "2"), ("USD", "500"), ("EUR", "300"), ("GBP", "10")] {
            XCTAssertEqual(try runShmbal(["reset", c, n, "--strategies", "4", "--segment", seg] + exchange).status, 0)
        }
        XCTAssertEqual(try runShmbal(["allocate", "USD", "2", "100", "--segment", seg] + exchange).status, 0)
        try damage(seg, record: 1) { $0.storeBytes(of: UInt32(70), toByteOffset: Layout.State.strategyCount, as: UInt32.self) }  // BTC
        try damage(seg, record: 2) { s in  // USD: budget #3 at −1 unit, the pool +1: the identity still holds
            self.addRaw(s, slot: 3, -1)
            self.addRaw(s, slot: 1, 1)
        }
        try damage(seg, record: 3) { s in  // EUR: #2 beyond the largest storable amount
            s.storeBytes(of: Amount.limit + 1, toByteOffset: Layout.State.slots + 32, as: Int128.self)
        }
        try damage(seg, record: 4) { self.addRaw($0, slot: 1, 1) }  // GBP: identity broken by one unit

        let check = try runShmbal(["check", "--segment", seg])
        XCTAssertEqual(check.status, 6, check.err)
        let lines = check.out.split(separator: "\n").map(String.init)
        func line(_ c: String) -> String { lines.first { $0.hasPrefix("KRAKEN \(c):") } ?? "" }
        XCTAssertEqual(line("USDC"), "KRAKEN USDC: ok")
        XCTAssertTrue(line("BTC").contains("strategy count 70 is outside 2…64"), check.out)
        XCTAssertTrue(line("USD").contains("#3 has a negative budget"), check.out)
        XCTAssertTrue(line("EUR").contains("slot #2 holds more than the largest storable amount"), check.out)
        XCTAssertTrue(line("GBP").contains("identity broken: total differs from pool + budgets by -0.000000000000000001"), check.out)
        XCTAssertTrue(check.out.contains("5 records checked, 4 broken"), check.out)

        // Listed, shown and saved despite the damage next door.
        let list = try runShmbal(["list", "--segment", seg])
        XCTAssertEqual(list.status, 0, list.err)
        XCTAssertEqual(list.out.split(separator: "\n").count, 6, list.out)
        let frame = try runShmbal(["top", "--once", "--width", "120", "--height", "30", "--segment", seg])
        XCTAssertEqual(frame.status, 0, frame.err)
        XCTAssertTrue(frame.out.contains("USDC") && frame.out.contains("BTC"), frame.out)
        let snap = dir.file("snap")
        let save = try runShmbal(["snapshot", "save", snap, "--segment", seg])
        XCTAssertEqual(save.status, 6, save.err)
        XCTAssertTrue(save.out.contains("saved 1 records"), save.out)
        for c in ["BTC", "USD", "EUR", "GBP"] { XCTAssertTrue(save.err.contains("KRAKEN \(c): not saved"), save.err) }
        // What save writes, restore takes (the same rules decide both).
        let restored = dir.file("restored")
        let restore = try runShmbal(["snapshot", "restore", snap, "--segment", restored])
        XCTAssertEqual(restore.status, 0, restore.err)

        // Each is repaired by the commands an operator has.
        let gbp = try runShmbal(["reconcile", "GBP", "10", "--segment", seg, "--json"] + exchange)
        XCTAssertEqual(gbp.status, 0, gbp.err)
        XCTAssertTrue(gbp.out.contains("\"outcome\":\"identity-repaired\""), gbp.out)
        XCTAssertEqual(try runShmbal(["reset", "BTC", "2", "--segment", seg] + exchange).status, 0)
        let usd = try runShmbal(["reconcile", "USD", "500", "--segment", seg, "--json"] + exchange)
        XCTAssertTrue(usd.out.contains("\"outcome\":\"reset\""), "a negative budget cannot be kept: \(usd.out) \(usd.err)")
        XCTAssertEqual(try runShmbal(["reconcile", "EUR", "300", "--segment", seg] + exchange).status, 0)
        let after = try runShmbal(["check", "--segment", seg])
        XCTAssertEqual(after.status, 0, after.out)
        let btc = try runShmbal(["get", "BTC", "--json", "--segment", seg] + exchange)
        XCTAssertTrue(btc.out.contains("\"strategyCount\":8"), "a damaged count is reset to the default: \(btc.out)")
    }

    /// Other writes are refused on a damaged record with the repair named, and change nothing.
    func testWritesOtherThanTheRepairsRefuseADamagedRecord() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        XCTAssertEqual(try runShmbal(["reset", "BTC", "2", "--strategies", "4", "--segment", seg] + exchange).status, 0)
        try damage(seg, record: 0) { $0.storeBytes(of: UInt32(0), toByteOffset: Layout.State.strategyCount, as: UInt32.self) }
        let before = try Data(contentsOf: URL(fileURLWithPath: seg))
        for args in [["allocate", "BTC", "2", "1"], ["release", "BTC", "2", "1"], ["adjust", "BTC", "1"], ["set", "BTC", "1"], ["credit", "BTC", "1"], ["name", "BTC", "2", "x"]] {
            let r = try runShmbal(args + ["--segment", seg] + exchange)
            XCTAssertEqual(r.status, 4, "\(args): \(r.err)")
            XCTAssertTrue(r.err.contains("reset it to repair"), r.err)
        }
        let after = try Data(contentsOf: URL(fileURLWithPath: seg))
        // Only the activity ring may have moved (refusals are not recorded for damage): the records are untouched.
        XCTAssertEqual(before[Layout.Header.size..<(Layout.Header.size + Layout.Record.size)], after[Layout.Header.size..<(Layout.Header.size + Layout.Record.size)])
    }
}
