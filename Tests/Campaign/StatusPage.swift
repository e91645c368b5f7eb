import Atomics
import Glibc

/// A small shared file the campaign's processes use to talk: per writer which fault point it is
/// at, whether the killer armed it to park there, and its counters; the reader's counters; the
/// stop flag. Every field is an 8-byte atomic.
struct StatusPage: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    static let size = 4096
    static let slotSize = 128

    enum Field: Int {
        // Per writer (offset slotSize * (1 + writer)):
        case arm = 0, phase, record, ops, pid, maxOpNs, violations, refused
        // The holds campaign's writers: acknowledged calls sent again with their op id, and reused ids.
        case replays, reuses
        // Global (offset 0):
        static let stop = 0, snapshots = 1, readerViolations = 2, readerPid = 3, readerMaxReadNs = 4, sideChecks = 5
    }

    /// Phase values: 0 outside a commit; 1…3 the last fault point reached in this operation;
    /// parkedFlag | point while parked at an armed point.
    static let parkedFlag: UInt64 = 0x10

    static func create(_ path: String) -> StatusPage {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fail("cannot create status file \(path): errno \(errno)") }
        guard ftruncate(fd, off_t(size)) == 0 else { fail("ftruncate status file: errno \(errno)") }
        return map(fd)
    }

    static func attach(_ path: String) -> StatusPage {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { fail("cannot open status file \(path): errno \(errno)") }
        return map(fd)
    }

    private static func map(_ fd: Int32) -> StatusPage {
        defer { close(fd) }
        guard let p = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), p != MAP_FAILED else { fail("mmap status file: errno \(errno)") }
        return StatusPage(base: p)
    }

    private func atomic(_ offset: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic<UInt64>(at: (base + offset).assumingMemoryBound(to: UInt64.AtomicRepresentation.self))
    }

    func writer(_ w: Int, _ f: Field) -> UnsafeAtomic<UInt64> { atomic(StatusPage.slotSize * (1 + w) + 8 * f.rawValue) }
    func global(_ index: Int) -> UnsafeAtomic<UInt64> { atomic(8 * index) }

    var stopped: Bool { global(Field.stop).load(ordering: .acquiring) != 0 }
}
