import Glibc

// Time for tests and their helper processes: CLOCK_MONOTONIC only (immune to wall-clock steps),
// and every wait has a deadline. A deadline is a safety net that ends a hung run; no test asserts
// on how long something took.

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// A point in CLOCK_MONOTONIC time, `seconds` from when it was made.
public struct Deadline: Sendable {
    public let ns: Int64

    public init(seconds: Double) {
        ns = monotonicNs() + Int64(seconds * 1e9)
    }

    public var hasPassed: Bool { monotonicNs() >= ns }
    public var remainingSeconds: Double { max(0, Double(ns - monotonicNs()) / 1e9) }
}

/// Sleeps `microseconds` (retrying when a signal cuts the sleep short).
public func sleepMicroseconds(_ microseconds: Int) {
    var request = timespec(tv_sec: microseconds / 1_000_000, tv_nsec: (microseconds % 1_000_000) * 1000)
    var rest = timespec()
    while nanosleep(&request, &rest) != 0 && errno == EINTR { request = rest }
}

/// Evaluates `condition` until it holds or `seconds` have passed; true when it held. Polls fast at
/// first (100 µs) and backs off to `maxIntervalMicroseconds`, so a quick condition costs little
/// latency and a slow one little CPU. The condition is evaluated once more at the deadline.
@discardableResult
public func poll(within seconds: Double, maxIntervalMicroseconds: Int = 5_000, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Deadline(seconds: seconds)
    var interval = 100
    while !deadline.hasPassed {
        if try condition() { return true }
        sleepMicroseconds(interval)
        interval = min(interval * 2, maxIntervalMicroseconds)
    }
    return try condition()
}
