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

    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) }
                else { out.unicodeScalars.append(u) }
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
        ])
    }
}
