import ShmBalance
import ShmBalanceTestSupport

/// A segment holding `count` currencies (the default geometry holds 64 records, so it is made
/// bigger, with small hold and op-id tables: the dashboard reads neither): `T000`… with the first fifth on BINANCE and the rest on KRAKEN, 4 slots each, amounts
/// as in `Fixture.many`, and 100 allocated to slot #2 of each.
func manySegment(_ count: Int = 500) throws -> (TempSegment, Books) {
    let segment = TempSegment()
    let geometry = Geometry(recordCapacity: count + 64, quoteCapacity: Geometry.defaults.quoteCapacity,
                            ringCapacity: Geometry.defaults.ringCapacity, holdCapacity: Layout.minHolds, opIdWindow: Layout.minOpIdWindow)
    let books = try segment.books(.readWriteCreating(geometry: geometry))
    for i in 0..<count {
        let k = manyKey(i, of: count)
        try books.reset(k, balance: Amount(String((i * 7919) % 1000 * 10 + 100)), strategyCount: 4)
        try books.allocate(k, index: 2, Amount("100"))
    }
    return (segment, books)
}

func manyKey(_ i: Int, of count: Int = 500) -> BookKey {
    let name = "T" + String(repeating: "0", count: max(0, 3 - String(i).count)) + String(i)
    return key(name, i < count / 5 ? "BINANCE" : "KRAKEN")
}
