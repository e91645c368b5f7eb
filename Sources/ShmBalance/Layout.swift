// The byte layout of a segment, layout version 4. Every offset any code uses is a named constant
// here; docs/layout.md repeats this diagram for C++ and Python readers. Change anything below and
// bump `Layout.version`: a process built for another version refuses to attach.
//
// Version 2 (from 1): a record's slot names live inside each copy of its state, so one release
// store publishes a record's money and names together (a `config apply` killed between two
// stores could leave a record with new limits and old names). The record size is unchanged.
//
// Version 3 (from 2): holds and operation ids (docs/holds.md). Each state copy gains per-slot held
// sums, hold counts and the op-id sequence (published with the money by the same store); the
// header gains the hold and op-id capacities; each record gets an extension (hold table, op-id
// ring, their indexes) in a new area after the activity ring, so the record stays small.
//
//  Every mutex below sits in a 64-byte slot: the pthread_mutex_t (40 B on x86_64, 48 B on aarch64)
//  at its start and, at +56, an 8-byte "waiting" hint (a writer spinning for that mutex; see
//  `Books.acquire`), zero when nobody waits.
//
//  Segment file (little-endian, x86_64 / aarch64 Linux)
//  ┌──────────────────────────────── 0
//  │ Header                     4096 B  magic, version, geometry (checksummed), counters, table locks
//  ├──────────────────────────────── recordsOffset = 4096
//  │ Record[recordCapacity]  7680 B each  balance records, append-only, keyed (exchange, currency)
//  ├──────────────────────────────── quotesOffset
//  │ Quote[quoteCapacity]     128 B each  quote table, append-only, keyed (exchange, dataType, currency)
//  ├──────────────────────────────── ringOffset
//  │ RingEntry[ringCapacity]  128 B each  activity ring (capacity a power of two)
//  ├──────────────────────────────── extensionsOffset
//  │ Extension[recordCapacity]            per record: holds, hold index, op-id ring, op-id index
//  └──────────────────────────────── segmentSize
//
//  Header                                   Record (one per (exchange, currency))
//  off size field                           off  size  field
//    0   8  magic "SHMBAL\0\0"                 0   16  exchange (ASCII, NUL-padded)
//    8   4  layoutVersion = 4                 16   16  currency
//   12   4  headerSize = 4096                 64   64  mutex: robust, process-shared pthread_mutex_t
//   16   8  segmentSize                      128    8  generation: the published state is states[gen & 1]
//   24   4  recordCapacity                   136   56  (reserved)
//   28   4  recordSize = 7680                192  512  slotChangedMicros[64] (informational, relaxed)
//   32   4  quoteCapacity                    768 3456  states[0] ┐ two copies of State (the "latch"):
//   36   4  quoteSize = 128                 4224 3456  states[1] ┘ a writer fills the unpublished one
//   40   4  ringCapacity                    7680       end
//   44   4  ringEntrySize = 128
//   48   8  recordsOffset                   State (one copy)
//   56   8  quotesOffset                      0    8  head word: strategyCount (2…64) | lastIndex << 32
//   64   8  ringOffset                        8    8  epoch: +1 on every reset
//   72   8  createdMicros                    16    8  opCount: applied mutations
//   80   4  creatorPid                       24    8  lastChangeMicros
//   84   4  fixedPointDecimals = 18          32    4  lastChangePid   36 4 (reserved)
//   88   4  holdCapacity                     40    8  pairMark: pairMark(gen) when an allocate/release
//   92   4  opIdWindow                                published this copy (see `Layout.pairMark`)
//   96   4  holdEntrySize = 112              48   16  creditLimit (Int128, 10^-18 units)
//  100   4  opEntrySize = 128                64 1024  slots[64] (Int128, 10^-18 units)
//  104   8  extensionsOffset               1088 1024  names[64] (16 B each, NUL-padded ASCII)
//  112   8  geometryChecksum (FNV 0..<112) 2112 1024  held[64] (Int128: Σ open holds of the slot)
//  128   8  recordCount (published, atomic) 3136  256  holdCount[64] (u32)
//  136   8  quoteCount (published, atomic) 3392    8  opSeq: op-id entries published
//  192   8  ringHead: last sequence taken  3400    8  holdSerial: holds ever opened
//  256  64  tableMutex: creates records    3408    8  earliestExpiry (µs; 0 none)  3416 40 (reserved)
//  320  64  quoteMutex: writes quotes      3456       end
//  384   8  defaultExchangeGeneration
//  400  32  defaultExchange[2] (2 copies)   Quote                    RingEntry
//                                             0 16 exchange          0  8 stamp: 2·seq complete, 2·seq+1 writing
//                                            16 16 dataType          8  8 timeMicros
//                                            32 16 currency         16  8 packed: pid | op << 32 | outcome << 40 | index << 48
//                                            48  8 generation       24  8 epoch after the operation
//                                            64 32 copies[0]        32 16 exchange    48 16 currency
//                                            96 32 copies[1]        64 16 amount (argument, Int128)
//                                         copy: timestamp i64,      80 16 detail (limit hit, Δ, …)
//                                         localTimestamp i64,       96 16 after (the slot's new value)
//                                         mid f64 bits, pid i64
//
//  Extension (per record; H = holdCapacity, W = opIdWindow; see `Layout.Extension`)
//    0                 holds[H + 1]       112 B: id[32], openGen, closeGen, amount, original, created, expires, packed
//    holdIndex         u32[pow2(2(H+1))]   writer-only hash index of open holds (entry + 1; 0 empty)
//    ops               opEntry[W + 1]     128 B: opId[32], seq, packed, amount, fee, digest, detail, after
//    opIndex           u32[pow2(2(W+1))]   writer-only hash index of op ids

