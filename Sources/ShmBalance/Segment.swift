import CShmBalanceSys
import Glibc
import SystemPackage

/// One mapped segment file. Creating, validating and mapping happen here and nowhere else;
/// every system call is checked once and fails with a `SegmentError` naming the path.
public final class Segment: @unchecked Sendable {
    public let path: String
    public let isReadOnly: Bool
    public let geometry: Geometry
    public let createdMicros: Int64
    public let creatorPid: Int32
    /// The start of the mapping. Only the core's accessors read or write through it.
    @usableFromInline let base: UnsafeMutableRawPointer

    /// The path used when neither `--segment` nor `$SHMBAL_SEGMENT` names one.
    public static let defaultPath = "/dev/shm/shmbal"

    /// `explicit`, else `$SHMBAL_SEGMENT`, else `/dev/shm/shmbal`.
    ///
    /// An explicit path that is empty or only whitespace is bad input, never the default (SPEC §4):
    /// `--segment ""` from a script whose variable was unset must not write the shared books.
    /// An empty `$SHMBAL_SEGMENT` counts as unset (the shell idiom `SHMBAL_SEGMENT= cmd`); one of
    /// only whitespace is refused like an explicit one.
    public static func resolvePath(_ explicit: String?) throws(SegmentError) -> String {
        if let p = explicit {
            guard !isBlank(p) else { throw .badPath(path: p, why: "the segment path is empty; name a file, or leave the option out for the default") }
            return p
        }
        if let e = getenv("SHMBAL_SEGMENT"), e.pointee != 0 {
            let p = String(cString: e)
            guard !isBlank(p) else { throw .badPath(path: p, why: "$SHMBAL_SEGMENT holds only whitespace; name a file, or unset it for the default") }
            return p
        }
        return defaultPath
    }

