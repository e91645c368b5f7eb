/// Why a segment file cannot be used. Every case names the path, so the message stands alone.
public enum SegmentError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case exists(path: String)
    case notASegment(path: String, why: String)
    case wrongVersion(path: String, found: UInt32)
    case corrupt(path: String, why: String)
    case system(path: String, call: String, errno: Int32)
    case readOnly(path: String)
    case full(path: String, what: String)
    /// The path or mode asked for is not usable (empty, a mode open to others); nothing was touched.
    case badPath(path: String, why: String)
    /// The file this process maps is no longer at its path (rm, RemoveIPC): nobody else can see it.
    case removed(path: String)
    /// Another file is at the path now (a restore, a new `init`): this mapping is of the old one.
    case replaced(path: String)
    /// The file is shorter than the segment: its missing part reads as zeros here and SIGBUS elsewhere.
    case truncated(path: String)
    /// This process maps more segments at once than the core keeps track of.
    case tooManyMappings(path: String, limit: Int)

    public var description: String {
        switch self {
        case .notFound(let p):
            return "\(p): no segment there (create one with 'shmbal init', or any write creates it)"
        case .exists(let p):
            return "\(p): a file already exists there; refusing to overwrite it"
        case .notASegment(let p, let why):
            return "\(p): not a ShmBalance segment (\(why))"
        case .wrongVersion(let p, let found):
            if found < Layout.version {
                return "\(p): segment has layout version \(found), this build reads version \(Layout.version); move its books with the shmbal that made it ('shmbal snapshot save FILE'), then 'shmbal snapshot restore FILE' with this one (it reads every snapshot version) into a new segment path"
            }
            return "\(p): segment has layout version \(found), newer than this build's version \(Layout.version); use the shmbal that made it"
        case .corrupt(let p, let why):
            return "\(p): segment is corrupt (\(why))"
        case .system(let p, let call, let e):
            return "\(p): \(call) failed: \(errnoText(e))"
        case .readOnly(let p):
            return "\(p): attached read-only; this operation writes"
        case .removed(let p):
            return "\(p): segment was removed (rm, or systemd's RemoveIPC); this process's writes would be seen by nobody, so it refuses them: restore the books into a new segment (shmbal snapshot restore) and reopen"
        case .replaced(let p):
            return "\(p): segment was replaced by another file at that path; this process still maps the old one and refuses to write into it: reopen the segment"
        case .truncated(let p):
            return "\(p): segment file was truncated while in use; nothing read from or written to its missing part counts: restore it from a snapshot and reopen"
        case .tooManyMappings(let p, let limit):
            return "\(p): this process already maps \(limit) segments; close some first"
        case .badPath(let p, let why):
            return p.allSatisfy(\.isWhitespace) ? why : "\(p): \(why)"
        case .full(let p, let what):
            return "\(p): the \(what) is full (recreate the segment with a larger capacity: shmbal init --records N)"
        }
    }
}

func errnoText(_ e: Int32) -> String {
    switch e {
    case 1: return "operation not permitted (EPERM)"
    case 2: return "no such file or directory (ENOENT)"
    case 13: return "permission denied (EACCES)"
    case 17: return "file exists (EEXIST)"
    case 20: return "a path component is not a directory (ENOTDIR)"
    case 21: return "is a directory (EISDIR)"
    case 28: return "no space left on device (ENOSPC)"
    case 30: return "read-only file system (EROFS)"
    case 40: return "it is a symbolic link, which a segment never follows (ELOOP)"
    default: return "errno \(e)"
    }
}