/// Named offsets and sizes of layout version 4.
///
/// Each offset is derived from the field before it (Aeron's `X_OFFSET = PREVIOUS_OFFSET +
/// SIZE_OF_PREVIOUS`), with the alignment padding said where it is; `LayoutTests` checks every value
/// against the diagram above (and so against files written by earlier builds of version 4).
public enum Layout {
    public static let magic: UInt64 = 0x0000_4C41_424D_4853  // "SHMBAL\0\0" read little-endian
    public static let version: UInt32 = 4
    public static let fixedPointDecimals: UInt32 = 18

    /// Bytes of one cache line here; hot words that different writers store to get lines of their own.
    public static let cacheLine = 64
    /// A robust mutex's slot: the pthread_mutex_t and, at `mutexWaitingHint`, the waiting hint.
    public static let mutexSlot = 64
    /// A `ShortName` in the file: 16 bytes, NUL-padded.
    public static let nameSize = 16
    /// An `Amount` in the file: one little-endian Int128.
    public static let amountSize = 16

    /// `offset` rounded up to a multiple of `alignment` (a power of two).
    @inlinable
    public static func aligned(_ offset: Int, _ alignment: Int) -> Int { (offset + alignment - 1) & ~(alignment - 1) }

    public enum Header {
        public static let size = 4096
        public static let magic = 0
        @inlinable public static var layoutVersion: Int { magic + 8 }
        @inlinable public static var headerSize: Int { layoutVersion + 4 }
        @inlinable public static var segmentSize: Int { headerSize + 4 }
        @inlinable public static var recordCapacity: Int { segmentSize + 8 }
        @inlinable public static var recordSize: Int { recordCapacity + 4 }
        @inlinable public static var quoteCapacity: Int { recordSize + 4 }
        @inlinable public static var quoteSize: Int { quoteCapacity + 4 }
        @inlinable public static var ringCapacity: Int { quoteSize + 4 }
        @inlinable public static var ringEntrySize: Int { ringCapacity + 4 }
        @inlinable public static var recordsOffset: Int { ringEntrySize + 4 }
        @inlinable public static var quotesOffset: Int { recordsOffset + 8 }
        @inlinable public static var ringOffset: Int { quotesOffset + 8 }
        @inlinable public static var createdMicros: Int { ringOffset + 8 }
        @inlinable public static var creatorPid: Int { createdMicros + 8 }
        @inlinable public static var fixedPointDecimals: Int { creatorPid + 4 }
        /// Open holds a record can have (version 3).
        @inlinable public static var holdCapacity: Int { fixedPointDecimals + 4 }
        /// Operation ids a record remembers (version 3).
        @inlinable public static var opIdWindow: Int { holdCapacity + 4 }
        @inlinable public static var holdEntrySize: Int { opIdWindow + 4 }
        @inlinable public static var opEntrySize: Int { holdEntrySize + 4 }
        @inlinable public static var extensionsOffset: Int { opEntrySize + 4 }
        /// The checksum covers bytes 0..<checksummedBytes: everything above it.
        @inlinable public static var checksummedBytes: Int { extensionsOffset + 8 }
        @inlinable public static var geometryChecksum: Int { checksummedBytes }
        // The counters change; they start a cache line of their own after the fixed geometry.
        @inlinable public static var recordCount: Int { aligned(geometryChecksum + 8, 2 * cacheLine) }
        @inlinable public static var quoteCount: Int { recordCount + 8 }
        /// Claimed by every activity append: a line of its own.
        @inlinable public static var ringHead: Int { aligned(quoteCount + 8, cacheLine) }
        @inlinable public static var tableMutex: Int { aligned(ringHead + 8, cacheLine) }
        @inlinable public static var quoteMutex: Int { tableMutex + mutexSlot }
        @inlinable public static var defaultExchangeGeneration: Int { quoteMutex + mutexSlot }
        @inlinable public static var defaultExchange: Int { aligned(defaultExchangeGeneration + 8, nameSize) }
        /// End of the used part of the header (the rest of its 4096 bytes is zero, reserved).
        @inlinable public static var usedBytes: Int { defaultExchange + 2 * nameSize }
    }

