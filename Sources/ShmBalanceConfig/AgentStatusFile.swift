import Glibc
import ShmBalance

/// What a host's agent last said about itself (SPEC §10 "Visibility"), in a small text file beside
/// the segment, `SEGMENT.agent-HOST.status`, so that `shmbal check` (and anything else on the
/// host) sees the lease without linking the PostgreSQL client. The agent rewrites it after each
/// round that changed something, and at least once per second (write a temporary file, rename:
/// a reader sees a whole file or the previous one).
///
///     shmbal-agent-status 1
///     host a
///     pid 4242
///     state connected                   connecting | connected | retrying | fenced
///     updated_us 1764612345678901       when it was written (µs since the epoch)
///     contact_us 1764612345678901       when the ledger last answered
///     ttl_ms 10000
///     lease KRAKEN USDC 1150.00 1       per served currency: the lease as the ledger has it, generation
public struct AgentStatus: Sendable, Equatable {
    public struct Lease: Sendable, Equatable {
        public var key: BookKey
        public var amount: Amount
        public var generation: Int64
        public init(key: BookKey, amount: Amount, generation: Int64) {
            self.key = key
            self.amount = amount
            self.generation = generation
        }
    }

    public var host: String
    public var pid: Int32
    public var state: String
    public var updatedMicros: Int64
    public var contactMicros: Int64
    public var ttlMs: Int64
    public var leases: [Lease]

    public init(host: String, pid: Int32, state: String, updatedMicros: Int64, contactMicros: Int64, ttlMs: Int64, leases: [Lease]) {
        self.host = host
        self.pid = pid
        self.state = state
        self.updatedMicros = updatedMicros
        self.contactMicros = contactMicros
        self.ttlMs = ttlMs
        self.leases = leases
    }

    public static func path(segment: String, host: String) -> String { segment + ".agent-" + host + ".status" }

    public var text: String {
        var lines = ["shmbal-agent-status 1", "host \(host)", "pid \(pid)", "state \(state)", "updated_us \(updatedMicros)",
                     "contact_us \(contactMicros)", "ttl_ms \(ttlMs)"]
        for l in leases { lines.append("lease \(l.key.exchange) \(l.key.currency) \(l.amount) \(l.generation)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a status file's text; nil when it is not one (a reader then says so, once).
    public init?(parsing text: String) {
        var host: String?, pid: Int32?, state: String?, updated: Int64?, contact: Int64?, ttl: Int64?
        var leases: [Lease] = []
        let lines = text.split(separator: "\n")
        guard lines.first == "shmbal-agent-status 1" else { return nil }
        for line in lines.dropFirst() {
            let f = line.split(separator: " ")
            guard f.count >= 2 else { return nil }
            switch f[0] {
            case "host": host = String(f[1])
            case "pid": pid = Int32(f[1])
            case "state": state = String(f[1])
            case "updated_us": updated = Int64(f[1])
            case "contact_us": contact = Int64(f[1])
            case "ttl_ms": ttl = Int64(f[1])
            case "lease":
                guard f.count == 5, let key = try? BookKey(f[1], f[2]), let a = try? Amount(parsing: f[3]), let g = Int64(f[4]) else { return nil }
                leases.append(Lease(key: key, amount: a, generation: g))
            default: continue   // a later version's line
            }
        }
        guard let host, let pid, let state, let updated, let contact, let ttl else { return nil }
        self.init(host: host, pid: pid, state: state, updatedMicros: updated, contactMicros: contact, ttlMs: ttl, leases: leases)
    }

    /// Writes `self` to `path` whole: a temporary file beside it, then rename.
    public func write(to path: String) -> Bool {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard n == bytes.count else { unlink(tmp); return false }
        return rename(tmp, path) == 0
    }

    /// Every status file beside `segment` (one per host whose agent ran there), by host; files
    /// that do not parse are named in `unreadable`.
    public static func all(beside segment: String) -> (statuses: [AgentStatus], unreadable: [String]) {
        let slash = segment.lastIndex(of: "/")
        let dir = slash.map { String(segment[..<$0]) } ?? "."
        let base = slash.map { String(segment[segment.index(after: $0)...]) } ?? segment
        guard let d = opendir(dir.isEmpty ? "/" : dir) else { return ([], []) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name.hasPrefix(base + ".agent-") && name.hasSuffix(".status") { names.append(name) }
        }
        var out: [AgentStatus] = [], bad: [String] = []
        for name in names.sorted() {
            let path = (dir.isEmpty ? "" : dir) + "/" + name
            guard case .success(let bytes) = ConfigFileBytes.read(path), let s = AgentStatus(parsing: String(decoding: bytes, as: UTF8.self)) else {
                bad.append(path)
                continue
            }
            out.append(s)
        }
        return (out, bad)
    }
}
