import Glibc
import ShmBalanceTestKit

// The campaign's processes are started, reaped and timed with ShmBalanceTestKit (Glibc only: every
// writer incarnation starts fast); what is left here is the campaign's own voice.

/// Starts another role of this executable (`shmbal-campaign ROLE …`), with SWIFT_BACKTRACE off:
/// the campaign kills its writers on purpose.
func spawnRole(_ exe: String, _ args: [String]) -> pid_t {
    do { return try spawnProcess(exe, args, argv0: "shmbal-campaign", stdin: .inherit) } catch { fail("\(error)") }
}

func printErr(_ line: String) { printLine(line, toStandardError: true) }

func printOut(_ line: String) { printLine(line) }

func fail(_ message: String) -> Never {
    printErr("shmbal-campaign: \(message)")
    exit(2)
}
