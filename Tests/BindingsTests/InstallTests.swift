import Foundation
import ShmBalanceTestSupport
import XCTest

/// Issue 11: the bindings installed where strategies run. README.md's section "Install for C,
/// C++ and Python" is run as printed: its `build-machine` block here (with Swift), its
/// `strategy-host` blocks on a "strategy host": a mount namespace where /opt/swift is an empty
/// directory and /usr/local and /etc are overlays kept in a temporary directory, so the install,
/// `ldconfig` and the venv change nothing outside it. Every program's output is compared with
/// the README's `text output` block after it. The seed's examples then run from the wheel in a
/// fresh venv and against the installed prefix, and the shipped files are checked with readelf.
final class InstallTests: XCTestCase {
    /// What the README's build-machine block left in `work`: stage/usr/local, the tarball, dist/*.whl.
    struct Built: Sendable {
        let work: String
        var stage: String { work + "/stage/usr/local" }
        var tarball: String { work + "/shmbalance-dist.tar.gz" }
        func wheel() throws -> String {
            let names = try FileManager.default.contentsOfDirectory(atPath: work + "/dist").filter { $0.hasSuffix(".whl") }
            XCTAssertEqual(names.count, 1, "one wheel in dist: \(names)")
            return work + "/dist/" + (names.first ?? "")
        }
    }

    nonisolated(unsafe) static var built: Built?