    private static func isBlank(_ p: String) -> Bool { p.utf8.allSatisfy { $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) } }

    /// Nil when `mode` is one a segment may have: read and write for the owner, optionally the same
    /// or read for the group, nothing for others (the books are never world-readable or writable).
    public static func modeProblem(_ mode: UInt32) -> String? {
        if mode & ~UInt32(0o777) != 0 { return "mode \(String(mode, radix: 8)) is not a file mode (octal, e.g. 0600 or 0660)" }
        if mode & 0o007 != 0 { return "mode 0\(String(mode, radix: 8)) grants access to others; a segment is for its owner and, optionally, a group (0600 or 0660)" }
        if mode & 0o600 != 0o600 { return "mode 0\(String(mode, radix: 8)) does not let the owner read and write the segment (use 0600 or 0660)" }
        return nil
    }

    private init(path: String, readOnly: Bool, geometry: Geometry, base: UnsafeMutableRawPointer) {
        self.path = path
        self.isReadOnly = readOnly
        self.geometry = geometry
        self.base = base
        self.createdMicros = base.load(fromByteOffset: Layout.Header.createdMicros, as: Int64.self)
        self.creatorPid = base.load(fromByteOffset: Layout.Header.creatorPid, as: Int32.self)
    }

    deinit { munmap(base, geometry.segmentSize) }

    public enum AccessMode: Sendable, Equatable {
        /// Map read-only (PROT_READ): nothing through this mapping can write.
        case readOnly
        /// Map read-write; never creates.
        case readWrite
        /// Map read-write, creating the segment with `geometry` and `mode` when the path is free.
        case readWriteCreating(geometry: Geometry = .defaults, mode: UInt32 = 0o600)
    }

    /// Attaches to the segment at `path` (see `AccessMode`).
    public static func open(_ path: String, _ access: AccessMode) throws(SegmentError) -> Segment {
        switch access {
        case .readOnly: return try attach(path, readOnly: true)
        case .readWrite: return try attach(path, readOnly: false)
        case .readWriteCreating(let geometry, let mode):
            do {
                return try attach(path, readOnly: false)
            } catch .notFound {
                do {
                    return try create(path, geometry: geometry, mode: mode)
                } catch .exists {
                    // Another process created it between our two calls: use theirs.
                    return try attach(path, readOnly: false)
                }
            }
        }
    }

    /// Creates a new segment at `path`; fails with `.exists` if anything is there already.
    ///
    /// The file is built complete under a temporary name in the same directory and then
    /// hard-linked into place: `link` never follows a symlink and never replaces an existing
    /// file, and no process can ever see a half-initialised segment at `path`.
    public static func create(_ path: String, geometry: Geometry = .defaults, mode: UInt32 = 0o600) throws(SegmentError) -> Segment {
        if let why = geometry.problem { throw .corrupt(path: path, why: why) }
        if let why = modeProblem(mode) { throw .badPath(path: path, why: why) }
        let temp = temporaryName(for: path)
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(
                FilePath(temp), .readWrite, options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
                permissions: FilePermissions(rawValue: CModeT(mode)))
        } catch {
            throw .system(path: path, call: "create", errno: (error as? Errno)?.rawValue ?? EIO)
        }
        var linked = false
        defer {
            _ = try? fd.close()
            if !linked { unlink(temp) }
        }
        // The umask must not weaken or change the mode asked for (0660 for a group).
        guard fchmod(fd.rawValue, mode_t(mode)) == 0 else { throw .system(path: path, call: "fchmod", errno: errno) }
        do { try fd.resize(to: Int64(geometry.segmentSize)) } catch {
            throw .system(path: path, call: "ftruncate", errno: (error as? Errno)?.rawValue ?? EIO)
        }
        let base = try map(fd: fd.rawValue, size: geometry.segmentSize, readOnly: false, path: path)
        do {
            try initialise(base, geometry: geometry, path: path)
        } catch {
            munmap(base, geometry.segmentSize)
            throw error
        }
        guard link(temp, path) == 0 else {
            let e = errno
            munmap(base, geometry.segmentSize)
            if e == EEXIST { throw .exists(path: path) }
            throw .system(path: path, call: "link", errno: e)
        }
        linked = true
        unlink(temp)
        return Segment(path: path, readOnly: false, geometry: geometry, base: base)
    }

    private static func temporaryName(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(dir.isEmpty ? "" : dir)/.\(name).new.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    }

    private static func initialise(_ base: UnsafeMutableRawPointer, geometry g: Geometry, path: String) throws(SegmentError) {
        // ftruncate gave us zeros; only the non-zero fields are written.
        base.storeBytes(of: Layout.magic, toByteOffset: Layout.Header.magic, as: UInt64.self)
        base.storeBytes(of: Layout.version, toByteOffset: Layout.Header.layoutVersion, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.Header.size), toByteOffset: Layout.Header.headerSize, as: UInt32.self)
        base.storeBytes(of: UInt64(g.segmentSize), toByteOffset: Layout.Header.segmentSize, as: UInt64.self)
        base.storeBytes(of: UInt32(g.recordCapacity), toByteOffset: Layout.Header.recordCapacity, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.Record.size), toByteOffset: Layout.Header.recordSize, as: UInt32.self)
        base.storeBytes(of: UInt32(g.quoteCapacity), toByteOffset: Layout.Header.quoteCapacity, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.Quote.size), toByteOffset: Layout.Header.quoteSize, as: UInt32.self)
        base.storeBytes(of: UInt32(g.ringCapacity), toByteOffset: Layout.Header.ringCapacity, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.Ring.entrySize), toByteOffset: Layout.Header.ringEntrySize, as: UInt32.self)
        base.storeBytes(of: UInt64(g.recordsOffset), toByteOffset: Layout.Header.recordsOffset, as: UInt64.self)
        base.storeBytes(of: UInt64(g.quotesOffset), toByteOffset: Layout.Header.quotesOffset, as: UInt64.self)
        base.storeBytes(of: UInt64(g.ringOffset), toByteOffset: Layout.Header.ringOffset, as: UInt64.self)
        base.storeBytes(of: shmbal_now_micros(), toByteOffset: Layout.Header.createdMicros, as: Int64.self)
        base.storeBytes(of: getpid(), toByteOffset: Layout.Header.creatorPid, as: Int32.self)
        base.storeBytes(of: Layout.fixedPointDecimals, toByteOffset: Layout.Header.fixedPointDecimals, as: UInt32.self)
        let sum = fnv1a(UnsafeRawBufferPointer(start: base, count: Layout.Header.checksummedBytes))
        base.storeBytes(of: sum, toByteOffset: Layout.Header.geometryChecksum, as: UInt64.self)
        for offset in [Layout.Header.tableMutex, Layout.Header.quoteMutex] {
            let rc = shmbal_mutex_init_robust_shared((base + offset).assumingMemoryBound(to: pthread_mutex_t.self))
            guard rc == 0 else { throw .system(path: path, call: "pthread_mutex_init", errno: rc) }
        }
    }

    private static func map(fd: Int32, size: Int, readOnly: Bool, path: String) throws(SegmentError) -> UnsafeMutableRawPointer {
        let prot = readOnly ? PROT_READ : (PROT_READ | PROT_WRITE)
        guard let p = mmap(nil, size, prot, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw .system(path: path, call: "mmap", errno: errno)
        }
        return p
    }

    /// Opens an existing segment, validating everything in the header before mapping it.
    private static func attach(_ path: String, readOnly: Bool) throws(SegmentError) -> Segment {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), readOnly ? .readOnly : .readWrite, options: [.noFollow, .closeOnExec])
        } catch {
            let e = (error as? Errno)?.rawValue ?? EIO
            if e == ENOENT { throw .notFound(path: path) }
            throw .system(path: path, call: "open", errno: e)
        }
        defer { _ = try? fd.close() }

        var st = Glibc.stat()
        guard fstat(fd.rawValue, &st) == 0 else { throw .system(path: path, call: "fstat", errno: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notASegment(path: path, why: "not a regular file") }
        let fileSize = Int(st.st_size)
        if fileSize == 0 { throw .notASegment(path: path, why: "the file is empty") }

        var header = [UInt8](repeating: 0, count: Layout.Header.size)
        let got = header.withUnsafeMutableBytes { pread(fd.rawValue, $0.baseAddress, Layout.Header.size, 0) }
        guard got >= 0 else { throw .system(path: path, call: "read", errno: errno) }
        let checked = header.withUnsafeBytes { h in
            Result { () throws(SegmentError) in try validateHeader(h, bytesRead: got, fileSize: fileSize, path: path) }
        }
        let geometry = try checked.get()
        let base = try map(fd: fd.rawValue, size: geometry.segmentSize, readOnly: readOnly, path: path)
        let segment = Segment(path: path, readOnly: readOnly, geometry: geometry, base: base)
        // Counters are not checksummed (they change); a value beyond capacity means damage. They
        // are unsigned in the file: one with the top bit set reads as a negative Int, which must
        // be refused too, or every later `0..<count` would trap (found by the segment fuzzer).
        if !(0...geometry.recordCapacity).contains(segment.publishedRecordCount)
            || !(0...geometry.quoteCapacity).contains(segment.publishedQuoteCount) {
            throw .corrupt(path: path, why: "record or quote count exceeds its capacity")
        }
        return segment
    }

    static func validateHeader(_ h: UnsafeRawBufferPointer, bytesRead: Int, fileSize: Int, path: String) throws(SegmentError) -> Geometry {
        guard bytesRead >= 8, h.load(fromByteOffset: Layout.Header.magic, as: UInt64.self) == Layout.magic else {
            throw .notASegment(path: path, why: "no ShmBalance magic at the start; \(fileSize) bytes")
        }
        guard bytesRead >= Layout.Header.size else {
            throw .corrupt(path: path, why: "truncated: \(fileSize) bytes, shorter than the \(Layout.Header.size)-byte header")
        }
        let version = h.load(fromByteOffset: Layout.Header.layoutVersion, as: UInt32.self)
        guard version == Layout.version else { throw .wrongVersion(path: path, found: version) }
        let sum = fnv1a(UnsafeRawBufferPointer(rebasing: h[0..<Layout.Header.checksummedBytes]))
        guard sum == h.load(fromByteOffset: Layout.Header.geometryChecksum, as: UInt64.self) else {
            throw .corrupt(path: path, why: "header checksum mismatch")
        }
        func u32(_ o: Int) -> Int { Int(h.load(fromByteOffset: o, as: UInt32.self)) }
        func u64(_ o: Int) -> Int { Int(truncatingIfNeeded: h.load(fromByteOffset: o, as: UInt64.self)) }
        let g = Geometry(recordCapacity: u32(Layout.Header.recordCapacity), quoteCapacity: u32(Layout.Header.quoteCapacity),
                         ringCapacity: u32(Layout.Header.ringCapacity))
        if let why = g.problem { throw .corrupt(path: path, why: why) }
        guard u32(Layout.Header.headerSize) == Layout.Header.size, u32(Layout.Header.recordSize) == Layout.Record.size,
              u32(Layout.Header.quoteSize) == Layout.Quote.size, u32(Layout.Header.ringEntrySize) == Layout.Ring.entrySize,
              u32(Layout.Header.fixedPointDecimals) == Int(Layout.fixedPointDecimals),
              u64(Layout.Header.recordsOffset) == g.recordsOffset, u64(Layout.Header.quotesOffset) == g.quotesOffset,
              u64(Layout.Header.ringOffset) == g.ringOffset, u64(Layout.Header.segmentSize) == g.segmentSize
        else { throw .corrupt(path: path, why: "header sizes and offsets disagree") }
        if fileSize < g.segmentSize {
            throw .corrupt(path: path, why: "truncated: \(fileSize) bytes of \(g.segmentSize)")
        }
        if fileSize > g.segmentSize {
            throw .corrupt(path: path, why: "\(fileSize) bytes, more than the \(g.segmentSize) its header describes")
        }
        return g
    }
}
