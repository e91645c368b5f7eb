import ShmBalance
import ShmBalanceConfig
import ShmBalanceDashboard
import ShmBalanceTestSupport
import XCTest

/// `World.booksDiffer` decides when the live loop redraws: every change of the books counts,
/// the clock alone does not.
final class WorldDiffTests: XCTestCase {
    func testEveryFieldButTheClockIsADifference() {
        let base = Fixture.healthy
        var clock = base
        clock.nowMicros += 5 * Fixture.second
        XCTAssertFalse(clock.booksDiffer(from: base), "the clock alone")
        XCTAssertFalse(Fixture.many().booksDiffer(from: Fixture.many()), "two equal snapshots of 500")

        var changes: [(String, World)] = []
        func change(_ what: String, _ body: (inout World) -> Void) {
            var w = base
            body(&w)
            changes.append((what, w))
        }
        change("a slot") { $0.records[2].state.slots[3] = Amount("3000.01") }
        change("a slot past the count") { $0.records[2].state.slots[63] = Amount("1") }
        change("the count") { $0.records[2].state.strategyCount = 4 }
        change("the stored count") { $0.records[2].storedStrategyCount = 99 }
        change("the epoch") { $0.records[2].state.epoch += 1 }
        change("the op count") { $0.records[2].state.opCount += 1 }
        change("the last index") { $0.records[2].state.lastIndex += 1 }
        change("the change time") { $0.records[2].state.lastChangeMicros += 1 }
        change("the changer's pid") { $0.records[2].state.lastChangePid += 1 }
        change("the credit") { $0.records[2].state.creditLimit = Amount("1") }
        change("a name") { $0.records[2].names[2] = label("other") }
        change("a slot's change time") { $0.records[2].slotChangedMicros[2] += 1 }
        change("a record more") { $0.records.append(Fixture.record("EUR", ["1", "1"])) }
        change("a quote") { $0.balanceQuotes[key("USD")] = Fixture.quote(1) }
        change("the activity") { $0.activity.removeLast() }
        change("the ring's head") { $0.activityHead += 1 }
        change("the default exchange") { $0.defaultExchange = nil }
        change("the path") { $0.segmentPath = "/elsewhere" }
        change("read-only") { $0.readOnly = true }
        change("the file's state") { $0.fileState = .removed }
        change("a failed read") { $0.markStale("busy", now: Fixture.now) }
        change("the history") { $0.history = Fixture.usdcHistory }
        change("a held sum") { $0.records[2].held = [.zero, .zero, Amount("1"), .zero, .zero] }
        change("a hold count") { $0.records[2].holdCounts = [0, 0, 1, 0, 0] }
        change("the open holds") { $0.holds = Fixture.withHolds().holds }
        change("a currency seen with holds") { $0.seenWithHolds.insert(key("USD")) }
        change("an agent") { $0.agents = [AgentStatus(host: "tokyo-1", pid: 1, state: "fenced", updatedMicros: Fixture.now, contactMicros: 0, ttlMs: 10_000, leases: [])] }
        for (what, w) in changes {
            XCTAssert(w.booksDiffer(from: base), "\(what) is a difference")
            XCTAssert(base.booksDiffer(from: w), "\(what) is a difference, either way")
        }
    }
}