/// The operation a refusal or an activity entry is about.
public enum Operation: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case reset = 1, set, adjust, allocate, release, reconcile, setCreditLimit, setName, setStrategyCount, configure, recoverLock, get
    case hold, fill, void, receive, expire
    /// The agent's fence (SPEC §10): on or off, logged with 1 or 0 as its amount.
    case fence

    public var description: String {
        switch self {
        case .reset: return "reset"
        case .set: return "set"
        case .adjust: return "adjust"
        case .allocate: return "allocate"
        case .release: return "release"
        case .reconcile: return "reconcile"
        case .setCreditLimit: return "credit"
        case .setName: return "name"
        case .setStrategyCount: return "count"
        case .configure: return "configure"
        case .recoverLock: return "recover"
        case .get: return "get"
        case .hold: return "hold"
        case .fill: return "fill"
        case .void: return "void"
        case .receive: return "receive"
        case .expire: return "expire"
        case .fence: return "fence"
        }
    }
}

/// Why the rules of SPEC §3 refused an operation (stored in the activity ring as one byte).
public enum RefusalCode: UInt8, Sendable, CaseIterable {
    case noRecord = 1
    case indexOutOfRange
    case notASubStrategy
    case nonPositiveAmount
    case insufficientHeadroom
    case exceedsBudget
    case negativeBudget
    case overflow
    case badCount
    case shrinkOverNonZero
    case badAmount
    case negativeCredit
    case tableFull
    // Holds (SPEC §9).
    case exceedsFree
    case belowHeld
    case holdTableFull
    case holdIdInUse
    case unknownHold
    case negativeFill
    // Operation ids (SPEC §9).
    case opIdReused
    // Several hosts (SPEC §10).
    case fenced
}

/// A refusal by the rules: what was asked, of which record, and the figure that stood in the way.
public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: RefusalCode
    public var operation: Operation
    public var key: BookKey
    public var index: Int
    public var amount: Amount
    /// The limit that was hit: the headroom, the budget, the slot's value, the count asked for …
    public var detail: Amount
    /// The op id an `opIdReused` refusal is about.
    public var opId: String? = nil
    /// The hold id an `unknownHold` or `holdIdInUse` refusal is about (nil when replayed from an
    /// op id, whose entry keeps no hold id).
    public var holdId: String? = nil

    public init(_ code: RefusalCode, _ operation: Operation, _ key: BookKey, index: Int, amount: Amount, detail: Amount = .zero) {
        self.code = code
        self.operation = operation
        self.key = key
        self.index = index
        self.amount = amount
        self.detail = detail
    }

    /// A refusal about the hold `holdId` (unknown, or open with other arguments).
    @usableFromInline
    init(_ code: RefusalCode, _ operation: Operation, _ key: BookKey, index: Int, amount: Amount, detail: Amount = .zero, holdId: HoldId) {
        self.init(code, operation, key, index: index, amount: amount, detail: detail)
        self.holdId = holdId.description
    }

    /// A message a person can act on, e.g. "KRAKEN USDC #3: release 500.00 exceeds its budget 200.00".
    public var description: String {
        let at = "\(key) #\(index)"
        let op = operation.description
        let n = amount.description
        switch code {
        case .noRecord:
            return "\(key) has no record: reset it first"
        case .indexOutOfRange:
            return "\(key): index \(index) is out of range (this record has \(detail.raw) slots, 0…\(detail.raw - 1))"
        case .notASubStrategy:
            return "\(key): \(op) needs a sub-strategy index 2…\(detail.raw - 1); #\(index) is \(index == 0 ? "the total" : index == 1 ? "the pool" : "out of range")"
        case .nonPositiveAmount:
            return "\(at): \(op) needs an amount above 0 (got \(n))"
        case .insufficientHeadroom:
            // A withdraw (the agent's return of lease) is an adjust of the pool by −amount.
            return operation == .adjust
                ? "\(at): withdrawing \(Amount(raw: 0 &- amount.raw)) exceeds the headroom \(detail) (pool + credit)"
                : "\(at): allocate \(n) exceeds the headroom \(detail) (pool + credit)"
        case .exceedsBudget:
            return "\(at): release \(n) exceeds its budget \(detail)"
        case .negativeBudget:
            return "\(at): \(op) \(n) would make the budget negative (it is \(detail)); a sub-strategy budget is never below 0"
        case .overflow:
            return "\(at): \(op) \(n) would take a slot beyond the largest storable amount (10^18 whole units)"
        case .badCount:
            return "\(key): strategy count \(detail.raw) is outside 2…64"
        case .shrinkOverNonZero:
            return "\(key): cannot shrink to \(detail.raw) slots: slot #\(index) still holds \(n)"
        case .badAmount:
            return "\(at): \(op) got an amount that is not a finite number in range"
        case .negativeCredit:
            return "\(key): a credit limit cannot be negative (got \(n))"
        case .tableFull:
            return "\(key): the segment's record table is full (\(detail.raw) records)"
        case .exceedsFree:
            return "\(at): hold \(n) exceeds its free budget \(detail) (budget − held)"
        case .belowHeld:
            return "\(at) holds \(detail) in open orders: \(op) \(n) would take its budget below that"
        case .holdTableFull:
            return "\(key): the hold table is full (\(detail.raw) open holds); fill or void some"
        case .holdIdInUse:
            return "\(key): hold id \(TerminalText.safe(holdId ?? "?")) is already open on #\(index) (hold \(detail)) with other arguments"
        case .unknownHold:
            return "\(key): no open hold \(holdId.map { TerminalText.safe($0) } ?? "with that id") (closed, expired, or never opened)"
        case .opIdReused:
            return "op id \(TerminalText.safe(opId ?? "?")) was already used for \(op) \(key)\(index >= 0 ? " #\(index)" : "") \(n)"
        case .negativeFill:
            return "\(key): a fill's amount and fee must be ≥ 0 (got \(n) and \(detail))"
        case .fenced:
            return "\(key) is fenced: this host's agent lost the ledger, so \(op) is refused until it reconnects (release, hold, fill and receive go on)"
        }
    }
}

