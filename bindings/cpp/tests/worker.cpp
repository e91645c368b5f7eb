// A strategy process for the cross-language test (Tests/BindingsTests/CrossLanguageTests.swift).
// Usage: worker INDEX SEED MIN_OPS. Signals (TEST, CONTROL, CPP<INDEX>) when ready, waits for
// (TEST, CONTROL, GO), then allocates, releases and adjusts KRAKEN USDC at random until it sees
// (TEST, CONTROL, STOP) and has done MIN_OPS; prints its applied totals in cents:
// "allocated released adjusted applied refused".
#include "shmbalance.hpp"

using namespace shmbal;

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

static bool seen(const char *name) {
    try {
        ShareMemorySingleQuote::get(Exchange("TEST"), DataType("CONTROL"), Currency(name));
        return true;
    } catch (const shmbal::NotFound &) {
        return false;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    int index = std::atoi(argv[1]);
    std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
    long long minOps = std::atoll(argv[3]);
    StrategyBalanceManager manager(Exchange::KRAKEN);
    std::string ready = "CPP" + std::to_string(index);
    ShareMemorySingleQuote::write(Exchange("TEST"), DataType("CONTROL"), Currency(ready.c_str()), SingleQuote{0, 0, 1.0});
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!seen("GO")) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "worker: no GO within 120 s\n");
            return 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    long long allocated = 0, released = 0, adjusted = 0, applied = 0, refused = 0, ops = 0;
    while (ops < minOps || !(ops % 256 == 0 && seen("STOP"))) {
        ops++;
        int op = int(rng() % 3);
        long long cents = 1 + (long long)(rng() % 500);
        try {
            if (op == 0) {
                manager.allocate(Currency::USDC, index, double(cents) / 100);
                allocated += cents;
            } else if (op == 1) {
                manager.release(Currency::USDC, index, double(cents) / 100);
                released += cents;
            } else {
                long long delta = rng() % 2 ? cents : -cents;
                manager.adjust(Currency::USDC, double(delta) / 100);
                adjusted += delta;
            }
            applied++;
        } catch (const shmbal::Refused &) {
            refused++;
        }
    }
    std::printf("%lld %lld %lld %lld %lld\n", allocated, released, adjusted, applied, refused);
    return 0;
}
