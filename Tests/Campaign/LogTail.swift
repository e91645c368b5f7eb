import Glibc

/// The complete lines appended to a writer's log since the last read (a writer may have been
/// killed mid-line: a line without its newline is left for the next read, or for good).
struct LogTail {
    let path: String
    /// How far the complete lines read so far reach.
    private(set) var offset = 0

    init(path: String) { self.path = path }

    /// The new complete lines, or an error text when the log exists but cannot be read.
    mutating func read() -> Result<[ArraySlice<UInt8>], LogTailError> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT ? .success([]) : .failure(LogTailError(errno: errno)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var at = offset
        while true {
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(at)) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
            at += n
        }
        guard let lastNewline = bytes.lastIndex(of: 10) else { return .success([]) }
        offset += lastNewline + 1
        return .success(bytes[0...lastNewline].split(separator: 10))
    }
}

struct LogTailError: Error {
    var errno: Int32
}
