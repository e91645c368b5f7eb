import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4: a segment is created 0600 unless asked (0660 for a group), never through a symlink,
/// never over an existing file; a read-only attach maps the memory read-only.
/// The cross-user checks create real users and groups (this runs as root, or with passwordless
/// sudo) and run the CLI as them with setpriv; they are removed afterwards.
final class PermissionTests: XCTestCase {
    let ex = ["--exchange", "KRAKEN"]

    /// Runs a privileged command (root, or through `sudo -n`).
    @discardableResult
    func privileged(_ args: [String]) throws -> RunResult {
        if getuid() == 0 { return try runProcess(args[0], Array(args.dropFirst())) }
        return try runProcess("/usr/bin/sudo", ["-n"] + args)
    }

    func canBecomeOtherUsers() throws -> Bool {
        if getuid() == 0 { return true }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo") else { return false }
        return try runProcess("/usr/bin/sudo", ["-n", "true"]).status == 0
    }

    func testSegmentModesAcrossUsersAndGroups() throws {
        let dir = TempDir()
        let seg600 = dir.file("seg600"), seg660 = dir.file("seg660")
        guard try canBecomeOtherUsers() else {
            // Without root the owner is the only user there is: check what still can be checked.
            // The modes are exact whatever the umask, and a file the caller may not open is refused clearly.
            XCTAssertEqual(try runProcess("/bin/sh", ["-c", "umask 077; exec '\(productPath("shmbal"))' init --segment '\(seg660)' --mode 0660"]).status, 0)
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg660)[.posixPermissions] as? Int, 0o660)
            XCTAssertEqual(try runShmbal(["init", "--segment", seg600]).status, 0)
            XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg600)[.posixPermissions] as? Int, 0o600)
            XCTAssertEqual(chmod(seg600, 0), 0)
            let r = try runShmbal(["get", "USDC", "--segment", seg600] + ex)
            XCTAssertEqual(r.status, 4, r.err)
            XCTAssertTrue(r.err.contains("permission denied"), r.err)
            return
        }
        // Two users in one group, a third outside it.
        let tag = String(getpid() % 100_000)
        let group = "shmrel\(tag)g", alice = "shmrel\(tag)a", bob = "shmrel\(tag)b", carol = "shmrel\(tag)c"
        func removeUsers() {
            for u in [alice, bob, carol] { _ = try? privileged(["/usr/sbin/userdel", u]) }
            _ = try? privileged(["/usr/sbin/groupdel", group])
        }
        removeUsers()  // leftovers of an interrupted earlier run with the same pid
        defer { removeUsers() }
        XCTAssertEqual(try privileged(["/usr/sbin/groupadd", group]).status, 0)
        for u in [alice, bob] { XCTAssertEqual(try privileged(["/usr/sbin/useradd", "-M", "-N", "-g", group, "-s", "/usr/sbin/nologin", u]).status, 0) }
        XCTAssertEqual(try privileged(["/usr/sbin/useradd", "-M", "-U", "-s", "/usr/sbin/nologin", carol]).status, 0)
        // A directory everyone may use, and a copy of the CLI everyone may run.
        XCTAssertEqual(chmod(dir.path, 0o1777), 0)
        let cli = dir.file("shmbal")
        try FileManager.default.copyItem(atPath: productPath("shmbal"), toPath: cli)
        XCTAssertEqual(chmod(cli, 0o755), 0)
        func asUser(_ user: String, _ args: [String], umask: String = "022") throws -> RunResult {
            let quoted = args.map { "'\($0)'" }.joined(separator: " ")
            return try privileged(["/usr/bin/setpriv", "--reuid=\(user)", "--regid=\(user == carol ? carol : group)", "--init-groups",
                                   "/bin/sh", "-c", "umask \(umask); exec \(cli) \(quoted)"])
        }

        // 0600: the owner only.
        XCTAssertEqual(try asUser(alice, ["init", "--segment", seg600], umask: "000").status, 0)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg600)[.posixPermissions] as? Int, 0o600, "0600 whatever the umask")
        XCTAssertEqual(try asUser(alice, ["reset", "USDC", "100", "--segment", seg600] + ex).status, 0)
        let before600 = try Data(contentsOf: URL(fileURLWithPath: seg600))
        for args in [["get", "USDC"], ["adjust", "USDC", "5"], ["reset", "USDC", "1"], ["snapshot", "save", dir.file("steal")]] {
            let r = try asUser(bob, args + ["--segment", seg600] + ex)
            XCTAssertEqual(r.status, 4, "\(args) as another user: \(r.out) \(r.err)")
            XCTAssertTrue(r.err.contains("permission denied (EACCES)"), r.err)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("steal")))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg600)), before600, "a refused user changed the segment")

        // 0660: the group reads and writes, anyone else is refused; the umask cannot narrow it.
        XCTAssertEqual(try asUser(alice, ["init", "--segment", seg660, "--mode", "0660"], umask: "077").status, 0)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: seg660)[.posixPermissions] as? Int, 0o660, "0660 whatever the umask")
        XCTAssertEqual(try asUser(alice, ["reset", "USDC", "100", "--segment", seg660] + ex).status, 0)
        let write = try asUser(bob, ["adjust", "USDC", "5", "--segment", seg660] + ex)
        XCTAssertEqual(write.status, 0, write.err)
        XCTAssertEqual(try asUser(bob, ["balance", "USDC", "--segment", seg660] + ex).out, "105.00\n")
        for args in [["get", "USDC"], ["adjust", "USDC", "5"]] {
            let r = try asUser(carol, args + ["--segment", seg660] + ex)
            XCTAssertEqual(r.status, 4, "\(args) outside the group: \(r.err)")
            XCTAssertTrue(r.err.contains("permission denied (EACCES)"), r.err)
        }
        XCTAssertEqual(try Books.open(seg660, .readOnly).balance(key("USDC")), Amount("105"))
    }

    /// Creating never follows a symlink or clobbers a file; attaching never follows a symlink.
    func testNeverThroughASymlinkNeverOverAFile() throws {
        let dir = TempDir()
        let target = dir.file("target"), link = dir.file("link"), dangling = dir.file("dangling")
        XCTAssertEqual(try runShmbal(["reset", "USDC", "100", "--segment", target] + ex).status, 0)
        let targetBytes = try Data(contentsOf: URL(fileURLWithPath: target))
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertEqual(symlink(dir.file("nowhere"), dangling), 0)

        for args in [["get", "USDC"], ["adjust", "USDC", "5"], ["reset", "USDC", "1"], ["list"]] {
            let r = try runShmbal(args + ["--segment", link] + ex)
            XCTAssertEqual(r.status, 4, "\(args) through a symlink: \(r.err)")
            XCTAssertTrue(r.err.contains("symbolic link"), r.err)
        }
        let initLink = try runShmbal(["init", "--segment", link])
        XCTAssertEqual(initLink.status, 4)
        XCTAssertTrue(initLink.err.contains("already exists"), initLink.err)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), targetBytes, "the symlink's target changed")

        for args in [["init"], ["reset", "USDC", "1"], ["snapshot", "restore", dir.file("nosnap")]] {
            let r = try runShmbal(args + ["--segment", dangling] + ex)
            XCTAssertNotEqual(r.status, 0, "\(args) through a dangling symlink")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("nowhere")), "\(args) created the symlink's target")
        }
        // A snapshot restored onto a symlink's name does not go through it either.
        let snap = dir.file("snap")
        XCTAssertEqual(try runShmbal(["snapshot", "save", snap, "--segment", target]).status, 0)
        let r = try runShmbal(["snapshot", "restore", snap, "--segment", dangling])
        XCTAssertEqual(r.status, 4, r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("nowhere")))

        // An existing file that is not a segment is never overwritten.
        let notes = dir.file("notes.txt")
        try Data("my notes\n".utf8).write(to: URL(fileURLWithPath: notes))
        for args in [["init"], ["reset", "USDC", "1"], ["adjust", "USDC", "1"], ["config", "apply", snap]] {
            let r = try runShmbal(args + ["--segment", notes] + ex)
            XCTAssertEqual(r.status, 4, "\(args) over a file: \(r.err)")
        }
        XCTAssertEqual(try String(contentsOfFile: notes, encoding: .utf8), "my notes\n")
        // …nor is an existing segment re-initialised.
        XCTAssertEqual(try runShmbal(["init", "--segment", target]).status, 4)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), targetBytes)
    }

    /// A read-only attach (the read-only dashboard) cannot write: every mutation is refused by the
    /// library, and the mapping itself is read-only and cannot be made writable.
    func testReadOnlyAttachCannotWriteEvenThroughTheLibrary() throws {
        let dir = TempDir()
        let seg = dir.file("seg")
        let rw = try Books.open(seg, .readWriteCreating())
        let usdc = key("USDC")
        try rw.reset(usdc, balance: Amount("1000"), strategyCount: 4)
        try rw.allocate(usdc, index: 2, Amount("10"))
        let before = try Data(contentsOf: URL(fileURLWithPath: seg))

        let ro = try Books.open(seg, .readOnly)
        XCTAssertTrue(ro.isReadOnly)
        let rec = try XCTUnwrap(ro.record(usdc))
        let attempts: [(String, () throws(BooksError) -> Void)] = [
            ("reset", { () throws(BooksError) in try ro.reset(usdc, balance: Amount("1")) }),
            ("reset new", { () throws(BooksError) in try ro.reset(key("NEW"), balance: Amount("1")) }),
            ("set", { () throws(BooksError) in try ro.set(usdc, Amount("1")) }),
            ("adjust", { () throws(BooksError) in try ro.adjust(usdc, Amount("1")) }),
            ("allocate", { () throws(BooksError) in try ro.allocate(usdc, index: 2, Amount("1")) }),
            ("allocate ref", { () throws(BooksError) in try ro.allocate(rec, index: 2, Amount("1")) }),
            ("release ref", { () throws(BooksError) in try ro.release(rec, index: 2, Amount("1")) }),
            ("reconcile", { () throws(BooksError) in _ = try ro.reconcile(usdc, exchangeBalance: Amount("5")) }),
            ("credit", { () throws(BooksError) in try ro.setCreditLimit(usdc, Amount("5")) }),
            ("count", { () throws(BooksError) in try ro.setStrategyCount(usdc, 6) }),
            ("name", { () throws(BooksError) in try ro.setName(usdc, index: 2, try! ShortName("x", kind: .label)) }),
            ("quote", { () throws(BooksError) in try ro.writeQuote(try! QuoteKey("KRAKEN", "BALANCE", "USDC"), SingleQuote(timestamp: 1, localTimestamp: 1, mid: 1)) }),
            ("config", { () throws(BooksError) in _ = try ro.applyConfiguration([RecordConfig(key: usdc, creditLimit: Amount("1"))], defaultExchange: nil) }),
        ]
        for (what, attempt) in attempts {
            do {
                try attempt()
                XCTFail("\(what) succeeded on a read-only attach")
            } catch {
                XCTAssertEqual(error, .segment(.readOnly(path: seg)), what)
            }
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: seg)), before, "a read-only attach changed the segment")
        XCTAssertEqual(try ro.get(usdc).state.slots[2], Amount("10"), "reads work")

        // The mapping itself: PROT_READ over a descriptor opened read-only, so even mprotect cannot make it writable.
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8).split(separator: "\n").filter { $0.hasSuffix(seg) }
        let roMap = try XCTUnwrap(maps.first { $0.split(separator: " ")[1] == "r--s" }, "\(maps)")
        let range = roMap.split(separator: " ")[0].split(separator: "-")
        let start = try XCTUnwrap(UInt(range[0], radix: 16)), end = try XCTUnwrap(UInt(range[1], radix: 16))
        let p = try XCTUnwrap(UnsafeMutableRawPointer(bitPattern: start))
        XCTAssertEqual(mprotect(p, Int(end - start), PROT_READ | PROT_WRITE), -1)
        XCTAssertEqual(errno, EACCES)
        // And the CLI's readers attach read-only: a reader on a file the caller may only read works.
        XCTAssertEqual(chmod(seg, 0o400), 0)
        if getuid() != 0 {
            XCTAssertEqual(try runShmbal(["get", "USDC", "--segment", seg] + ex).status, 0)
        }
    }
}
