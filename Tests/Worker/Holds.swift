import Glibc
import ShmBalance
import ShmBalanceTestKit

// shmbal-worker holds SEGMENT LOG CURRENCY SEED [flat-out]
//     Random hold / fill / void / receive operations on slots 2…4 of KRAKEN CURRENCY until killed,
//     every fault point pausing a random 0–300 µs after logging "P point" (so kills land inside
//     the lock); "A n" after each operation that returned. Hold ids start with "wSEED-".
//     `flat-out`: no pauses and no log lines but the first "A 1" (a writer for reader races).
func runHolds(_ args: [String]) {
    guard args.count >= 4, let seed = UInt64(args[3]) else { fail("usage: holds SEGMENT LOG CURRENCY SEED") }
    let books = openBooks(args[0], .readWrite)
    guard let log = LineLog(args[1]) else { fail("cannot open \(args[1])") }
    let key = bookKey(args[2])
    let flatOut = args.count > 4 && args[4] == "flat-out"
    #if DEBUG
    if !flatOut {
        pauseLog = log
        faultPointHook = { point in
            pauseLog?.line("P \(point.rawValue)")
            usleep(UInt32.random(in: 0...300))
        }
    }
    #endif
    var rng = SplitMix64(seed: seed)
    var open: [HoldId] = []
    var n = 0
    while true {
        n += 1
        let amount = Amount(raw: Int128(1 + rng.below(5_000)) * (Amount.scale / 100))
        do {
            switch rng.below(5) {
            case 0, 1:
                let id = try HoldId("w\(seed)-\(n)")
                try books.hold(key, index: 2 + rng.below(3), amount, id: id)
                open.append(id)
            case 2 where !open.isEmpty:
                let i = rng.below(open.count)
                let final = rng.below(2) == 0
                try books.fill(key, id: open[i], amount, fee: Amount(raw: Int128(rng.below(100)) * (Amount.scale / 100)), final: final,
                               opId: try HoldId("f\(seed)-\(n)"))
                if final { open.remove(at: i) }
            case 3 where !open.isEmpty:
                try books.void(key, id: open.remove(at: rng.below(open.count)))
            default:
                try books.receive(key, index: 2 + rng.below(3), amount, opId: try HoldId("r\(seed)-\(n)"))
            }
        } catch {
            // Refusals (a hold beyond free, a full table) are part of the mix.
        }
        if !flatOut || n == 1 { log.line("A \(n)") }
    }
}
