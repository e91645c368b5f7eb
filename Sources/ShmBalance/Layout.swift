// The byte layout of a segment, layout version 1. Every offset any code uses is a named constant
// here; docs/layout.md repeats this diagram for C++ and Python readers. Change anything below and
// bump `Layout.version`: a process built for another version refuses to attach.
//
//  Every mutex below sits in a 64-byte slot: the pthread_mutex_t (40 B on x86_64, 48 B on aarch64)
//  at its start and, at +56, an 8-byte "waiting" hint (a writer spinning for that mutex; see
//  `lockRobust`), zero when nobody waits.
//
//  Segment file (little-endian, x86_64 / aarch64 Linux)
//  ┌──────────────────────────────── 0
//  │ Header                     4096 B  magic, version, geometry (checksummed), counters, table locks
//  ├──────────────────────────────── recordsOffset = 4096
//  │ Record[recordCapacity]  4992 B each  balance records, append-only, keyed (exchange, currency)
//  ├──────────────────────────────── quotesOffset
//  │ Quote[quoteCapacity]     128 B each  quote table, append-only, keyed (exchange, dataType, currency)
//  ├──────────────────────────────── ringOffset
//  │ RingEntry[ringCapacity]  128 B each  activity ring (capacity a power of two)
//  └──────────────────────────────── segmentSize
//
//  Header                                   Record (one per (exchange, currency))
//  off size field                           off  size  field
//    0   8  magic "SHMBAL\0\0"                 0   16  exchange (ASCII, NUL-padded)
//    8   4  layoutVersion = 1                 16   16  currency
//   12   4  headerSize = 4096                 64   64  mutex: robust, process-shared pthread_mutex_t
//   16   8  segmentSize                      128    8  generation: the published state is states[gen & 1]
//   24   4  recordCapacity                   136    8  namesGeneration: the published names are names[ng & 1]
//   28   4  recordSize = 4992                192  512  slotChangedMicros[64] (informational, relaxed)
//   32   4  quoteCapacity                    768 1088  states[0] ┐ two copies of State (the "latch"):
//   36   4  quoteSize = 128                 1856 1088  states[1] ┘ a writer fills the unpublished one
//   40   4  ringCapacity                    2944 1024  names[0] ┐ 64 slot names × 16 B, two copies
//   44   4  ringEntrySize = 128             3968 1024  names[1] ┘
//   48   8  recordsOffset                   4992       end
//   56   8  quotesOffset
//   64   8  ringOffset                      State (one copy)
//   72   8  createdMicros                     0    4  strategyCount (2…64)
//   80   4  creatorPid                        4    4  lastIndex: slot the last operation changed
//   84   4  fixedPointDecimals = 18           8    8  epoch: +1 on every reset
//   88   8  geometryChecksum (FNV-1a 0..<88) 16    8  opCount: applied mutations
//  128   8  recordCount (published, atomic)  24    8  lastChangeMicros
//  136   8  quoteCount (published, atomic)   32    4  lastChangePid
//  192   8  ringHead: last sequence taken    36    4  (reserved)
//                                            40    8  pairMark: pairMark(gen) when an allocate/release
//                                                     published this copy (see `Layout.pairMark`)
//  256  64  tableMutex: creates records      48   16  creditLimit (Int128, 10^-18 units)
//  320  64  quoteMutex: writes quotes        64 1024  slots[64] (Int128, 10^-18 units)
//  384   8  defaultExchangeGeneration
//  400  32  defaultExchange[2] (2 copies)   Quote                    RingEntry
//                                             0 16 exchange          0  8 stamp (= sequence when complete)
//                                            16 16 dataType          8  8 timeMicros
//                                            32 16 currency         16  4 pid
//                                            48  8 generation       20  1 operation   21 1 outcome
//                                            64 32 copies[0]        22  1 index       23 1 (reserved)
//                                            96 32 copies[1]        24  8 epoch after the operation
//                                         copy: timestamp i64,      32 16 exchange    48 16 currency
//                                         localTimestamp i64,       64 16 amount (argument, Int128)
//                                         mid f64 bits, pid i64     80 16 detail (limit hit, Δ, …)
//                                                                   96 16 after (the slot's new value)

/// Named offsets and sizes of layout version 1.
public enum Layout {
    public static let magic: UInt64 = 0x0000_4C41_424D_4853  // "SHMBAL\0\0" read little-endian
    public static let version: UInt32 = 1
    public static let fixedPointDecimals: UInt32 = 18

