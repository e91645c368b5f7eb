import ShmBalance

/// A tiny JSON writer: amounts go out as exact decimal strings, never as floats.
indirect enum JSON {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case null
    case array([JSON])
    case object([(String, JSON)])

    static func amount(_ a: Amount) -> JSON { .string(a.description) }

    var text: String {
        switch self {
        case .string(let s): return JSON.quote(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? "\(d)" : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let a): return "[" + a.map(\.text).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { JSON.quote($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string of printable ASCII only: everything else as `\uXXXX` (UTF-16, surrogate
    /// pairs beyond the BMP). Valid JSON that no terminal acts on, and that the CLI's terminal-safe
    /// `print` passes unchanged.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if u.value >= 0x20 && u.value < 0x7F {
                    out.unicodeScalars.append(u)
                } else {
                    for unit in String(u).utf16 {
                        let hex = String(unit, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    }
                }
            }
        }
        return out + "\""
    }
}

extension BalanceRecord {
    /// The `get --json` object (SPEC §6 names its required fields).
    var json: JSON {
        .object([
            ("exchange", .string(key.exchange.description)),
            ("currency", .string(key.currency.description)),
            ("strategyCount", .int(Int64(strategyCount))),
            ("slots", .array(slots.map(JSON.amount))),
            ("names", .array(names.map { .string($0.description) })),
            ("creditLimit", .amount(creditLimit)),
            ("pool", .amount(state.pool)),
            ("allocated", .amount(state.allocated)),
            ("headroom", .amount(headroom)),
            ("identityHolds", .bool(identityHolds)),
            ("identityDifference", .amount(state.identityDifference)),
            ("epoch", .int(Int64(bitPattern: epoch))),
            ("opCount", .int(Int64(bitPattern: state.opCount))),
            ("lastChangeMicros", .int(state.lastChangeMicros)),
            ("lastChangePid", .int(Int64(state.lastChangePid))),
            // Layout 3 (SPEC §9): per meaningful slot like `slots`, from the same read.
            ("held", .array(held.map(JSON.amount))),
            ("free", .array(free.map(JSON.amount))),
            ("holdCount", .array(holdCounts.map { .int(Int64($0)) })),
            ("opIdWindow", .int(Int64(opIdWindow))),
            ("opIdsRemembered", .int(Int64(opIdsRemembered))),
        ])
    }
}
