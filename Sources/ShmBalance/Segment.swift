import CShmBalanceSys
import Glibc
import SystemPackage

/// One mapped segment file. Creating, validating and mapping happen here and nowhere else;
/// every system call goes through `valueOrErrno` (Sys.swift) and fails with a `SegmentError`
/// naming the path.
public final class Segment: @unchecked Sendable {
    public let path: String
    public let isReadOnly: Bool
    public let geometry: Geometry
    public let createdMicros: Int64
    public let creatorPid: Int32
    /// The start of the mapping. Only the core's accessors read or write through it.
    @usableFromInline let base: UnsafeMutableRawPointer
    /// This mapping's entry in the process's registry of mappings (mapping.c): the file's identity
    /// for the removal checks, the range for the SIGBUS handler.
    @usableFromInline let mappingId: Int32
    /// Where each record's hold table and op-id ring are, computed once per open; `Books` keeps
    /// the pointer, not the 104 bytes, so that a `Books` stays small to copy.
    @usableFromInline let extensions: UnsafeMutablePointer<ExtensionGeometry>

    /// How often a writer looks at the file behind its mapping (a stat of the path): a removed or
    /// replaced segment is noticed by the first write this long after the change at the latest.
    public static let fileCheckIntervalMicros = Int(SHMBAL_FILE_CHECK_US)

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

    private init(path: String, readOnly: Bool, geometry: Geometry, base: UnsafeMutableRawPointer, mappingId: Int32) {
        self.path = path
        self.isReadOnly = readOnly
        self.geometry = geometry
        self.base = base
        self.mappingId = mappingId
        self.createdMicros = base.load(fromByteOffset: Layout.Header.createdMicros, as: Int64.self)
        self.creatorPid = base.load(fromByteOffset: Layout.Header.creatorPid, as: Int32.self)
        extensions = .allocate(capacity: 1)
        extensions.initialize(to: ExtensionGeometry(base, geometry))
    }