    override class func tearDown() {
        if let b = built { try? FileManager.default.removeItem(atPath: b.work) }
        built = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root: the clean strategy host is a mount namespace (unshare -m) with /opt/swift hidden and overlays on /usr/local and /etc; run `swift test --filter InstallTests` as root, or bash .ci/run (CI does)")
        for tool in ["unshare", "mount", "readelf", "g++", "pkg-config", "cmake", "tar", "ldconfig"] {
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: which(tool)), "\(tool) is needed (bash .ci/run installs it)")
        }
    }

    // MARK: - the README's section

    struct Block {
        var language: String
        var tag: String
        var text: String
    }

    /// The fenced blocks of the section, with their info strings (```LANGUAGE TAG).
    static func installSection() throws -> [Block] {
        let readme = try String(contentsOfFile: repoRoot.appendingPathComponent("README.md").path, encoding: .utf8)
        guard let start = readme.range(of: "\n## Install for C, C++ and Python\n") else {
            XCTFail("README.md has no section \"Install for C, C++ and Python\"")
            return []
        }
        let rest = readme[start.upperBound...]
        let section = rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
        var blocks: [Block] = []
        var current: Block?
        for line in section.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                if let b = current {
                    blocks.append(b)
                    current = nil
                } else {
                    let info = line.dropFirst(3).split(separator: " ", maxSplits: 1).map(String.init)
                    current = Block(language: info.first ?? "", tag: info.count > 1 ? info[1] : "", text: "")
                }
            } else if current != nil {
                current!.text += line + "\n"
            }
        }
        XCTAssertNil(current, "an unclosed code block")
        return blocks
    }

    /// The README's build-machine block, run once as printed in a fresh directory whose
    /// `scripts` is this repository's.
    func build() throws -> Built {
        if let b = Self.built { return b }
        let blocks = try Self.installSection().filter { $0.language == "sh" && $0.tag == "build-machine" }
        XCTAssertEqual(blocks.count, 1, "one build-machine block")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("shmbal-install-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let b = Built(work: work)
        Self.built = b
        try FileManager.default.createSymbolicLink(atPath: work + "/scripts", withDestinationPath: repoRoot.path + "/scripts")
        try (blocks.first?.text ?? "").write(toFile: work + "/build.sh", atomically: true, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "/opt/swift/usr/bin:" + (env["PATH"] ?? "/usr/bin:/bin")
        let r = try run(["bash", "-euo", "pipefail", work + "/build.sh"], cwd: work, env: env, seconds: 1500)
        XCTAssertEqual(r.status, 0, "the README's build-machine block failed:\n\(r.out)\n\(r.err)")
        return b
    }

    /// Every strategy-host block in order, as one shell session (the venv stays activated) on a
    /// fresh strategy host; each block's output must end with the `text output` block after it.
    func testTheReadmeSectionRunsAsPrintedOnAStrategyHostWithoutSwift() throws {
        let built = try build()
        let blocks = try Self.installSection()
        let host = try StrategyHost(built)
        defer { host.remove() }
        for b in blocks where b.language != "sh" && b.language != "text" {
            XCTAssertFalse(b.tag.isEmpty, "a \(b.language) block without a file name")
            try b.text.write(toFile: host.cwd + "/" + b.tag, atomically: true, encoding: .utf8)
        }
        var script = ""
        var expected: [(block: Int, output: String)] = []
        var n = 0
        for (i, b) in blocks.enumerated() where b.language == "sh" && b.tag == "strategy-host" {
            n += 1
            script += "echo '@@ block \(n)'\n" + b.text
            if i + 1 < blocks.count, blocks[i + 1].language == "text", blocks[i + 1].tag == "output" {
                expected.append((n, blocks[i + 1].text))
            }
        }
        XCTAssertGreaterThanOrEqual(n, 4, "the host blocks: install, C++, CMake, Python")
        XCTAssertEqual(expected.count, 3, "the outputs of ./app, ./build/app and strategy.py")
        let r = try host.run(script + "echo '@@ end'\n", seconds: 900)
        XCTAssertEqual(r.status, 0, "a strategy-host block failed:\n\(r.out)\n\(r.err)")
        let outputs = r.out.components(separatedBy: "@@ block ").dropFirst().map { chunk -> (Int, String) in
            let number = Int(chunk.prefix { $0.isNumber }) ?? 0
            let body = chunk.drop { $0 != "\n" }.dropFirst()
            return (number, String(body).components(separatedBy: "@@ end\n")[0])
        }
        for (block, output) in expected {
            let got = outputs.first { $0.0 == block }?.1 ?? ""
            XCTAssertTrue(got.hasSuffix(output), "strategy-host block \(block) printed\n\(got)\nbut the README says\n\(output)")
        }
        // The C++ program ran against the installed library, found through the loader's cache.
        let ldd = try host.run("ldd ./app | grep shmbalance")
        XCTAssertTrue(ldd.out.contains("libshmbalance.so.1 => /usr/local/lib/libshmbalance.so.1"), ldd.out)
    }

    /// The seed's Python examples (and the bad-input and hot-call tests) from the wheel in a fresh
    /// venv, and the seed's C++ examples built with pkg-config against the installed prefix, on a
    /// host without Swift.
    func testTheSeedExamplesRunFromTheWheelAndThePrefixWithoutSwift() throws {
        let built = try build()
        let host = try StrategyHost(built)
        defer { host.remove() }
        let tests = host.cwd + "/pytests"
        try FileManager.default.createDirectory(atPath: tests, withIntermediateDirectories: true)
        for name in ["conftest.py", "test_seed_examples.py", "test_bad_input.py", "test_hot.py", "seed"] {
            try FileManager.default.copyItem(atPath: pythonDirectory + "/tests/" + name, toPath: tests + "/" + name)
        }
        for name in ["seed_examples.cpp", "bad_input.cpp", "check.hpp"] {
            try FileManager.default.copyItem(atPath: cppDirectory + "/tests/" + name, toPath: host.cwd + "/" + name)
        }
        // pytest comes from the system's site-packages (--system-site-packages); the package
        // from the wheel, which the venv's own site-packages puts first (checked below).
        let r = try host.run("""
            tar -C / -xzf \(built.tarball) && ldconfig
            python3 -m venv --system-site-packages venv && . venv/bin/activate
            pip install \(try built.wheel())
            python -c 'import shmbalance, shmbalance._native as n; n.library(); print(shmbalance.__file__, n.loaded_path(), shmbalance.EXTENSION)'
            SHMBAL_CLI=/usr/local/bin/shmbal SHMBAL_EXPECT_EXTENSION=1 python -m pytest -q -p no:cacheprovider pytests
            for t in seed_examples bad_input; do g++ -std=c++17 -Wall -Werror -pthread $t.cpp $(pkg-config --cflags --libs shmbalance) -o $t && ./$t; done
            """, seconds: 900)
        XCTAssertEqual(r.status, 0, "\(r.out)\n\(r.err)")
        let site = host.cwd + "/venv/lib/"
        let line = r.out.split(separator: "\n").first { $0.contains("shmbalance/__init__.py") }.map(String.init) ?? ""
        let parts = line.split(separator: " ").map(String.init)
        XCTAssertEqual(parts.count, 3, r.out)
        if parts.count == 3 {
            XCTAssertTrue(parts[0].hasPrefix(site) && parts[1].hasPrefix(site) && parts[1].hasSuffix("/shmbalance/libshmbalance.so.1"), line)
            XCTAssertEqual(parts[2], "True", "the wheel's C extension is in use")
        }
        let pytests = ["test_seed_examples.py", "test_bad_input.py", "test_hot.py"].map {
            (try? String(contentsOfFile: pythonDirectory + "/tests/" + $0, encoding: .utf8))?.components(separatedBy: "\ndef test_").count ?? 1
        }.reduce(0) { $0 + $1 - 1 }
        XCTAssertTrue(r.out.contains("\(pytests) passed"), "expected \(pytests) passed:\n\(r.out)")
        XCTAssertTrue(r.out.contains("USDT Balance: 10000\nseed examples: ok\n"), r.out)
        XCTAssertTrue(r.out.contains("bad input: ok\n"), r.out)
    }

    /// A prefix the loader does not search: the README's rpath, CMAKE_PREFIX_PATH, and without the
    /// rpath the loader's own words.
    func testAnotherPrefixWorksWithAnRpath() throws {
        let built = try build()
        let prefix = built.work + "/opt-shmbalance"
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = "/opt/swift/usr/bin:" + (env["PATH"] ?? "/usr/bin:/bin")
        let install = try run([repoRoot.path + "/scripts/install-lib", prefix], cwd: built.work, env: env, seconds: 1500)
        XCTAssertEqual(install.status, 0, install.err)
        XCTAssertTrue(install.out.contains("\(prefix)/lib is not on the loader's path: link with -Wl,-rpath,\(prefix)/lib"), install.out)
        XCTAssertTrue(install.out.contains("for the CLI: export PATH=\"\(prefix)/bin:$PATH\""), install.out)
        let host = try StrategyHost(built)
        defer { host.remove() }
        let app = try XCTUnwrap(try Self.installSection().first { $0.tag == "app.cpp" }).text
        try app.write(toFile: host.cwd + "/app.cpp", atomically: true, encoding: .utf8)
        try """
            cmake_minimum_required(VERSION 3.16)
            project(app CXX)
            find_package(ShmBalance 1.0 REQUIRED)
            add_executable(app app.cpp)
            target_compile_features(app PRIVATE cxx_std_17)
            target_link_libraries(app PRIVATE ShmBalance::shmbalance)
            """.write(toFile: host.cwd + "/CMakeLists.txt", atomically: true, encoding: .utf8)
        let r = try host.run("""
            export PKG_CONFIG_PATH=\(prefix)/lib/pkgconfig
            g++ -std=c++17 app.cpp $(pkg-config --cflags --libs shmbalance) -Wl,-rpath,\(prefix)/lib -o app-rpath && ./app-rpath
            g++ -std=c++17 app.cpp $(pkg-config --cflags --libs shmbalance) -o app-plain
            if ./app-plain 2>plain.err; then echo "ran without an rpath"; exit 1; fi; cat plain.err
            LD_LIBRARY_PATH=\(prefix)/lib ./app-plain
            cmake -S . -B build -DCMAKE_PREFIX_PATH=\(prefix) >/dev/null && cmake --build build >/dev/null && ./build/app
            \(prefix)/bin/shmbal balance USDC --index 1
            """)
        XCTAssertEqual(r.status, 0, "\(r.out)\n\(r.err)")
        let output = try XCTUnwrap(try Self.installSection().first { $0.language == "text" && $0.tag == "output" }).text
        XCTAssertEqual(r.out.components(separatedBy: output).count - 1, 3, "app-rpath, app-plain with LD_LIBRARY_PATH, CMake's app:\n\(r.out)")
        XCTAssertTrue(r.out.contains("libshmbalance.so.1: cannot open shared object file"), r.out)
        XCTAssertTrue(r.out.hasSuffix("8500.00\n"), r.out)
        // The version file: major 1 only, and not a newer one than installed.
        for (wanted, ok) in [("1", true), ("1.0.0", true), ("2", false), ("1.1", false)] {
            let v = try host.run("""
                sed -i 's/find_package(ShmBalance [0-9.]* REQUIRED)/find_package(ShmBalance \(wanted) REQUIRED)/' CMakeLists.txt
                rm -rf b && cmake -S . -B b -DCMAKE_PREFIX_PATH=\(prefix) >/dev/null 2>&1
                """)
            XCTAssertEqual(v.status == 0, ok, "find_package(ShmBalance \(wanted))")
        }
    }

    // MARK: - the figures

    /// The library: SONAME, only system NEEDED entries, no RUNPATH, exactly the header's
    /// functions exported, stripped; the CLI and the extension likewise need no Swift.
    func testTheShippedFilesAreSelfContained() throws {
        let built = try build()
        let lib = built.stage + "/lib/libshmbalance.so.1"
        let dynamic = try tool(["readelf", "-d", "-W", lib])
        XCTAssertTrue(dynamic.contains("(SONAME)             Library soname: [libshmbalance.so.1]"), dynamic)
        XCTAssertEqual(Self.needed(dynamic), ["libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libc.so.6", "ld-linux-x86-64.so.2"])
        XCTAssertFalse(dynamic.contains("RUNPATH") || dynamic.contains("RPATH"), dynamic)
        let exported = Set(try Self.exportedSymbols(lib))
        let header = try Self.headerFunctions()
        XCTAssertEqual(exported, header, "libshmbalance.so.1 exports the header's functions, nothing else")
        XCTAssertEqual(exported.count, HoldBindingTests.exportCount, "GLOBAL shmbal_* symbols")
        XCTAssertTrue(exported.contains("shmbal_record_read") && !exported.contains("shmbal_now_micros_slow"), "\(exported)")
        let sections = try tool(["readelf", "-S", "-W", lib])
        XCTAssertFalse(sections.contains(".symtab") || sections.contains(".debug_"), "stripped")
        let size = try FileManager.default.attributesOfItem(atPath: lib)[.size] as? Int ?? 0
        XCTAssertLessThan(size, 12_000_000, "the README says 8.0 MB")
        print("libshmbalance.so.1: \(size) bytes, \(exported.count) exports, NEEDED \(Self.needed(dynamic))")
        XCTAssertTrue(FileManager.default.fileExists(atPath: built.stage + "/lib/libshmbalance.so"))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: built.stage + "/lib/libshmbalance.so"), "libshmbalance.so.1")

        let cli = built.stage + "/bin/shmbal"
        let cliDynamic = try tool(["readelf", "-d", "-W", cli])
        XCTAssertEqual(Set(Self.needed(cliDynamic)), ["libncursesw.so.6", "libtinfo.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                                                      "libc.so.6", "ld-linux-x86-64.so.2"])
        XCTAssertFalse(cliDynamic.contains("RUNPATH") || cliDynamic.contains("RPATH"), cliDynamic)

        // The wheel carries the same library, and an extension that needs only libc.
        let dir = TempDirectory()
        let unzip = try run(["python3", "-m", "zipfile", "-e", try built.wheel(), dir.path], cwd: dir.path)
        XCTAssertEqual(unzip.status, 0, unzip.err)
        XCTAssertEqual(FileManager.default.contents(atPath: dir.path + "/shmbalance/libshmbalance.so.1"), FileManager.default.contents(atPath: lib))
        let ext = try tool(["readelf", "-d", "-W", dir.path + "/shmbalance/_speedups.abi3.so"])
        XCTAssertEqual(Self.needed(ext), ["libc.so.6"])
        let wheelInfo = try String(contentsOfFile: dir.path + "/shmbalance-0.2.0.dist-info/WHEEL", encoding: .utf8)
        XCTAssertTrue(wheelInfo.contains("Root-Is-Purelib: false\n") && wheelInfo.contains("Tag: cp310-abi3-linux_x86_64\n"), wheelInfo)
        let record = try String(contentsOfFile: dir.path + "/shmbalance-0.2.0.dist-info/RECORD", encoding: .utf8)
        XCTAssertTrue(record.contains("shmbalance/_speedups.abi3.so,sha256="), record)
    }

    /// The NEEDED entries of `readelf -d` output, in order.
    static func needed(_ readelf: String) -> [String] {
        readelf.split(separator: "\n").compactMap { line in
            guard line.contains("(NEEDED)"), let a = line.firstIndex(of: "["), let b = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: a)..<b])
        }
    }

    /// Defined GLOBAL/WEAK symbols of `.dynsym` (what another object can link against; the
    /// LOCAL ones SwiftPM's -export-dynamic leaves there cannot be).
    static func exportedSymbols(_ path: String) throws -> [String] {
        let out = try toolOutput(["readelf", "--dyn-syms", "-W", path])
        return out.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, f[4] == "GLOBAL" || f[4] == "WEAK", f[6] != "UND" else { return nil }
            return String(f[7])
        }
    }

    /// Every function declared in shmbalance.h.
    static func headerFunctions() throws -> Set<String> {
        let text = try String(contentsOfFile: cHeaderDirectory + "/shmbalance.h", encoding: .utf8)
        let re = try NSRegularExpression(pattern: #"^[A-Za-z_][A-Za-z0-9_ ]*[ *](shmbal_[a-z0-9_]+)\("#, options: [.anchorsMatchLines])
        return Set(re.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range(at: 1), in: text)!]) })
    }

    func run(_ args: [String], cwd: String, env: [String: String] = ProcessInfo.processInfo.environment, seconds: Double = 300)
        throws -> (status: Int32, out: String, err: String) {
        try runCommand(args, cwd: cwd, env: env, seconds: seconds)
    }

    func tool(_ args: [String]) throws -> String { try toolOutput(args) }
}

