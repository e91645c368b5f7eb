import Glibc

// Reading a config file: plain open/read (no Foundation in this target: a CLI call pays ~5 ms
// for it at start-up), and no further than TOMLLimits.fileBytes, so a huge file or an endless
// one (`/dev/zero`, a FIFO nobody closes is the caller's business) costs bounded memory.

enum ConfigFileBytes {
    /// The file's bytes, or why they cannot be had (one line, for a ConfigError).
    static func read(_ path: String) -> Result<[UInt8], ReadFailure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadFailure(errno: errno)) }
        defer { close(fd) }
        var info = Glibc.stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            return .failure(ReadFailure(errno: EISDIR))
        }
        var bytes: [UInt8] = []
        if info.st_size > 0 { bytes.reserveCapacity(min(Int(info.st_size), TOMLLimits.fileBytes) + 1) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while bytes.count <= TOMLLimits.fileBytes {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(ReadFailure(errno: errno))
            }
            if n == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return .failure(ReadFailure(tooLarge: true))
    }

    struct ReadFailure: Error {
        var errno: Int32 = 0
        var tooLarge = false

        var message: String {
            if tooLarge { return "the file is larger than \(TOMLLimits.fileBytes >> 20) MiB; a config file is never that big" }
            return "cannot read the file (\(String(cString: strerror(errno))))"
        }
    }
}