    deinit {
        extensions.deinitialize(count: 1)
        extensions.deallocate()
        shmbal_mapping_unregister(mappingId)
        munmap(base, geometry.segmentSize)
    }

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
    /// file, and no process can ever see a half-initialised segment at `path`. Its space is
    /// reserved (`posix_fallocate`) before anything is written: a full `/dev/shm` fails here, with
    /// a message, instead of with SIGBUS in some writer later (a sparse file on tmpfs gets its
    /// pages only when first touched).
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
            throw .system(path, "create", error as? Errno ?? .ioError)
        }
        var linked = false
        defer {
            _ = try? fd.close()
            if !linked { unlink(temp) }
        }
        do {
            // The umask must not weaken or change the mode asked for (0660 for a group).
            _ = try valueOrErrno { fchmod(fd.rawValue, mode_t(mode)) }
        } catch { throw .system(path, "fchmod", error) }
        do {
            try errorCodeOrErrno { posix_fallocate(fd.rawValue, 0, off_t(geometry.segmentSize)) }
        } catch {
            if error == .noSpace {
                throw .full(path: path, what: "file system (reserving \(geometry.segmentSize) bytes for the segment)")
            }
            throw .system(path, "posix_fallocate", error)
        }
        let base = try map(fd: fd.rawValue, size: geometry.segmentSize, readOnly: false, path: path)
        do {
            try initialise(base, geometry: geometry, path: path)
        } catch {
            munmap(base, geometry.segmentSize)
            throw error
        }
        do { _ = try valueOrErrno { link(temp, path) } } catch {
            munmap(base, geometry.segmentSize)
            if error == .fileExists { throw .exists(path: path) }
            throw .system(path, "link", error)
        }
        linked = true
        unlink(temp)
        return try registered(path: path, readOnly: false, geometry: geometry, base: base, fd: fd.rawValue)
    }

    /// Registers a fresh mapping (the removal checks, the SIGBUS handler) and wraps it.
    private static func registered(path: String, readOnly: Bool, geometry: Geometry, base: UnsafeMutableRawPointer, fd: Int32) throws(SegmentError) -> Segment {
        let id = shmbal_mapping_register(base, geometry.segmentSize, readOnly ? 0 : 1, fd, path)
        guard id >= 0 else {
            munmap(base, geometry.segmentSize)
            if -id == EMFILE { throw .tooManyMappings(path: path, limit: Int(SHMBAL_MAX_MAPPINGS)) }
            throw .system(path, "fstat", Errno(rawValue: -id))
        }
        return Segment(path: path, readOnly: readOnly, geometry: geometry, base: base, mappingId: id)
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
        base.storeBytes(of: UInt32(g.holdCapacity), toByteOffset: Layout.Header.holdCapacity, as: UInt32.self)
        base.storeBytes(of: UInt32(g.opIdWindow), toByteOffset: Layout.Header.opIdWindow, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.Hold.size), toByteOffset: Layout.Header.holdEntrySize, as: UInt32.self)
        base.storeBytes(of: UInt32(Layout.OpEntry.size), toByteOffset: Layout.Header.opEntrySize, as: UInt32.self)
        base.storeBytes(of: UInt64(g.extensionsOffset), toByteOffset: Layout.Header.extensionsOffset, as: UInt64.self)
        let sum = fnv1a(UnsafeRawBufferPointer(start: base, count: Layout.Header.checksummedBytes))
        base.storeBytes(of: sum, toByteOffset: Layout.Header.geometryChecksum, as: UInt64.self)
        // Each activity slot as if entry (slot + 1 − capacity) had been completed in it, so the first
        // writer of every slot finds exactly the stamp it expects (`Books.appendActivity`).
        let capacity = UInt64(g.ringCapacity)
        for slot in 0..<g.ringCapacity {
            let stamp = RingStamp.complete(UInt64(slot + 1) &- capacity)
            base.storeBytes(of: stamp, toByteOffset: g.ringOffset + slot * Layout.Ring.entrySize + Layout.Ring.stamp, as: UInt64.self)
        }
        for offset in [Layout.Header.tableMutex, Layout.Header.quoteMutex] {
            let rc = shmbal_mutex_init_robust_shared((base + offset).assumingMemoryBound(to: pthread_mutex_t.self))
            guard rc == 0 else { throw .system(path, "pthread_mutex_init", Errno(rawValue: rc)) }
        }
    }

    private static func map(fd: Int32, size: Int, readOnly: Bool, path: String) throws(SegmentError) -> UnsafeMutableRawPointer {
        let prot = readOnly ? PROT_READ : (PROT_READ | PROT_WRITE)
        guard let p = mmap(nil, size, prot, MAP_SHARED, fd, 0), p != MAP_FAILED else {
            throw .system(path, "mmap", Errno(rawValue: errno))
        }
        return p
    }

    /// Opens an existing segment, validating everything in the header before mapping it.
    private static func attach(_ path: String, readOnly: Bool) throws(SegmentError) -> Segment {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), readOnly ? .readOnly : .readWrite, options: [.noFollow, .closeOnExec])
        } catch {
            let e = error as? Errno ?? .ioError
            if e == .noSuchFileOrDirectory { throw .notFound(path: path) }
            throw .system(path, "open", e)
        }
        defer { _ = try? fd.close() }

        var st = Glibc.stat()
        do { _ = try valueOrErrno { fstat(fd.rawValue, &st) } } catch { throw .system(path, "fstat", error) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notASegment(path: path, why: "not a regular file") }
        let fileSize = Int(st.st_size)
        if fileSize == 0 { throw .notASegment(path: path, why: "the file is empty") }

        var header = [UInt8](repeating: 0, count: Layout.Header.size)
        var got = 0
        var readError: Errno?
        header.withUnsafeMutableBytes { h in
            do throws(Errno) { got = try valueOrErrno { pread(fd.rawValue, h.baseAddress, Layout.Header.size, 0) } } catch { readError = error }
        }
        if let readError { throw .system(path, "read", readError) }
        let checked = header.withUnsafeBytes { h in
            Result { () throws(SegmentError) in try validateHeader(h, bytesRead: got, fileSize: fileSize, path: path) }
        }
        let geometry = try checked.get()
        let base = try map(fd: fd.rawValue, size: geometry.segmentSize, readOnly: readOnly, path: path)
        let segment = try registered(path: path, readOnly: readOnly, geometry: geometry, base: base, fd: fd.rawValue)
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
                         ringCapacity: u32(Layout.Header.ringCapacity), holdCapacity: u32(Layout.Header.holdCapacity),
                         opIdWindow: u32(Layout.Header.opIdWindow))
        if let why = g.problem { throw .corrupt(path: path, why: why) }
        guard u32(Layout.Header.headerSize) == Layout.Header.size, u32(Layout.Header.recordSize) == Layout.Record.size,
              u32(Layout.Header.quoteSize) == Layout.Quote.size, u32(Layout.Header.ringEntrySize) == Layout.Ring.entrySize,
              u32(Layout.Header.fixedPointDecimals) == Int(Layout.fixedPointDecimals),
              u32(Layout.Header.holdEntrySize) == Layout.Hold.size, u32(Layout.Header.opEntrySize) == Layout.OpEntry.size,
              u64(Layout.Header.extensionsOffset) == g.extensionsOffset,
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

    /// What has become of the file behind this mapping, looked at now (a stat of the path).
    public var fileState: FileState {
        switch shmbal_mapping_check_file(mappingId) {
        case SHMBAL_MAPPING_REMOVED: return .removed
        case SHMBAL_MAPPING_REPLACED: return .replaced
        case SHMBAL_MAPPING_TRUNCATED: return .truncated
        default: return .intact
        }
    }

    /// The file behind a mapping (SPEC §4 "the file's own life").
    public enum FileState: Sendable, Equatable {
        case intact
        /// Nothing at the path any more: writes are refused (nobody else could see them).
        case removed
        /// Another file at the path: this process maps the old one.
        case replaced
        /// Shorter than the segment: the missing part is zeros here, and nothing read from it counts.
        case truncated
    }

    /// This state as the error an operation fails with (nil when intact).
    public var fileError: SegmentError? {
        switch fileState {
        case .intact: return nil
        case .removed: return .removed(path: path)
        case .replaced: return .replaced(path: path)
        case .truncated: return .truncated(path: path)
        }
    }
}
