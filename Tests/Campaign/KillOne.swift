import Atomics
import Glibc
import ShmBalance
import ShmBalanceTestKit

/// One kill, as both campaigns make it: a writer chosen at random is either parked at a fault
/// point inside a commit first (`targetedPercent` of the time; the point is disarmed again when
/// the writer does not reach it within 3 s) or killed after a random pause of up to 3 ms; then it
/// is reaped.
struct Kill {
    var writer: Int
    /// The fault point it was parked at (1…3), 0 for a kill at a random moment.
    var parkedAt: Int
    var parkTimedOut: Bool
    /// Set when the writer exited by itself instead of dying of the signal (a violation).
    var exitCode: Int32?
}

func killOneWriter(_ pids: [pid_t], _ status: StatusPage, targetedPercent: Int, rng: inout SplitMix64) -> Kill {
    let w = Int.random(in: 0..<pids.count, using: &rng)
    var parkedAt = 0
    var timedOut = false
    if Int.random(in: 0..<100, using: &rng) < targetedPercent {
        let point = Int.random(in: 1...3, using: &rng)
        status.writer(w, .arm).store(UInt64(point), ordering: .releasing)
        let parkDeadline = monotonicNs() + 3_000_000_000
        while monotonicNs() < parkDeadline {
            if status.writer(w, .phase).load(ordering: .acquiring) == StatusPage.parkedFlag | UInt64(point) { parkedAt = point; break }
            usleep(50)
        }
        if parkedAt == 0 {
            status.writer(w, .arm).store(0, ordering: .releasing)
            timedOut = true
        }
    } else {
        usleep(UInt32.random(in: 0...3_000, using: &rng))
    }
    kill(pids[w], SIGKILL)
    let end = reapProcess(pids[w], blocking: true)
    return Kill(writer: w, parkedAt: parkedAt, parkTimedOut: timedOut, exitCode: end?.exitCode)
}
