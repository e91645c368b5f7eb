import Glibc

// shmbal-campaign: the fault-injection campaign (SPEC §4), and the stuck and hostile neighbours
// the reliability tests start. Roles:
//   shmbal-campaign [run] [--kills N] [--max-seconds S] [--writers W] [--records K] [--long] [--keep]
//   shmbal-campaign holds [--kills N] [--max-seconds S] [--writers W] [--records K] [--long] [--keep]
//   shmbal-campaign writer|reader|side …   (started by `run`); hwriter|hreader … (started by `holds`)
//   shmbal-campaign park --segment S --currency C --point 1|2|3   (holds a record's lock, parked)
//   shmbal-campaign hammer --segment S --currency C --seconds N   (writes as fast as it can)

let argv = CommandLine.arguments
let role = argv.count > 1 && !argv[1].hasPrefix("--") ? argv[1] : "run"
let rest = argv.dropFirst(argv.count > 1 && !argv[1].hasPrefix("--") ? 2 : 1)
switch role {
case "run": runCampaign(Args(rest))
case "holds": runHoldsCampaign(Args(rest))
case "hwriter": runHoldsWriter(Args(rest))
case "hreader": runHoldsReader(Args(rest))
case "writer": runWriter(Args(rest))
case "reader": runReader(Args(rest))
case "side": runSideWriter(Args(rest))
case "park": runPark(Args(rest))
case "hammer": runHammer(Args(rest))
default: fail("unknown role '\(role)' (run, holds, writer, reader, side, hwriter, hreader, park, hammer)")
}
