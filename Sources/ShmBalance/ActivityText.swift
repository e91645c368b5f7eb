import Glibc

// Text for activity entries and times, shared by `shmbal log` and the dashboard.

extension RefusalCode {
    /// A few words: what stood in the way (`headroom 9,000.00`).
    public func shortReason(detail: Amount, grouping: Bool = false) -> String {
        let d = detail.formatted(grouping: grouping)
        switch self {
        case .noRecord: return "no record"
        case .indexOutOfRange: return "index out of range"
        case .notASubStrategy: return "not a sub-strategy"
        case .nonPositiveAmount: return "amount not above 0"
        case .insufficientHeadroom: return "headroom \(d)"
        case .exceedsBudget: return "budget \(d)"
        case .negativeBudget: return "budget would go below 0"
        case .overflow: return "does not fit"
        case .badCount: return "count outside 2…64"
        case .shrinkOverNonZero: return "slot not zero"
        case .badAmount: return "bad amount"
        case .negativeCredit: return "negative credit"
        case .tableFull: return "record table full"
        case .exceedsFree: return "free \(d)"
        case .belowHeld: return "held \(d)"
        case .holdTableFull: return "hold table full"
        case .holdIdInUse: return "hold id in use"
        case .unknownHold: return "no such hold"
        case .negativeFill: return "fill below 0"
        case .opIdReused: return "op id reused"
        case .fenced: return "fenced"
        }
    }
}

extension ActivityEntry {
    /// `applied` or `refused: headroom 9,000.00`.
    public func outcomeText(grouping: Bool = false) -> String {
        guard let r = refusal else {
            if operation == .reconcile {
                switch index ?? -1 {
                case ReconcileOutcome.Kind.inSync.rawValue: return "in sync"
                case ReconcileOutcome.Kind.repaired.rawValue: return "repaired"
                default: return "reset"
                }
            }
            return "applied"
        }
        return "refused: " + r.shortReason(detail: detail, grouping: grouping)
    }

    /// The amount column: signed for deltas, plain otherwise; empty when the operation has none.
    public func amountText(grouping: Bool = false) -> String {
        switch operation {
        case .allocate?, .release?, .adjust?:
            // A release takes money out of the slot; allocate and adjust show their own sign.
            let sign = operation == .release ? "-" : (amount.raw >= 0 ? "+" : "")
            return sign + amount.formatted(grouping: grouping)
        case .reconcile?:
            return "Δ " + (detail.raw >= 0 ? "+" : "") + detail.formatted(grouping: grouping)
        case .setName?, .recoverLock?, .setStrategyCount?, .configure?, .get?, nil:
            return ""
        default:
            return amount.formatted(grouping: grouping)
        }
    }

    /// `KRAKEN USDC #2` (no index when the operation is not about one slot).
    public var target: String {
        if let i = index, operation != .reconcile { return "\(key) #\(i)" }
        return key.description
    }
}

/// Local wall-clock text for µs since the epoch: `21:50:01.003`, with the date when `date`.
public func clockText(micros: Int64, millis: Bool = true, date: Bool = false) -> String {
    var t = time_t(micros / 1_000_000)
    var tm = Glibc.tm()
    localtime_r(&t, &tm)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    var s = "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
    if millis {
        let ms = Int((micros % 1_000_000) / 1000)
        s += "." + (ms < 10 ? "00" : ms < 100 ? "0" : "") + String(ms)
    }
    if date { s = "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday)) " + s }
    return s
}

/// `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago` (or `—` when never).
public func ageText(micros: Int64, now: Int64) -> String {
    guard micros > 0 else { return "—" }
    let s = max(0, (now - micros) / 1_000_000)
    if s < 60 { return "\(s) s ago" }
    if s < 3600 { return "\(s / 60) min ago" }
    if s < 86_400 { return "\(s / 3600) h ago" }
    return "\(s / 86_400) d ago"
}