/// Everything an operation of the books can fail with. `description` is one line for a person.
public enum BooksError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Refused by the rules of SPEC §3; recorded in the activity ring; nothing changed.
    case refused(Refusal)
    /// The input is not usable (a bad amount, name or index), caught before any record was touched.
    case badInput(String)
    /// The segment cannot be used.
    case segment(SegmentError)
    /// A lock was held longer than the bound (a stopped process, a debugger); nothing changed.
    /// `what` names it: a record ("KRAKEN USDC: record") or a table ("/dev/shm/shmbal: record table").
    case busy(what: String, ownerTid: Int32, waitedMs: Int)
    /// The record's lock or data is damaged beyond what the protocol repairs.
    case corrupt(String)
    /// A read found writers publishing non-stop for its whole retry bound (not a lock: readers never
    /// wait for one); nothing was returned, try again.
    case contended(what: String, attempts: Int)

    public var description: String {
        switch self {
        case .refused(let r): return r.description
        case .badInput(let s): return s
        case .segment(let e): return e.description
        case .busy(let what, let tid, let ms):
            let who = tid > 0 ? " (held by thread \(tid)\(processExists(tid) ? ", alive but not releasing it: stopped or in a debugger?" : ""))" : ""
            return "\(what) busy: its lock was not released within \(ms) ms\(who); nothing was changed, try again"
        case .corrupt(let s): return s
        case .contended(let what, let attempts):
            return "\(what) kept changing during \(attempts) read attempts (writers publishing without pause); nothing was read, try again"
        }
    }

    /// A latch read's failure, naming what was read.
    init(_ failure: LatchReadFailure, what: String) {
        switch failure {
        case .contended(let attempts): self = .contended(what: what, attempts: attempts)
        case .truncated(let id): self = .segment(.truncated(path: String(cString: shmbal_mapping_path(id))))
        }
    }

    /// The refusal, when this is one.
    public var refusal: Refusal? {
        if case .refused(let r) = self { return r }
        return nil
    }
}

import CShmBalanceSys
import Glibc

func processExists(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
