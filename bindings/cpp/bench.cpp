// The cost of one allocate + release from C++: through StrategyBalanceManager (currency by name,
// record handle cached) and through the C ABI's record handle directly. Prints the median of
// RUNS runs of N pairs each, in ns per pair. Usage: bench [N] [RUNS]  (segment: $SHMBAL_SEGMENT)
// Build and run: bindings/bench.sh
#include "shmbalance.hpp"

using namespace shmbal;

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

template <typename F>
static double medianNsPerPair(int n, int runs, F &&pair) {
    std::vector<double> samples;
    for (int r = 0; r < runs; r++) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; i++) pair();
        auto t1 = std::chrono::steady_clock::now();
        samples.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / n);
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

int main(int argc, char **argv) {
    int n = argc > 1 ? std::atoi(argv[1]) : 1000000;
    int runs = argc > 2 ? std::atoi(argv[2]) : 7;
    StrategyBalanceManager manager(Exchange::KRAKEN, 8);
    manager.reset(Currency::USDC, 1000000.0);
    for (int i = 0; i < 1000; i++) manager.allocate(Currency::USDC, 2, 1.0), manager.release(Currency::USDC, 2, 1.0);  // warm up
    double viaManager = medianNsPerPair(n, runs, [&] {
        manager.allocate(Currency::USDC, 2, 100.0);
        manager.release(Currency::USDC, 2, 100.0);
    });
    shmbal_record record;
    shmbal::check(shmbal_record_find(manager.handle(), "KRAKEN", "USDC", &record));
    double viaC = medianNsPerPair(n, runs, [&] {
        if (shmbal_record_allocate(record, 2, 100.0) || shmbal_record_release(record, 2, 100.0)) std::abort();
    });
    double byKey = medianNsPerPair(n / 4, runs, [&] {
        if (shmbal_allocate(manager.handle(), "KRAKEN", "USDC", 2, 100.0) ||
            shmbal_release(manager.handle(), "KRAKEN", "USDC", 2, 100.0)) std::abort();
    });
    shmbal::StrategyBalance b = manager.get(Currency::USDC);
    if (!b.identity_holds || b.slots[2] != 0.0) return 1;
    std::printf("C++ StrategyBalanceManager allocate+release: %.0f ns (median of %d runs x %d pairs)\n", viaManager, runs, n);
    std::printf("C   shmbal_record_allocate+release:          %.0f ns\n", viaC);
    std::printf("C   shmbal_allocate+release by key:          %.0f ns\n", byKey);
    return 0;
}