    public enum Record {
        public static let exchange = 0
        @inlinable public static var currency: Int { exchange + nameSize }
        /// The record's robust mutex, on a line of its own.
        @inlinable public static var mutex: Int { aligned(currency + nameSize, cacheLine) }
        /// The published state is states[generation & 1].
        @inlinable public static var generation: Int { mutex + mutexSlot }
        /// When each slot last changed (informational, relaxed, not part of the commit).
        @inlinable public static var slotChangedMicros: Int { aligned(generation + 8, cacheLine) }
        /// Two copies of `State` (the latch), starting on a 128-byte boundary (a pair of lines).
        @inlinable public static var states: Int { aligned(slotChangedMicros + 8 * slotCount, 2 * cacheLine) }
        @inlinable public static var size: Int { states + 2 * State.size }
    }

    public enum State {
        /// The head word: strategyCount in its low 32 bits, lastIndex above (see `HeadWord`).
        public static let strategyCount = 0
        @inlinable public static var lastIndex: Int { strategyCount + 4 }
        @inlinable public static var epoch: Int { lastIndex + 4 }
        @inlinable public static var opCount: Int { epoch + 8 }
        @inlinable public static var lastChangeMicros: Int { opCount + 8 }
        @inlinable public static var lastChangePid: Int { lastChangeMicros + 8 }
        /// `Layout.pairMark(g)` when the allocate/release that published this copy at generation `g`
        /// built it from the other copy by changing only the pool, slot `lastIndex` and the stamp;
        /// anything else (0 from every other writer) makes the next commit copy the state in full.
        @inlinable public static var pairMark: Int { lastChangePid + 8 }  // after 4 reserved bytes
        @inlinable public static var creditLimit: Int { pairMark + 8 }
        @inlinable public static var slots: Int { creditLimit + amountSize }
        /// Bytes before the slots that a commit copies (count, epoch, counters, credit).
        @inlinable public static var headBytes: Int { slots }
        /// The 64 slot names, published with the money (one store makes both visible).
        @inlinable public static var names: Int { slots + slotCount * amountSize }
        @inlinable public static var namesSize: Int { slotCount * nameSize }
        /// Σ of each slot's open holds (Int128), published with the budgets: free = budget − held.
        @inlinable public static var held: Int { names + namesSize }
        /// Open holds per slot (u32 each).
        @inlinable public static var holdCounts: Int { held + slotCount * amountSize }
        /// Op-id entries published: the window is the last `opIdWindow` of them (docs/holds.md).
        @inlinable public static var opSeq: Int { holdCounts + 4 * slotCount }
        /// Holds ever opened in this record (informational).
        @inlinable public static var holdSerial: Int { opSeq + 8 }
        /// No open hold expires before this (µs; 0: none has a ttl): lets a writer skip the expiry scan.
        @inlinable public static var earliestExpiry: Int { holdSerial + 8 }
        /// Bytes after the names that every full copy carries (held, counts, sequences).
        @inlinable public static var holdBooksSize: Int { earliestExpiry + 8 - held }
        /// Padded to a cache line, so the two copies never share one.
        @inlinable public static var size: Int { aligned(earliestExpiry + 8, cacheLine) }
    }

