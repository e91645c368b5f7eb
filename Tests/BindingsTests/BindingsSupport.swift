import CShmBalance
import Foundation
import ShmBalanceTestSupport
import XCTest

/// The repository root (the tests drive files under bindings/).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

let libraryPath = productsDirectory.appendingPathComponent("libshmbalance.so").path
let shmbalPath = productsDirectory.appendingPathComponent("shmbal").path
let cHeaderDirectory = repoRoot.appendingPathComponent("Sources/CShmBalance/include").path
let cppDirectory = repoRoot.appendingPathComponent("bindings/cpp").path
let pythonDirectory = repoRoot.appendingPathComponent("bindings/python").path

/// A private directory per test, removed afterwards; `segment` is a path inside it.
final class TempDirectory {
    let path: String
    var segment: String { path + "/seg" }

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("shmbal-bind-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process whose output goes to files (no pipe can fill up and stall it).
final class Child {
    let process = Process()
    let outPath: String
    let errPath: String
    let name: String

    init(_ executable: String, _ args: [String], env: [String: String] = [:], in dir: TempDirectory, name: String) throws {
        self.name = name
        outPath = dir.path + "/\(name).out"
        errPath = dir.path + "/\(name).err"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        for (k, v) in env { environment[k] = v }
        process.environment = environment
        process.currentDirectoryURL = repoRoot
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
    }

    /// Waits up to `seconds`; a child still running then is killed and reported.
    @discardableResult
    func wait(seconds: Double, file: StaticString = #filePath, line: UInt = #line) -> (status: Int32, out: String, err: String) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("\(name) did not finish within \(seconds) s; killed", file: file, line: line)
        }
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (process.terminationStatus, out, err)
    }
}

/// Runs a program to completion (bounded) and returns (status, stdout, stderr).
@discardableResult
func runProgram(_ executable: String, _ args: [String], env: [String: String] = [:], in dir: TempDirectory, seconds: Double = 300,
         file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, out: String, err: String) {
    let child = try Child(executable, args, env: env, in: dir, name: URL(fileURLWithPath: executable).lastPathComponent + "-\(UUID().uuidString.prefix(6))")
    return child.wait(seconds: seconds, file: file, line: line)
}

/// The environment the Python package needs: the built library and the package's source.
func pythonEnvironment(segment: String? = nil) -> [String: String] {
    var env = ["SHMBAL_LIBRARY": libraryPath, "PYTHONPATH": pythonDirectory, "SHMBAL_CLI": shmbalPath]
    if let segment { env["SHMBAL_SEGMENT"] = segment }
    return env
}

/// The path of a program on $PATH.
func which(_ name: String) -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return "/usr/bin/\(name)"
}

/// Compiles a C++ source of bindings/cpp (against shmbalance.hpp and the built library) into `dir`.
func compileCpp(_ source: String, into dir: TempDirectory, optimize: String = "-O1", file: StaticString = #filePath, line: UInt = #line) throws -> String? {
    let output = dir.path + "/" + URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
    let libDir = productsDirectory.path
    let result = try runProgram(which("g++"), ["-std=c++17", optimize, "-Wall", "-Wextra", "-Werror", "-pthread",
                                       "-I", cHeaderDirectory, "-I", cppDirectory, cppDirectory + "/" + source,
                                       "-L", libDir, "-lshmbalance", "-Wl,-rpath," + libDir, "-o", output],
                         in: dir, seconds: 300, file: file, line: line)
    guard result.status == 0 else {
        XCTFail("g++ \(source) failed:\n\(result.err)", file: file, line: line)
        return nil
    }
    return output
}

/// The two ways the Python package makes its hot calls (allocate, release, get_balance).
enum PythonHotPath: String {
    /// The C extension `shmbalance._speedups`, built (bindings/python/ext/build) into a copy of the package.
    case `extension`
    /// ctypes, the fallback where the extension is absent (`$SHMBAL_PY_EXTENSION=0`).
    case ctypes
}

/// The environment that imports the package with `path` in use, and checks that it is
/// (`$SHMBAL_EXPECT_EXTENSION`, asserted by tests/test_hot.py).
func pythonEnvironment(_ path: PythonHotPath, in dir: TempDirectory, file: StaticString = #filePath, line: UInt = #line) throws -> [String: String] {
    var env = pythonEnvironment()
    switch path {
    case .ctypes:
        env["SHMBAL_PY_EXTENSION"] = "0"
        env["SHMBAL_EXPECT_EXTENSION"] = "0"
    case .extension:
        let package = dir.path + "/pkg/shmbalance"
        try FileManager.default.createDirectory(atPath: package, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: pythonDirectory + "/shmbalance")
        where name.hasSuffix(".py") || name == "py.typed" {
            try FileManager.default.copyItem(atPath: pythonDirectory + "/shmbalance/" + name, toPath: package + "/" + name)
        }
        let cc = try runProgram(pythonDirectory + "/ext/build", [package + "/_speedups.abi3.so", which("python3")], in: dir,
                                file: file, line: line)
        XCTAssertEqual(cc.status, 0, "building the extension failed:\n\(cc.err)", file: file, line: line)
        env["PYTHONPATH"] = dir.path + "/pkg"
        env["SHMBAL_EXPECT_EXTENSION"] = "1"
    }
    return env
}

/// Runs one pytest file of bindings/python/tests with the package's hot calls through `path`,
/// and checks that every test in it ran and passed.
func runPytest(_ testFile: String, _ path: PythonHotPath = .ctypes, seconds: Double = 300, file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertTrue(FileManager.default.fileExists(atPath: libraryPath), "libshmbalance.so was not built next to the tests", file: file, line: line)
    let dir = TempDirectory()
    let env = try pythonEnvironment(path, in: dir, file: file, line: line)
    let test = pythonDirectory + "/tests/" + testFile
    let source = try String(contentsOfFile: test, encoding: .utf8)
    let expected = source.components(separatedBy: "\ndef test_").count - 1
    let r = try runProgram(which("python3"), ["-m", "pytest", "-q", "-p", "no:cacheprovider", test],
                    env: env, in: dir, seconds: seconds, file: file, line: line)
    XCTAssertEqual(r.status, 0, "pytest \(testFile) (\(path)) failed:\n\(r.out)\n\(r.err)", file: file, line: line)
    XCTAssertTrue(r.out.contains("\(expected) passed"), "expected \(expected) passed tests in \(testFile):\n\(r.out)", file: file, line: line)
}

// The header's enums (shmbal_status, …) as the plain ints the C functions return and take.
extension shmbal_status { var code: Int32 { Int32(bitPattern: rawValue) } }
extension shmbal_refusal { var code: Int32 { Int32(bitPattern: rawValue) } }
extension shmbal_open_mode { var code: Int32 { Int32(bitPattern: rawValue) } }
extension shmbal_reconcile_kind { var code: Int32 { Int32(bitPattern: rawValue) } }
