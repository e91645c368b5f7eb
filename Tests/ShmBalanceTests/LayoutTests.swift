@testable import ShmBalance
import XCTest

/// The derived offsets of Layout.swift against the diagram (and docs/layout.md): version 2 files
/// written by any earlier build must keep meaning the same bytes. Checked once, here.
final class LayoutTests: XCTestCase {
    func testEveryOffsetIsWhereTheDiagramSays() {
        let header: [(String, Int, Int)] = [
            ("magic", Layout.Header.magic, 0), ("layoutVersion", Layout.Header.layoutVersion, 8), ("headerSize", Layout.Header.headerSize, 12),
            ("segmentSize", Layout.Header.segmentSize, 16), ("recordCapacity", Layout.Header.recordCapacity, 24),
            ("recordSize", Layout.Header.recordSize, 28), ("quoteCapacity", Layout.Header.quoteCapacity, 32),
            ("quoteSize", Layout.Header.quoteSize, 36), ("ringCapacity", Layout.Header.ringCapacity, 40),
            ("ringEntrySize", Layout.Header.ringEntrySize, 44), ("recordsOffset", Layout.Header.recordsOffset, 48),
            ("quotesOffset", Layout.Header.quotesOffset, 56), ("ringOffset", Layout.Header.ringOffset, 64),
            ("createdMicros", Layout.Header.createdMicros, 72), ("creatorPid", Layout.Header.creatorPid, 80),
            ("fixedPointDecimals", Layout.Header.fixedPointDecimals, 84), ("geometryChecksum", Layout.Header.geometryChecksum, 88),
            ("checksummedBytes", Layout.Header.checksummedBytes, 88), ("recordCount", Layout.Header.recordCount, 128),
            ("quoteCount", Layout.Header.quoteCount, 136), ("ringHead", Layout.Header.ringHead, 192),
            ("tableMutex", Layout.Header.tableMutex, 256), ("quoteMutex", Layout.Header.quoteMutex, 320),
            ("defaultExchangeGeneration", Layout.Header.defaultExchangeGeneration, 384), ("defaultExchange", Layout.Header.defaultExchange, 400),
        ]
        let record: [(String, Int, Int)] = [
            ("exchange", Layout.Record.exchange, 0), ("currency", Layout.Record.currency, 16), ("mutex", Layout.Record.mutex, 64),
            ("generation", Layout.Record.generation, 128),
            ("slotChangedMicros", Layout.Record.slotChangedMicros, 192), ("states", Layout.Record.states, 768),
            ("size", Layout.Record.size, 4992),
        ]
        let state: [(String, Int, Int)] = [
            ("strategyCount", Layout.State.strategyCount, 0), ("lastIndex", Layout.State.lastIndex, 4), ("epoch", Layout.State.epoch, 8),
            ("opCount", Layout.State.opCount, 16), ("lastChangeMicros", Layout.State.lastChangeMicros, 24),
            ("lastChangePid", Layout.State.lastChangePid, 32), ("pairMark", Layout.State.pairMark, 40),
            ("creditLimit", Layout.State.creditLimit, 48), ("slots", Layout.State.slots, 64), ("names", Layout.State.names, 1088),
            ("namesSize", Layout.State.namesSize, 1024), ("size", Layout.State.size, 2112),
        ]
        let quote: [(String, Int, Int)] = [
            ("exchange", Layout.Quote.exchange, 0), ("dataType", Layout.Quote.dataType, 16), ("currency", Layout.Quote.currency, 32),
            ("generation", Layout.Quote.generation, 48), ("copies", Layout.Quote.copies, 64), ("size", Layout.Quote.size, 128),
        ]
        let ring: [(String, Int, Int)] = [
            ("stamp", Layout.Ring.stamp, 0), ("timeMicros", Layout.Ring.timeMicros, 8), ("pid", Layout.Ring.pid, 16),
            ("epoch", Layout.Ring.epoch, 24), ("exchange", Layout.Ring.exchange, 32), ("currency", Layout.Ring.currency, 48),
            ("amount", Layout.Ring.amount, 64), ("detail", Layout.Ring.detail, 80), ("after", Layout.Ring.after, 96),
            ("entrySize", Layout.Ring.entrySize, 128),
        ]
        for (table, rows) in [("Header", header), ("Record", record), ("State", state), ("Quote", quote), ("Ring", ring)] {
            for (name, actual, expected) in rows { XCTAssertEqual(actual, expected, "\(table).\(name)") }
        }
        XCTAssertLessThanOrEqual(Layout.Header.usedBytes, Layout.Header.size)
        XCTAssertLessThanOrEqual(Layout.pthreadMutexBytes, Layout.mutexWaitingHint, "the hint lies after the mutex")
        XCTAssertEqual(Layout.Quote.copySize, 4 * 8)
        XCTAssertEqual(Geometry.defaults.segmentSize, 4096 + 256 * 4992 + 1024 * 128 + 4096 * 128)
    }

    func testThePackedWordsRoundTrip() {
        for count in [0, 2, 8, 64, 70, Int(UInt32.max)] {
            for last in [0, 1, 63] {
                let w = HeadWord.pack(count: count, lastIndex: last)
                XCTAssertEqual(HeadWord.count(w), count)
                XCTAssertEqual(HeadWord.lastIndex(w), last)
            }
        }
        let w = RingWord.pack(pid: -5, operation: 9, outcome: 13, index: 63)
        XCTAssertEqual(RingWord.pid(w), -5)
        XCTAssertEqual(RingWord.operation(w), 9)
        XCTAssertEqual(RingWord.outcome(w), 13)
        XCTAssertEqual(RingWord.index(w), 63)
        XCTAssertNil(RingWord.index(RingWord.pack(pid: 1, operation: 1, outcome: 0, index: -1)))
        XCTAssertNil(RingWord.index(RingWord.pack(pid: 1, operation: 1, outcome: 0, index: 64)))
    }
}
