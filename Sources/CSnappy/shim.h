#ifndef HP_CSNAPPY_SHIM_H
#define HP_CSNAPPY_SHIM_H
/* libsnappy's C API (snappy-c.h): raw block format, what Prometheus remote write uses. */
#include <snappy-c.h>
#endif
