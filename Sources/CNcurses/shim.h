// ncursesw for Swift. SwiftPM drops the -D flags pkg-config gives, so the wide-character API is
// switched on here, before the header. Macros Swift cannot import become static inline functions.
#ifndef SHMBAL_CNCURSES_SHIM_H
#define SHMBAL_CNCURSES_SHIM_H

#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <ncurses.h>

static inline attr_t shmbal_a_normal(void) { return A_NORMAL; }
static inline attr_t shmbal_a_bold(void) { return A_BOLD; }
static inline attr_t shmbal_a_dim(void) { return A_DIM; }
static inline attr_t shmbal_a_reverse(void) { return A_REVERSE; }
static inline attr_t shmbal_a_underline(void) { return A_UNDERLINE; }

/// The screen's window (`stdscr` is a global Swift 6 will not touch).
static inline WINDOW *shmbal_stdscr(void) { return stdscr; }

/// Sets the window's attributes and colour pair for what is written next (`wattr_set` is a macro).
static inline int shmbal_set_style(WINDOW *win, attr_t attrs, short pair) {
    return wattr_set(win, attrs, pair, NULL);
}

/// From term.h, declared alone: term.h itself defines a macro for every terminfo capability
/// (`lines`, `columns`, `tab` …), which nothing here wants in scope.
int tputs(const char *str, int affcnt, int (*putc)(int));

#endif