    /// One entry of a record's hold table (docs/holds.md: the visibility and reuse rules).
    public enum Hold {
        public static let idSize = 32
        public static let id = 0
        /// The record generation whose publish made the entry visible (0: never used).
        @inlinable public static var openGen: Int { id + idSize }
        /// 0 while open; else the generation whose publish closed it.
        @inlinable public static var closeGen: Int { openGen + 8 }
        /// What the hold still covers (Int128).
        @inlinable public static var amount: Int { closeGen + 8 }
        /// The amount it was opened with: a replay of the hold compares against it.
        @inlinable public static var original: Int { amount + amountSize }
        @inlinable public static var createdMicros: Int { original + amountSize }
        /// 0: no ttl.
        @inlinable public static var expiresMicros: Int { createdMicros + 8 }
        /// The slot in the low byte, flags above.
        @inlinable public static var packed: Int { expiresMicros + 8 }
        @inlinable public static var size: Int { aligned(packed + 16, amountSize) }  // 8 reserved bytes
    }

    /// One entry of a record's op-id ring.
    public enum OpEntry {
        public static let opId = 0
        /// Its number in the record's op-id sequence (live iff opSeq − window ≤ seq < opSeq).
        @inlinable public static var seq: Int { opId + Hold.idSize }
        /// operation | index << 8 | outcome << 16 | flags << 24.
        @inlinable public static var packed: Int { seq + 8 }
        @inlinable public static var amount: Int { packed + 8 }
        /// The second amount argument (a fill's fee).
        @inlinable public static var second: Int { amount + amountSize }
        /// FNV-1a over every argument (the hold id, the ttl, …): the same id with other arguments is refused.
        @inlinable public static var argDigest: Int { second + amountSize }
        /// The result: what a refusal's message shows, and the slot's value after.
        @inlinable public static var detail: Int { argDigest + 8 }
        @inlinable public static var after: Int { detail + amountSize }
        /// Low byte: what kind of result it was, where detail and after are not enough (a
        /// reconcile's outcome). Bit 8 set (`hashKnown`): bits 32…63 are the high half of the id's
        /// `IdIndex.hash`, so the writer that overwrites the entry drops it from the index without
        /// hashing the id again. Entries written before this (bit 8 clear) get their id hashed.
        @inlinable public static var resultKind: Int { after + amountSize }
        public static let hashKnown: UInt64 = 1 << 8
        @inlinable public static var size: Int { aligned(resultKind + 8, 2 * cacheLine) }
    }

    /// A record's extension: its hold table, op-id ring and their hash indexes. Its size depends on
    /// the capacities set at init, so these are functions of them.
    public enum Extension {
        /// Entries in the hold table: one spare, for a partial fill's copy-on-write.
        @inlinable public static func holdEntries(_ holdCapacity: Int) -> Int { holdCapacity + 1 }
        /// Entries in the op-id ring: one spare, written by the commit in progress.
        @inlinable public static func opEntries(_ opIdWindow: Int) -> Int { opIdWindow + 1 }
        /// Buckets of a hash index over `entries` entries (load ≤ 1/2).
        @inlinable public static func indexBuckets(_ entries: Int) -> Int {
            var n = 1
            while n < 2 * entries { n <<= 1 }
            return n
        }

