import ShmBalanceTestSupport
import XCTest

/// The C++ header (bindings/cpp/shmbalance.hpp) and the C header, compiled with g++/gcc against
/// the built libshmbalance.so and run as child processes.
final class CppBindingTests: XCTestCase {
    func testSeedExamplesCompileAndRun() throws {
        let dir = TempDirectory()
        let exe = try XCTUnwrap(try compileCpp("tests/seed_examples.cpp", into: dir))
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "USDT Balance: 10000\nseed examples: ok\n")
    }

    func testBadInputThrowsTheCoresMessage() throws {
        let dir = TempDirectory()
        let exe = try XCTUnwrap(try compileCpp("tests/bad_input.cpp", into: dir))
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "bad input: ok\n")
    }

    func testThreadsShareAManager() throws {
        let dir = TempDirectory()
        let exe = try XCTUnwrap(try compileCpp("tests/threads.cpp", into: dir))
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "threads: ok\n")
    }

    /// The C header is plain C99 and usable without the C++ layer.
    func testCHeaderCompilesAsC() throws {
        let dir = TempDirectory()
        let source = dir.path + "/abi.c"
        try """
        #include "shmbalance.h"
        #include <stdio.h>
        #include <string.h>
        int main(void) {
            shmbal_books b;
            shmbal_record r;
            shmbal_amount a;
            char text[64];
            if (shmbal_abi_version() != SHMBAL_ABI_VERSION) return 1;
            if (shmbal_open(NULL, SHMBAL_OPEN_CREATE, &b) != SHMBAL_OK) return 2;
            if (shmbal_reset_text(b, "kraken", "usdc", "10000.00", 5) != SHMBAL_OK) return 3;
            if (shmbal_record_find(b, "KRAKEN", "USDC", &r) != SHMBAL_OK) return 4;
            if (shmbal_record_allocate(r, 2, 0.1) != SHMBAL_OK) return 5;
            if (shmbal_record_balance(r, 1, NULL, &a) != SHMBAL_OK) return 6;
            if (shmbal_amount_format(a, text, sizeof text) != SHMBAL_OK) return 7;
            if (shmbal_record_release(r, 2, 0.2) != SHMBAL_REFUSED) return 8;
            printf("%s|%s|%d\\n", text, shmbal_last_error(), shmbal_last_refusal());
            return shmbal_close(b);
        }
        """.write(toFile: source, atomically: true, encoding: .utf8)
        let exe = dir.path + "/abi"
        let libDir = productsDirectory.path
        let cc = try runProgram(which("gcc"), ["-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-I", cHeaderDirectory, source,
                                       "-L", libDir, "-lshmbalance", "-Wl,-rpath," + libDir, "-o", exe], in: dir)
        XCTAssertEqual(cc.status, 0, cc.err)
        let r = try runProgram(exe, [], env: ["SHMBAL_SEGMENT": dir.segment], in: dir)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "9999.9|KRAKEN USDC #2: release 0.20 exceeds its budget 0.10|6\n")
    }
}