/// Runs `args` (args[0] looked up on PATH) to completion, output in files (no pipe can stall it).
func runCommand(_ args: [String], cwd: String, env: [String: String] = ProcessInfo.processInfo.environment, seconds: Double = 300,
                file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, out: String, err: String) {
    let dir = TempDirectory()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : which(args[0]))
    p.arguments = Array(args.dropFirst())
    p.environment = env
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    _ = FileManager.default.createFile(atPath: dir.path + "/out", contents: nil)
    _ = FileManager.default.createFile(atPath: dir.path + "/err", contents: nil)
    p.standardOutput = FileHandle(forWritingAtPath: dir.path + "/out")
    p.standardError = FileHandle(forWritingAtPath: dir.path + "/err")
    try p.run()
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        XCTFail("\(args) did not finish within \(seconds) s", file: file, line: line)
    }
    p.waitUntilExit()
    return (p.terminationStatus, (try? String(contentsOfFile: dir.path + "/out", encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: dir.path + "/err", encoding: .utf8)) ?? "")
}

/// The standard output of a tool that must succeed.
func toolOutput(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let r = try runCommand(args, cwd: "/", file: file, line: line)
    XCTAssertEqual(r.status, 0, "\(args): \(r.err)", file: file, line: line)
    return r.out
}

