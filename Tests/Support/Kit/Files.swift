import Glibc

// Private folders, whole-file reads and one-write log lines, with Glibc only.

/// A private folder (mode 0700, under $TMPDIR or /tmp), removed with everything in it when this
/// handle goes away, unless `keep` is set.
public final class TempDir: @unchecked Sendable {
    public let path: String
    /// Leave the folder in place at the end (to look at what a failed run left).
    public var keep = false

    public init(_ tag: String = "test") {
        var base = "/tmp"
        if let t = getenv("TMPDIR"), t.pointee != 0 { base = String(cString: t) }
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/shmbal-\(tag)-\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp in \(base) failed: errno \(errno)") }
        path = String(cString: made)
    }

    /// A path inside the folder.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { if !keep { removeTree(path) } }
}

/// Removes `path` and, when it is a folder, everything inside it (symlinks are removed, never followed).
public func removeTree(_ path: String) {
    var st = Glibc.stat()
    guard lstat(path, &st) == 0 else { return }
    if st.st_mode & S_IFMT == S_IFDIR {
        if let dir = opendir(path) {
            var names: [String] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(dir)
            for name in names { removeTree(path + "/" + name) }
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The whole file as bytes, or nil when it cannot be read.
public func readFileBytes(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return n == 0 ? out : nil }
        out.append(contentsOf: chunk[0..<n])
    }
}

/// The whole file as UTF-8 text (invalid bytes repaired), or nil when it cannot be read.
public func readTextFile(_ path: String) -> String? {
    readFileBytes(path).map { String(decoding: $0, as: UTF8.self) }
}

/// Writes `text` to `path` (created mode 0600, or truncated); false on failure.
@discardableResult
public func writeTextFile(_ path: String, _ text: String) -> Bool {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return writeAll(fd, Array(text.utf8))
}

/// Writes every byte (retrying EINTR and short writes); false on failure.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    var off = 0
    while off < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + off, $0.count - off) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        off += n
    }
    return true
}

/// Appends `line` and a newline with a single write(2) (short writes retried): a line that
/// returned is on file even if the process is SIGKILLed right after.
public func appendLine(_ fd: Int32, _ line: String) {
    let ok = writeAll(fd, Array((line + "\n").utf8))
    precondition(ok, "log write failed: errno \(errno)")
}

/// A log file a helper process appends lines to, one write(2) per line (see `appendLine`).
public struct LineLog: Sendable {
    public let fd: Int32

    /// Opens (creating, mode 0600) `path` for appending; nil when it cannot be opened.
    public init?(_ path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { return nil }
    }

    public func line(_ s: String) { appendLine(fd, s) }
}

/// One line to standard output or standard error, unbuffered (helpers are killed at any moment).
public func printLine(_ line: String, toStandardError: Bool = false) {
    _ = writeAll(toStandardError ? 2 : 1, Array((line + "\n").utf8))
}
