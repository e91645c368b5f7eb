@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// The books the holds and op-id tests start from: KRAKEN USDC, total 10000 over 5 slots, the
/// budgets of `startingBudgets` allocated, in a segment with the smallest hold and op-id tables.
class HoldsTestCase: XCTestCase {
    var seg: TempSegment!
    var books: Books!
    let usdc = key("USDC")

    /// Slot → budget allocated at set-up (the rest stays in the pool).
    var startingBudgets: [(Int, String)] { [(2, "2000"), (3, "1000")] }

    override func setUpWithError() throws {
        seg = TempSegment()
        books = try seg.books(.readWriteCreating(geometry: Geometry(recordCapacity: 8, quoteCapacity: 16, ringCapacity: 64,
                                                                     holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)))
        try books.reset(usdc, balance: Amount("10000"), strategyCount: 5)
        for (i, budget) in startingBudgets { try books.allocate(usdc, index: i, Amount(budget)) }
    }

    override func tearDown() {
        books = nil
        seg = nil
    }

    func id(_ s: String) -> HoldId { try! HoldId(s) }
    func slots() throws -> [String] { try books.get(usdc).slots.map(\.exactText) }
}