    public enum Header {
        public static let size = 4096
        public static let magic = 0
        public static let layoutVersion = 8
        public static let headerSize = 12
        public static let segmentSize = 16
        public static let recordCapacity = 24
        public static let recordSize = 28
        public static let quoteCapacity = 32
        public static let quoteSize = 36
        public static let ringCapacity = 40
        public static let ringEntrySize = 44
        public static let recordsOffset = 48
        public static let quotesOffset = 56
        public static let ringOffset = 64
        public static let createdMicros = 72
        public static let creatorPid = 80
        public static let fixedPointDecimals = 84
        public static let geometryChecksum = 88
        /// The checksum covers bytes 0..<checksummedBytes.
        public static let checksummedBytes = 88
        public static let recordCount = 128
        public static let quoteCount = 136
        public static let ringHead = 192
        public static let tableMutex = 256
        public static let quoteMutex = 320
        public static let defaultExchangeGeneration = 384
        public static let defaultExchange = 400
    }

    public enum Record {
        public static let size = 4992
        public static let exchange = 0
        public static let currency = 16
        public static let mutex = 64
        public static let generation = 128
        public static let namesGeneration = 136
        public static let slotChangedMicros = 192
        public static let states = 768
        public static let names = 2944
        public static let namesSize = 1024
    }

    public enum State {
        public static let size = 1088
        public static let strategyCount = 0
        public static let lastIndex = 4
        public static let epoch = 8
        public static let opCount = 16
        public static let lastChangeMicros = 24
        public static let lastChangePid = 32
        /// `Layout.pairMark(g)` when the allocate/release that published this copy at generation `g`
        /// built it from the other copy by changing only the pool, slot `lastIndex` and the stamp;
        /// anything else (0 from every other writer) makes the next commit copy the state in full.
        public static let pairMark = 40
        public static let creditLimit = 48
        public static let slots = 64
        /// Bytes before the slots that a commit copies (count, epoch, counters, credit).
        public static let headBytes = 64
    }

    public enum Quote {
        public static let size = 128
        public static let exchange = 0
        public static let dataType = 16
        public static let currency = 32
        public static let generation = 48
        public static let copies = 64
        public static let copySize = 32
    }

    public enum Ring {
        public static let entrySize = 128
        public static let stamp = 0
        public static let timeMicros = 8
        public static let pid = 16
        public static let operation = 20
        public static let outcome = 21
        public static let index = 22
        public static let epoch = 24
        public static let exchange = 32
        public static let currency = 48
        public static let amount = 64
        public static let detail = 80
        public static let after = 96
    }

    /// The value of `State.pairMark` that vouches for a copy published at `generation` (never 0,
    /// so zeroed memory and stale marks from earlier generations never match).
    @inlinable @inline(__always)
    public static func pairMark(_ generation: UInt64) -> UInt64 { generation ^ 0x5041_4952_4D41_524B }

    /// Slots per record (the seed's `strategies[64]`).
    public static let slotCount = 64
    public static let minStrategyCount = 2
    public static let defaultStrategyCount = 8
    public static let pthreadMutexBytes = 40
    /// Offset of the waiting hint inside every 64-byte mutex slot (after the pthread_mutex_t).
    public static let mutexWaitingHint = 56

    /// Bounds on capacities, so a corrupt header cannot ask for absurd sizes.
    public static let maxRecords = 65_536
    public static let maxQuotes = 1 << 20
    public static let maxRingEntries = 1 << 22
}

/// How many records, quotes and activity entries a segment holds, and where each area starts.
public struct Geometry: Sendable, Equatable {
    public var recordCapacity: Int
    public var quoteCapacity: Int
    public var ringCapacity: Int

    public static let defaults = Geometry(recordCapacity: 256, quoteCapacity: 1024, ringCapacity: 4096)

    public init(recordCapacity: Int, quoteCapacity: Int, ringCapacity: Int) {
        self.recordCapacity = recordCapacity
        self.quoteCapacity = quoteCapacity
        self.ringCapacity = ringCapacity
    }

    public var recordsOffset: Int { Layout.Header.size }
    public var quotesOffset: Int { recordsOffset + recordCapacity * Layout.Record.size }
    public var ringOffset: Int { quotesOffset + quoteCapacity * Layout.Quote.size }
    public var segmentSize: Int { ringOffset + ringCapacity * Layout.Ring.entrySize }

    /// Nil when valid, else why not.
    public var problem: String? {
        if recordCapacity < 1 || recordCapacity > Layout.maxRecords { return "record capacity \(recordCapacity) is outside 1…\(Layout.maxRecords)" }
        if quoteCapacity < 1 || quoteCapacity > Layout.maxQuotes { return "quote capacity \(quoteCapacity) is outside 1…\(Layout.maxQuotes)" }
        if ringCapacity < 16 || ringCapacity > Layout.maxRingEntries || ringCapacity & (ringCapacity - 1) != 0 {
            return "activity ring capacity \(ringCapacity) must be a power of two in 16…\(Layout.maxRingEntries)"
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