        public static let holds = 0
        @inlinable public static func holdIndex(_ h: Int) -> Int { aligned(holds + holdEntries(h) * Hold.size, cacheLine) }
        @inlinable public static func ops(_ h: Int) -> Int { aligned(holdIndex(h) + 4 * indexBuckets(holdEntries(h)), cacheLine) }
        @inlinable public static func opIndex(_ h: Int, _ w: Int) -> Int { aligned(ops(h) + opEntries(w) * OpEntry.size, cacheLine) }
        @inlinable public static func size(_ h: Int, _ w: Int) -> Int { aligned(opIndex(h, w) + 4 * indexBuckets(opEntries(w)), 2 * cacheLine) }
    }

    public enum Quote {
        public static let exchange = 0
        @inlinable public static var dataType: Int { exchange + nameSize }
        @inlinable public static var currency: Int { dataType + nameSize }
        @inlinable public static var generation: Int { currency + nameSize }
        @inlinable public static var copies: Int { aligned(generation + 8, cacheLine) }
        /// One copy: timestamp i64, localTimestamp i64, mid (Double bits), writer's pid i64.
        public static let copySize = 32
        @inlinable public static var size: Int { copies + 2 * copySize }
    }

    public enum Ring {
        /// 2 × the entry's sequence number once it is complete, 2 × its writer's pid + 1 while it is written (`RingStamp`).
        public static let stamp = 0
        @inlinable public static var timeMicros: Int { stamp + 8 }
        /// The packed word: pid, operation, outcome, index (see `RingWord`).
        @inlinable public static var pid: Int { timeMicros + 8 }
        @inlinable public static var epoch: Int { pid + 8 }
        @inlinable public static var exchange: Int { epoch + 8 }
        @inlinable public static var currency: Int { exchange + nameSize }
        @inlinable public static var amount: Int { currency + nameSize }
        @inlinable public static var detail: Int { amount + amountSize }
        @inlinable public static var after: Int { detail + amountSize }
        @inlinable public static var entrySize: Int { aligned(after + amountSize, 2 * cacheLine) }
    }

    /// The value of `State.pairMark` that vouches for a copy published at `generation` (never 0,
    /// so zeroed memory and stale marks from earlier generations never match).
    @inlinable @inline(__always)
    public static func pairMark(_ generation: UInt64) -> UInt64 { generation ^ 0x5041_4952_4D41_524B }

    /// The value of `State.pairMark` that vouches for a copy a small commit (`Books.commitSmall`:
    /// a hold, fill, void, receive, or allocate/release with an op id) published at `generation`:
    /// it differs from the copy before it only in the total, the pool, slot `lastIndex`, that slot's
    /// held sum and hold-count word, the op-id sequence, the hold serial, the earliest expiry and
    /// the stamp.
    @inlinable @inline(__always)
    public static func deltaMark(_ generation: UInt64) -> UInt64 { generation ^ 0x4445_4C54_414D_524B }

    /// The value of `State.pairMark` that vouches for a copy a small commit published at
    /// `generation` changing only the total, the pool, slot `lastIndex`, the op-id sequence and the
    /// stamp (an allocate/release with an op id, a receive): the next commit copies 7 words, not
    /// `deltaMark`'s 12. A process that does not know this value copies in full, as for any other.
    @inlinable @inline(__always)
    public static func slotMark(_ generation: UInt64) -> UInt64 { generation ^ 0x534C_4F54_4D41_524B }

    /// The value of `State.pairMark` that vouches for a copy a small commit published at
    /// `generation` changing only slot `lastIndex`'s held sum and hold-count word, the hold serial,
    /// the earliest expiry, the op-id sequence and the stamp (a hold, a void): 6 words to copy.
    @inlinable @inline(__always)
    public static func heldMark(_ generation: UInt64) -> UInt64 { generation ^ 0x4845_4C44_4D41_524B }

    /// Slots per record (the seed's `strategies[64]`).
    public static let slotCount = 64
    public static let minStrategyCount = 2
    public static let defaultStrategyCount = 8
    public static let pthreadMutexBytes = 40
    /// Offset of the waiting hint inside every 64-byte mutex slot (after the pthread_mutex_t).
    public static let mutexWaitingHint = 56

