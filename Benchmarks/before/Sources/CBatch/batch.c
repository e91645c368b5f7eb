#include "CBatch.h"

int64_t batch_opaque(int64_t v) { return v; }
