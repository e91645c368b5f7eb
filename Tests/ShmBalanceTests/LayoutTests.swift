@testable import ShmBalance
import XCTest

/// The derived offsets of Layout.swift against the diagram (and docs/layout.md): version 4 files
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
            ("fixedPointDecimals", Layout.Header.fixedPointDecimals, 84), ("holdCapacity", Layout.Header.holdCapacity, 88),
            ("opIdWindow", Layout.Header.opIdWindow, 92), ("holdEntrySize", Layout.Header.holdEntrySize, 96),
            ("opEntrySize", Layout.Header.opEntrySize, 100), ("extensionsOffset", Layout.Header.extensionsOffset, 104),
            ("geometryChecksum", Layout.Header.geometryChecksum, 112), ("checksummedBytes", Layout.Header.checksummedBytes, 112), ("recordCount", Layout.Header.recordCount, 128),
            ("quoteCount", Layout.Header.quoteCount, 136), ("ringHead", Layout.Header.ringHead, 192),
            ("tableMutex", Layout.Header.tableMutex, 256), ("quoteMutex", Layout.Header.quoteMutex, 320),
            ("defaultExchangeGeneration", Layout.Header.defaultExchangeGeneration, 384), ("defaultExchange", Layout.Header.defaultExchange, 400),
        ]
        let record: [(String, Int, Int)] = [
            ("exchange", Layout.Record.exchange, 0), ("currency", Layout.Record.currency, 16), ("mutex", Layout.Record.mutex, 64),
            ("generation", Layout.Record.generation, 128),
            ("slotChangedMicros", Layout.Record.slotChangedMicros, 192), ("states", Layout.Record.states, 768),
            ("size", Layout.Record.size, 7680),
        ]
        let state: [(String, Int, Int)] = [
            ("strategyCount", Layout.State.strategyCount, 0), ("lastIndex", Layout.State.lastIndex, 4), ("epoch", Layout.State.epoch, 8),
            ("opCount", Layout.State.opCount, 16), ("lastChangeMicros", Layout.State.lastChangeMicros, 24),
            ("lastChangePid", Layout.State.lastChangePid, 32), ("pairMark", Layout.State.pairMark, 40),
            ("creditLimit", Layout.State.creditLimit, 48), ("slots", Layout.State.slots, 64), ("names", Layout.State.names, 1088),
            ("namesSize", Layout.State.namesSize, 1024), ("held", Layout.State.held, 2112), ("holdCounts", Layout.State.holdCounts, 3136),
            ("opSeq", Layout.State.opSeq, 3392), ("holdSerial", Layout.State.holdSerial, 3400),
            ("earliestExpiry", Layout.State.earliestExpiry, 3408), ("holdBooksSize", Layout.State.holdBooksSize, 1304), ("size", Layout.State.size, 3456),
        ]
        let hold: [(String, Int, Int)] = [
            ("id", Layout.Hold.id, 0), ("openGen", Layout.Hold.openGen, 32), ("closeGen", Layout.Hold.closeGen, 40),
            ("amount", Layout.Hold.amount, 48), ("original", Layout.Hold.original, 64), ("createdMicros", Layout.Hold.createdMicros, 80),
            ("expiresMicros", Layout.Hold.expiresMicros, 88), ("packed", Layout.Hold.packed, 96), ("size", Layout.Hold.size, 112),
        ]
        let opEntry: [(String, Int, Int)] = [
            ("opId", Layout.OpEntry.opId, 0), ("seq", Layout.OpEntry.seq, 32), ("packed", Layout.OpEntry.packed, 40),
            ("amount", Layout.OpEntry.amount, 48), ("second", Layout.OpEntry.second, 64), ("argDigest", Layout.OpEntry.argDigest, 80),
            ("detail", Layout.OpEntry.detail, 88), ("after", Layout.OpEntry.after, 104), ("size", Layout.OpEntry.size, 128),
        ]
        // The extension with the default capacities (1,024 holds, 4,096 op ids), as docs/layout.md gives it.
        let (h, w) = (Geometry.defaultHoldCapacity, Geometry.defaultOpIdWindow)
        let ext: [(String, Int, Int)] = [
            ("holds", Layout.Extension.holds, 0), ("holdIndex", Layout.Extension.holdIndex(h), 114_816),
            ("holdIndexBuckets", Layout.Extension.indexBuckets(Layout.Extension.holdEntries(h)), 4096),
            ("ops", Layout.Extension.ops(h), 131_200), ("opIndex", Layout.Extension.opIndex(h, w), 655_616),
            ("opIndexBuckets", Layout.Extension.indexBuckets(Layout.Extension.opEntries(w)), 16_384),
            ("size", Layout.Extension.size(h, w), 721_152),
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
        for (table, rows) in [("Header", header), ("Record", record), ("State", state), ("Hold", hold), ("OpEntry", opEntry),
                              ("Extension", ext), ("Quote", quote), ("Ring", ring)] {
            for (name, actual, expected) in rows { XCTAssertEqual(actual, expected, "\(table).\(name)") }
        }
        XCTAssertLessThanOrEqual(Layout.Header.usedBytes, Layout.Header.size)
        XCTAssertLessThanOrEqual(Layout.pthreadMutexBytes, Layout.mutexWaitingHint, "the hint lies after the mutex")
        XCTAssertEqual(Layout.Quote.copySize, 4 * 8)
        XCTAssertEqual(Geometry.defaults.segmentSize, 4096 + 64 * 7680 + 1024 * 128 + 4096 * 128 + 64 * 721_152)
        XCTAssertEqual(Geometry.defaults.segmentSize, 47_304_704, "docs/layout.md")
        XCTAssertEqual(Geometry.defaults.extensionsOffset, Geometry.defaults.ringOffset + 4096 * 128)
        XCTAssertLessThanOrEqual(Layout.State.holdSerial + 8, Layout.State.size)
    }

    func testThePackedWordsRoundTrip() {
        // The count is bits 0…29; bit 30 says some hold has a ttl, bit 31 is the fence. Every reader
        // masks both but the hot pair's checks: allocate's keeps both, release's the expiry bit.
        for count in [0, 2, 8, 64, 70, (1 << 30) - 1] {
            for last in [0, 1, 63] {
                for fenced in [false, true] {
                    for expiry in [false, true] {
                        let w = HeadWord.pack(count: count, lastIndex: last, fenced: fenced) | (expiry ? HeadWord.expiryBit : 0)
                        XCTAssertEqual(HeadWord.count(w), count)
                        XCTAssertEqual(HeadWord.lastIndex(w), last)
                        XCTAssertEqual(HeadWord.fenced(w), fenced)
                        XCTAssertEqual(HeadWord.mayExpire(w), expiry)
                        XCTAssertEqual(HeadWord.countForAllocate(w) > 64, fenced || expiry || count > 64, "fenced or expiring: out of allocate's range")
                        XCTAssertEqual(HeadWord.countForRelease(w) > 64, expiry || count > 64, "expiring: out of release's range; the fence is not")
                        XCTAssertEqual(HeadWord.pack(count: HeadWord.countWord(w), lastIndex: last), w, "a commit writes both bits back")
                    }
                }
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