    /// Bounds on capacities, so a corrupt header cannot ask for absurd sizes.
    public static let maxRecords = 65_536
    /// Bounds on the per-record tables (the low ones are for tests; SPEC §9 asks ≥ 1,024 / 4,096 by default).
    public static let minHolds = 16
    public static let maxHolds = 65_536
    public static let minOpIdWindow = 16
    public static let maxOpIdWindow = 65_536
    @inlinable public static var maxQuotes: Int { 1 << 20 }
    @inlinable public static var maxRingEntries: Int { 1 << 22 }
}

/// A state's head word: the strategy count (low 32 bits) and the slot the last operation changed
/// (bits 32…37). One pack, one unpack: every reader and writer goes through these.
public enum HeadWord {
    /// Bit 31 of the count word: the record is fenced (SPEC §10): its host's agent lost the ledger
    /// for longer than the lease's time-to-live, so `allocate` is refused (`RefusalCode.fenced`)
    /// while release, hold, fill, receive and the rest go on. Allocate's own check reads the count
    /// with this bit (`countForAllocate`), so a fenced record fails the range check it already
    /// makes and the fence costs the hot path nothing; every other reader masks it (`count`).
    public static let fencedBit: UInt64 = 1 << 31

    /// Bit 30 of the count word: some open hold has a ttl (the state's `earliestExpiry` is set).
    /// The hot pair checks the count with this bit in it (`countForAllocate`, `countForRelease`),
    /// so a record whose holds may expire fails the range check it already makes and takes the
    /// out-of-line path that voids the due ones: the expiry check costs allocate/release nothing.
    /// Every publish keeps it equal to `earliestExpiry != 0` (`Books.settleExpiryBit`, or the
    /// word carried over by commits that do not change the expiry); readers mask it (`count`).
    public static let expiryBit: UInt64 = 1 << 30

    /// `count` is a count word: the count, with `fencedBit` when fenced (commits write back the
    /// word they read, `countWord`, so the fence survives them).
    @inlinable @inline(__always)
    public static func pack(count: Int, lastIndex: Int) -> UInt64 {
        UInt64(truncatingIfNeeded: UInt32(truncatingIfNeeded: count)) | UInt64(truncatingIfNeeded: lastIndex & 63) << 32
    }

    @inlinable @inline(__always)
    public static func pack(count: Int, lastIndex: Int, fenced: Bool) -> UInt64 {
        pack(count: count, lastIndex: lastIndex) | (fenced ? fencedBit : 0)
    }

    /// The count as stored, without the fence and expiry bits (a damaged one may be outside 2…64: callers check).
    @inlinable @inline(__always)
    public static func count(_ word: UInt64) -> Int { Int(truncatingIfNeeded: word & 0x3FFF_FFFF) }

    /// The count word: the count with the fence and expiry bits, as a commit writes it back.
    @inlinable @inline(__always)
    public static func countWord(_ word: UInt64) -> Int { Int(truncatingIfNeeded: word & 0xFFFF_FFFF) }

    /// What allocate checks against 2…64: the count word, so that a fenced record, or one whose
    /// holds may expire, is out of range.
    @inlinable @inline(__always)
    public static func countForAllocate(_ word: UInt64) -> Int { countWord(word) }

    /// What release checks against 2…64: the count with the expiry bit (not the fence: release
    /// goes on while fenced).
    @inlinable @inline(__always)
    public static func countForRelease(_ word: UInt64) -> Int { Int(truncatingIfNeeded: word & 0x7FFF_FFFF) }

    @inlinable @inline(__always)
    public static func mayExpire(_ word: UInt64) -> Bool { word & expiryBit != 0 }

    @inlinable @inline(__always)
    public static func fenced(_ word: UInt64) -> Bool { word & fencedBit != 0 }

    @inlinable @inline(__always)
    public static func lastIndex(_ word: UInt64) -> Int { Int(truncatingIfNeeded: (word >> 32) & 63) }
}

