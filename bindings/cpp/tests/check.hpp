// A minimal check for the C++ tests: print where and what, exit non-zero (the Swift test reports it).
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                             \
        }                                                                             \
    } while (0)

#define CHECK_EQ(a, b)                                                                        \
    do {                                                                                      \
        auto va_ = (a);                                                                       \
        auto vb_ = (b);                                                                       \
        if (!(va_ == vb_)) {                                                                  \
            std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s\n  got:  %s\n  want: %s\n", \
                         __FILE__, __LINE__, #a, #b, show(va_).c_str(), show(vb_).c_str());   \
            std::exit(1);                                                                     \
        }                                                                                     \
    } while (0)

// Runs `body`, which must throw `E` whose what() is `message`.
#define CHECK_THROWS(E, message, body)                                                            \
    do {                                                                                          \
        bool thrown_ = false;                                                                     \
        try {                                                                                     \
            body;                                                                                 \
        } catch (const E &e_) {                                                                   \
            thrown_ = true;                                                                       \
            if (std::string(e_.what()) != std::string(message)) {                                 \
                std::fprintf(stderr, "%s:%d: %s threw \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                             #body, e_.what(), std::string(message).c_str());                     \
                std::exit(1);                                                                     \
            }                                                                                     \
        }                                                                                         \
        if (!thrown_) {                                                                           \
            std::fprintf(stderr, "%s:%d: %s did not throw %s\n", __FILE__, __LINE__, #body, #E);  \
            std::exit(1);                                                                         \
        }                                                                                         \
    } while (0)

inline std::string show(const std::string &s) { return "\"" + s + "\""; }
inline std::string show(const char *s) { return show(std::string(s)); }
inline std::string show(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.17g", v);
    return b;
}
inline std::string show(long long v) { return std::to_string(v); }
inline std::string show(long v) { return std::to_string(v); }
inline std::string show(int v) { return std::to_string(v); }
inline std::string show(unsigned long v) { return std::to_string(v); }
inline std::string show(unsigned long long v) { return std::to_string(v); }
inline std::string show(bool v) { return v ? "true" : "false"; }
