// `OpenHold` has no public initializer (the core makes them only from its table), so a
// hand-built snapshot needs the core's internal one.
@testable import ShmBalance
import ShmBalanceDashboard
import ShmBalanceTestSupport

// Hand-built snapshots with holds, on the fixed clock of `Fixture`.

extension Fixture {
    static func hold(_ id: String, _ index: Int, _ amount: String, original: String? = nil, ageSeconds: Int64,
                     expiresIn: Int64? = nil) -> OpenHold {
        let expires = expiresIn.map { now + $0 * second }
        return OpenHold(id: try! HoldId(id), index: index, amount: Amount(amount), original: Amount(original ?? amount),
                        createdMicros: now - ageSeconds * second, expiresMicros: expires, expired: expires.map { $0 <= now } ?? false)
    }

    /// `healthy` with open holds on USDC: #2 grid-bot holds 1,500.00 in two (one with 4 min left,
    /// one partly filled without a ttl), #3 arb 2,500.00 in one; `expiredIn` moves #3's expiry
    /// (negative: already passed).
    static func withHolds(expiredIn arbExpiry: Int64 = 3 * 3600) -> World {
        var w = healthy
        let holds = [
            hold("ord-7f3a", 2, "1200", ageSeconds: 65, expiresIn: 240),
            hold("ord-7f3b", 2, "300", original: "450", ageSeconds: 600),
            hold("arb-991", 3, "2500", ageSeconds: 1800, expiresIn: arbExpiry),
        ]
        var usdc = w.records[2]
        usdc.held = [.zero, .zero, Amount("1500"), Amount("2500"), .zero]
        usdc.holdCounts = [0, 0, 2, 1, 0]
        w.records[2] = usdc
        w.holds = RecordHolds(key: usdc.key, opCount: usdc.state.opCount, epoch: usdc.epoch, holds: holds)
        return w
    }

    /// `withHolds` where arb's hold passed its ttl 30 s ago and no writer has voided it yet.
    static var expiredHold: World { withHolds(expiredIn: -30) }

    /// Many holds on #2, for the view's scrolling: `ord-00` … oldest first.
    static func manyHolds(_ count: Int) -> World {
        var w = healthy
        let holds = (0..<count).map { i in
            hold("ord-" + (i < 10 ? "0" : "") + String(i), 2, "10", ageSeconds: Int64(count - i) * 60, expiresIn: i == 3 ? -5 : nil)
        }
        var usdc = w.records[2]
        usdc.held = [.zero, .zero, Amount(String(10 * count)), .zero, .zero]
        usdc.holdCounts = [0, 0, count, 0, 0]
        w.records[2] = usdc
        w.holds = RecordHolds(key: usdc.key, opCount: usdc.state.opCount, epoch: usdc.epoch, holds: holds)
        return w
    }
}