/// A strategy host: bash in a mount namespace where /opt/swift is an empty directory and
/// /usr/local and /etc are overlays whose upper layers live in this host's directory (what a
/// script installs there stays for the host's next script, and nothing changes outside). Its
/// environment is a clean one: no Swift on PATH, no SHMBAL_LIBRARY, PYTHONPATH or LD_LIBRARY_PATH,
/// pip offline, the segment inside the host's directory.
struct StrategyHost {
    let root: String
    var cwd: String { root + "/home" }

    init(_ built: InstallTests.Built) throws {
        root = built.work + "/host-\(UUID().uuidString.prefix(8))"
        for d in ["home", "empty", "local.upper", "local.work", "etc.upper", "etc.work"] {
            try FileManager.default.createDirectory(atPath: root + "/" + d, withIntermediateDirectories: true)
        }
        for name in ["shmbalance-dist.tar.gz", "dist"] {
            try FileManager.default.createSymbolicLink(atPath: cwd + "/" + name, withDestinationPath: built.work + "/" + name)
        }
    }

    func run(_ script: String, seconds: Double = 300) throws -> (status: Int32, out: String, err: String) {
        try script.write(toFile: root + "/script.sh", atomically: true, encoding: .utf8)
        let setup = """
            set -e
            mount --bind \(root)/empty /opt/swift
            mount -t overlay overlay -o lowerdir=/usr/local,upperdir=\(root)/local.upper,workdir=\(root)/local.work /usr/local
            mount -t overlay overlay -o lowerdir=/etc,upperdir=\(root)/etc.upper,workdir=\(root)/etc.work /etc
            [ -z "$(ls -A /opt/swift)" ] && ! command -v swift >/dev/null
            cd \(cwd)
            exec bash -euo pipefail \(root)/script.sh
            """
        var env: [String: String] = [:]
        let inherited = ProcessInfo.processInfo.environment
        for key in ["HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", "PYENV_ROOT", "PYENV_VERSION"] { env[key] = inherited[key] }
        let path = (inherited["PATH"] ?? "/usr/bin:/bin").split(separator: ":").filter { !$0.contains("/opt/swift") && !$0.contains(".build") }
        env["PATH"] = (["/usr/local/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"] + path.map(String.init)).joined(separator: ":")
        env["SHMBAL_SEGMENT"] = root + "/segment"
        env["PIP_NO_INDEX"] = "1"
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        env["PIP_NO_CACHE_DIR"] = "1"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["SWIFT_BACKTRACE"] = "enable=no"
        return try runCommand(["unshare", "-m", "--propagation", "private", "bash", "-c", setup], cwd: cwd, env: env, seconds: seconds)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}