/// An activity entry's packed word: pid (bits 0…31), operation (32…39), outcome (40…47: 0 applied,
/// else a `RefusalCode`), slot index (48…55: 0xFF when the entry is not about one slot).
public enum RingWord {
    public static let noIndex: UInt64 = 0xFF

    @inlinable @inline(__always)
    public static func pack(pid: Int32, operation: UInt8, outcome: UInt8, index: Int) -> UInt64 {
        let idx = index >= 0 && index < Layout.slotCount ? UInt64(index) : noIndex
        return UInt64(UInt32(bitPattern: pid)) | UInt64(operation) << 32 | UInt64(outcome) << 40 | idx << 48
    }

    @inlinable public static func pid(_ w: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: w)) }
    @inlinable public static func operation(_ w: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: w >> 32) }
    @inlinable public static func outcome(_ w: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: w >> 40) }
    /// nil when the entry is not about one slot.
    @inlinable public static func index(_ w: UInt64) -> Int? {
        let i = (w >> 48) & 0xFF
        return i == noIndex ? nil : Int(i)
    }
}

/// How many records, quotes and activity entries a segment holds, and where each area starts.
public struct Geometry: Sendable, Equatable {
    public var recordCapacity: Int
    public var quoteCapacity: Int
    public var ringCapacity: Int
    /// Open holds per record.
    public var holdCapacity: Int
    /// Operation ids each record remembers (its last this many mutations carrying one).
    public var opIdWindow: Int

    public static let defaultHoldCapacity = 1024
    public static let defaultOpIdWindow = 4096
    /// 64 records by default (256 before layout 3): each costs ~700 KB with its holds and op ids.
    public static let defaults = Geometry(recordCapacity: 64, quoteCapacity: 1024, ringCapacity: 4096)

    public init(recordCapacity: Int, quoteCapacity: Int, ringCapacity: Int,
                holdCapacity: Int = Geometry.defaultHoldCapacity, opIdWindow: Int = Geometry.defaultOpIdWindow) {
        self.recordCapacity = recordCapacity
        self.quoteCapacity = quoteCapacity
        self.ringCapacity = ringCapacity
        self.holdCapacity = holdCapacity
        self.opIdWindow = opIdWindow
    }

    public var recordsOffset: Int { Layout.Header.size }
    public var quotesOffset: Int { recordsOffset + recordCapacity * Layout.Record.size }
    public var ringOffset: Int { quotesOffset + quoteCapacity * Layout.Quote.size }
    public var extensionsOffset: Int { ringOffset + ringCapacity * Layout.Ring.entrySize }
    /// Bytes of one record's extension (hold table, op-id ring, indexes).
    public var extensionSize: Int { Layout.Extension.size(holdCapacity, opIdWindow) }
    public var segmentSize: Int { extensionsOffset + recordCapacity * extensionSize }

    /// Nil when valid, else why not.
    public var problem: String? {
        if recordCapacity < 1 || recordCapacity > Layout.maxRecords { return "record capacity \(recordCapacity) is outside 1…\(Layout.maxRecords)" }
        if quoteCapacity < 1 || quoteCapacity > Layout.maxQuotes { return "quote capacity \(quoteCapacity) is outside 1…\(Layout.maxQuotes)" }
        if ringCapacity < 16 || ringCapacity > Layout.maxRingEntries || ringCapacity & (ringCapacity - 1) != 0 {
            return "activity ring capacity \(ringCapacity) must be a power of two in 16…\(Layout.maxRingEntries)"
        }
        if holdCapacity < Layout.minHolds || holdCapacity > Layout.maxHolds { return "hold capacity \(holdCapacity) is outside \(Layout.minHolds)…\(Layout.maxHolds)" }
        if opIdWindow < Layout.minOpIdWindow || opIdWindow > Layout.maxOpIdWindow {
            return "op-id window \(opIdWindow) is outside \(Layout.minOpIdWindow)…\(Layout.maxOpIdWindow)"
        }
        return nil
    }
}

/// FNV-1a over the header's geometry bytes: a header damaged in place is noticed before it is trusted.
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in bytes {
        h ^= UInt64(b)
        h = h &* 0x0000_0100_0000_01B3
    }
    return h
}
